"""moto's item calls answered by harvest.local.moto_json say what moto's own serializer says."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harvest.local import moto_json
from harvest.local.records import make_streams_client
from harvest.store.dynamo import make_client
from support.engine import ENGINE

pytestmark = pytest.mark.skipif(ENGINE != "moto", reason="answers of moto only")


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Every fast answer is checked against moto's serializer (a difference fails the call);
    returns the operations that took the fast path."""
    moto_json.install()
    monkeypatch.setenv("HARVEST_MOTO_JSON_CHECK", "1")
    taken: Counter[str] = Counter()
    fast = moto_json._fast

    def counting(response: Any, result: Any) -> Any:
        answer = fast(response, result)
        if answer is not None:
            taken[response._get_action()] += 1
        return answer

    monkeypatch.setattr(moto_json, "_fast", counting)
    return taken


def _item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **extra}


def test_item_and_stream_calls_answer_as_moto_does(table: str, compared: Counter[str]) -> None:
    client = make_client("us-east-1")
    rich = {
        "n": {"N": "1.50"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "m": {"M": {"inner": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}]}}},
        "empty": {"L": []},
        "type": {"S": "listing"},
    }
    for index in range(5):
        client.put_item(TableName=table, Item=_item("P#1", f"S#{index}", **rich))
    # The table's stream, read as the pollers read it (before any binary attribute is on it)
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = make_streams_client("us-east-1")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert len(streams.get_records(ShardIterator=iterator, Limit=100)["Records"]) == 5
    client.put_item(TableName=table, Item=_item("P#2", "S#0", payload={"B": b"\x00\x01"}))
    client.get_item(TableName=table, Key={"PK": {"S": "P#1"}, "SK": {"S": "S#0"}})
    client.get_item(TableName=table, Key={"PK": {"S": "P#9"}, "SK": {"S": "S#0"}})  # absent
    client.get_item(TableName=table, Key={"PK": {"S": "P#2"}, "SK": {"S": "S#0"}})  # binary
    for values in ("ALL_NEW", "ALL_OLD", "UPDATED_NEW", "NONE"):
        client.update_item(
            TableName=table,
            Key={"PK": {"S": "P#1"}, "SK": {"S": "S#1"}},
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues=values,
        )
    with pytest.raises(ClientError):  # an error: moto's own serializer answers
        client.put_item(
            TableName=table,
            Item=_item("P#1", "S#0"),
            ConditionExpression="attribute_not_exists(PK)",
        )
    page = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "P#1"}},
        Limit=2,
        ReturnConsumedCapacity="TOTAL",
    )
    assert "LastEvaluatedKey" in page
    client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "P#1"}},
        ExclusiveStartKey=page["LastEvaluatedKey"],
        Select="COUNT",
    )
    client.scan(TableName=table, FilterExpression="attribute_not_exists(payload)")
    keys = [{"PK": {"S": "P#1"}, "SK": {"S": f"S#{i}"}} for i in range(3)]
    client.batch_get_item(RequestItems={table: {"Keys": keys}})
    client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": _item("P#3", "S#0")}}]})
    client.transact_write_items(
        TransactItems=[{"Put": {"TableName": table, "Item": _item("P#4", "S#0")}}]
    )
    client.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": keys[0]}}])
    client.delete_item(TableName=table, Key=keys[2], ReturnValues="ALL_OLD")

    # Then every item call but the binary GetItem and the error took the fast path
    expected = {
        "PutItem": 6,
        "GetItem": 2,
        "UpdateItem": 4,
        "Query": 2,
        "Scan": 1,
        "BatchGetItem": 1,
        "BatchWriteItem": 1,
        "TransactWriteItems": 1,
        "TransactGetItems": 1,
        "DeleteItem": 1,
        "GetShardIterator": 1,
        "GetRecords": 1,
    }
    assert {op: compared[op] for op in expected} == expected
