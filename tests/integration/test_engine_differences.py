"""Behaviours where moto and DynamoDB Local differ, pinned per engine.

Each test states what each engine does, so the conformance run (HARVEST_TEST_ENGINE=
dynamodb-local) and the default moto run both pass, and a change in either engine shows up
here first. docs/local-runtime.md lists these differences and what our code does about them.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.engine import ENGINE

KEY = {"PK": {"S": "LISTING#probe-0001"}, "SK": {"S": "LISTING"}}


def test_short_table_names_are_refused_by_dynamodb_local_only(dynamodb: Any) -> None:
    request = {
        "TableName": "t",
        "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if ENGINE == "moto":
        dynamodb.create_table(**request)
        return
    with pytest.raises(ClientError) as caught:
        dynamodb.create_table(**request)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_eventually_consistent_query_capacity(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item=KEY)
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": KEY["PK"]},
        ReturnConsumedCapacity="TOTAL",
    )
    units = response["ConsumedCapacity"]["CapacityUnits"]
    # DynamoDB (and DynamoDB Local) charge half a unit for an eventually consistent read of
    # up to 4 KB; moto rounds every read up to a whole unit. Cost figures come from
    # DynamoDB Local for that reason.
    assert units == (1.0 if ENGINE == "moto" else 0.5)


def test_write_capacity_of_a_small_put_is_one_unit_on_both(dynamodb: Any, table: str) -> None:
    response = dynamodb.put_item(TableName=table, Item=KEY, ReturnConsumedCapacity="TOTAL")
    assert response["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_sse_description_is_reported_by_moto_only(dynamodb: Any, table: str) -> None:
    description = dynamodb.describe_table(TableName=table)["Table"]
    assert ("SSEDescription" in description) is (ENGINE == "moto")


def test_stream_arn_region_and_account(dynamodb: Any, table: str) -> None:
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    region, account = arn.split(":")[3:5]
    if ENGINE == "moto":
        assert (region, account) == ("us-east-1", "123456789012")
    else:
        # DynamoDB Local invents its own region and account for stream ARNs: the local
        # runtime passes the ARN through unchanged as eventSourceARN.
        assert (region, account) == ("ddblocal", "000000000000")


def test_return_values_on_condition_check_failure_on_both(dynamodb: Any, table: str) -> None:
    dynamodb.put_item(TableName=table, Item={**KEY, "version": {"N": "3"}})
    with pytest.raises(ClientError) as caught:
        dynamodb.put_item(
            TableName=table,
            Item=KEY,
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Item"]["version"] == {"N": "3"}  # type: ignore[typeddict-item]


def test_a_transaction_touching_one_item_twice_is_refused_on_both(
    dynamodb: Any, table: str
) -> None:
    put = {"Put": {"TableName": table, "Item": KEY}}
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[put, put])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
