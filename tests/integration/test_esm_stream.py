"""The local event source mapping reads a real stream: moto's, of the table built from
template.yaml, written through boto3 as the API writes it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

from harvest.local.deadletter import JsonLinesDeadLetterSink
from harvest.local.esm import StreamPoller
from harvest.local.filters import compile_pattern
from harvest.local.mappings import MappingConfig
from harvest.local.records import make_streams_client
from support.stream_fakes import RecordingHandler

CORE_LISTING_WRITES = json.dumps({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "LISTING#"}]}}}})


def _stream_arn(dynamodb: Any, table: str) -> str:
    arn: str = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return arn


def _put(dynamodb: Any, table: str, pk: str, **attributes: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": "META"}} | {
        name: {"S": value} for name, value in attributes.items()
    }
    dynamodb.put_item(TableName=table, Item=item)


def _config(**overrides: Any) -> MappingConfig:
    settings: dict[str, Any] = {
        "function_logical_id": "ListingConsumer",
        "handler": "harvest.consumers.listings.handler",
        "patterns": (compile_pattern(CORE_LISTING_WRITES),),
    }
    return MappingConfig(**(settings | overrides))


def _drain(poller: StreamPoller) -> None:
    for _ in range(50):
        if poller.poll_once().idle:
            return


def test_inserts_modifies_and_removes_reach_the_function_filtered(
    dynamodb: Any, table: str
) -> None:
    handler = RecordingHandler()
    arn = _stream_arn(dynamodb, table)
    poller = StreamPoller(_config(), make_streams_client("us-east-1"), arn, handler)

    _put(dynamodb, table, "LISTING#1", crop="tomato")
    _put(dynamodb, table, "AGG#9q8y#tomato", supply="5")  # a derived write: filtered out
    _put(dynamodb, table, "LISTING#1", crop="squash")
    dynamodb.delete_item(TableName=table, Key={"PK": {"S": "LISTING#1"}, "SK": {"S": "META"}})
    _drain(poller)

    records = [record for batch in handler.batches for record in batch]
    DynamoDBStreamModel.model_validate({"Records": records})
    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = (record["dynamodb"] for record in records)
    assert insert["NewImage"]["crop"] == {"S": "tomato"}
    assert "OldImage" not in insert
    assert modify["OldImage"]["crop"] == {"S": "tomato"}
    assert modify["NewImage"]["crop"] == {"S": "squash"}
    assert remove["OldImage"]["crop"] == {"S": "squash"}
    assert "NewImage" not in remove
    assert {record["eventSourceARN"] for record in records} == {arn}
    assert all(isinstance(r["dynamodb"]["ApproximateCreationDateTime"], float) for r in records)
    assert poller.totals.records_read == 4
    assert poller.totals.matched == 3


def test_a_poison_record_ends_in_the_dead_letter_file_and_later_records_flow(
    dynamodb: Any, table: str, tmp_path: Path
) -> None:
    def behaviour(records: list[dict[str, Any]]) -> None:
        if any(r["dynamodb"]["Keys"]["PK"]["S"] == "LISTING#poison" for r in records):
            raise ValueError("cannot process")

    handler = RecordingHandler(behaviour)
    sink = JsonLinesDeadLetterSink(tmp_path / "dlq" / "ListingConsumerDlq.jsonl")
    arn = _stream_arn(dynamodb, table)
    config = _config(
        bisect_on_error=True,
        maximum_retry_attempts=2,
        on_failure_destination="ListingConsumerDlq",
    )
    poller = StreamPoller(
        config, make_streams_client("us-east-1"), arn, handler, dlq=sink, sleep=lambda _s: None
    )

    for pk in ("LISTING#a", "LISTING#poison", "LISTING#b"):
        _put(dynamodb, table, pk)
    _drain(poller)
    _put(dynamodb, table, "LISTING#after")
    _drain(poller)

    [failure] = sink.read()
    DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure)
    poison_sequence = next(
        r["dynamodb"]["SequenceNumber"]
        for batch in handler.batches
        for r in batch
        if r["dynamodb"]["Keys"]["PK"]["S"] == "LISTING#poison"
    )
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (
        poison_sequence,
        poison_sequence,
    )
    assert (info["batchSize"], info["streamArn"]) == (1, arn)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    succeeded = [keys for keys in handler.pks() if "LISTING#poison" not in keys]
    assert sorted(pk for keys in succeeded for pk in keys) == [
        "LISTING#a",
        "LISTING#after",
        "LISTING#b",
    ]


def test_a_running_poller_picks_up_writes_and_drains_on_stop(dynamodb: Any, table: str) -> None:
    handler = RecordingHandler()
    arn = _stream_arn(dynamodb, table)
    poller = StreamPoller(
        _config(batch_size=5), make_streams_client("us-east-1"), arn, handler, idle_sleep_s=0.01
    )
    stop = threading.Event()
    thread = threading.Thread(target=poller.run, args=(stop,), name="esm-test")
    thread.start()
    try:
        for index in range(3):
            _put(dynamodb, table, f"LISTING#{index}")
        deadline = time.monotonic() + 10
        while sum(len(batch) for batch in handler.batches) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert [pk for keys in handler.pks() for pk in keys] == [f"LISTING#{i}" for i in range(3)]
