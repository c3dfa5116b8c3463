"""The local runtime's moto transaction patch keeps DynamoDB's all-or-nothing semantics."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from harvest.local import moto_patches
from support.engine import ENGINE

pytestmark = pytest.mark.skipif(ENGINE != "moto", reason="patches moto only")


@pytest.fixture(autouse=True)
def patched() -> None:
    moto_patches.apply()


def _put(table: str, pk: str, **extra: Any) -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": "X"}, **extra}
    return {
        "Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    }


def _get(dynamodb: Any, table: str, pk: str) -> Any:
    return dynamodb.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "X"}}).get("Item")


def test_all_operations_apply_when_every_condition_holds(dynamodb: Any, table: str) -> None:
    dynamodb.transact_write_items(TransactItems=[_put(table, "A"), _put(table, "B")])
    assert _get(dynamodb, table, "A") is not None
    assert _get(dynamodb, table, "B") is not None


def test_one_failed_condition_cancels_everything_and_reports_positions(
    dynamodb: Any, table: str
) -> None:
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "B"}, "SK": {"S": "X"}, "v": {"N": "1"}})
    failing = _put(table, "B")
    failing["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[_put(table, "A"), failing])
    response: Any = caught.value.response
    reasons = response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert reasons[1]["Item"]["v"] == {"N": "1"}
    assert _get(dynamodb, table, "A") is None


def test_condition_check_guards_without_writing(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={"PK": {"S": "L"}, "SK": {"S": "X"}, "q": {"N": "1"}})
    check = {
        "ConditionCheck": {
            "TableName": table,
            "Key": {"PK": {"S": "L"}, "SK": {"S": "X"}},
            "ConditionExpression": "q >= :want",
            "ExpressionAttributeValues": {":want": {"N": "2"}},
        }
    }
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[_put(table, "C"), check])
    assert _get(dynamodb, table, "C") is None


def test_a_failing_update_restores_the_items_already_written(dynamodb: Any, table: str) -> None:
    bad_update = {
        "Update": {
            "TableName": table,
            "Key": {"PK": {"S": "U"}, "SK": {"S": "X"}},
            "UpdateExpression": "SET n = n + :one",  # n does not exist: fails while applying
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[_put(table, "D"), bad_update])
    assert _get(dynamodb, table, "D") is None


def test_the_same_item_twice_is_a_validation_error(dynamodb: Any, table: str) -> None:
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[_put(table, "E"), _put(table, "E")])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
