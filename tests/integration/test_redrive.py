"""`harvest redrive`: DLQ entries of the local runtime (and of an SQS queue) are re-processed
from the stream once their cause is fixed; when the stream no longer holds the records, the
aggregator's keys are rebuilt, and the publisher's entry stays."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from harvest.cli.main import main
from harvest.consumers import derivation
from harvest.local.records import make_streams_client
from harvest.store.derived import marker_key
from harvest.store.dynamo import make_client
from harvest.tools.template import load_template
from support import payloads
from support.apigw import Api
from support.engine import ENGINE
from support.runtime import clear_container_caches, running_runtime, wait_for

TABLE = "harvest-local"  # the runtime's default table


@dataclass
class Poison:
    """The aggregator fails on listings whose notes say "poison" while `active`."""

    active: bool = True


@pytest.fixture(autouse=True)
def fresh_containers() -> Iterator[None]:
    """Each redrive imports and calls the handlers in this process, like a new container."""
    clear_container_caches()
    yield
    clear_container_caches()


@pytest.fixture
def poison(monkeypatch: pytest.MonkeyPatch) -> Poison:
    state = Poison()
    original = derivation.aggregate_record

    def failing(record: Mapping[str, Any]) -> tuple[str, ...]:
        notes = record["dynamodb"].get("NewImage", {}).get("notes", {}).get("S")
        if state.active and notes == "poison":
            raise RuntimeError("poison listing")
        return original(record)

    monkeypatch.setattr(derivation, "aggregate_record", failing)
    return state


def _template() -> dict[str, Any]:
    """The aggregator gives a record up at once (no retries), so the DLQ fills quickly."""
    template = copy.deepcopy(load_template())
    stream = template["Resources"]["AggregatorFunction"]["Properties"]["Events"]["Stream"]
    stream["Properties"].update(MaximumRetryAttempts=0, MaximumBatchingWindowInSeconds=0)
    return template


def _aggregated(client: Any, listing_id: str) -> bool:
    key = marker_key(f"LISTING#{listing_id}")
    found = client.get_item(
        TableName=TABLE, Key={"PK": {"S": key["PK"]}, "SK": {"S": key["SK"]}}, ConsistentRead=True
    )
    return "Item" in found


@dataclass(frozen=True)
class Poisoned:
    dlq: Path
    client: Any
    poison_id: str


@contextmanager
def _poisoned_runtime(data: Path) -> Iterator[Poisoned]:
    """A running runtime: two listings aggregated, a poison one dead-lettered."""
    with running_runtime(data, _template()) as (runtime, http):
        made = [http.call("POST", "/listings", payloads.listing(), user="g") for _ in range(2)]
        bad = http.call("POST", "/listings", payloads.listing(notes="poison"), user="g")
        assert all(r.status == 201 for r in [*made, bad])
        dlq = data / "dlq" / "AggregatorFunction.jsonl"
        wait_for(lambda: dlq.exists() and dlq.read_text().strip())
        client = make_client("us-east-1", runtime.engine.endpoint_url)
        wait_for(lambda: all(_aggregated(client, r.body["listingId"]) for r in made))
        assert not _aggregated(client, bad.body["listingId"])
        yield Poisoned(dlq, client, bad.body["listingId"])


def test_a_dead_lettered_range_is_redriven_from_the_running_runtimes_stream(
    tmp_path: Path, poison: Poison, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with _poisoned_runtime(data) as poisoned:
        assert main(["audit", "--data-dir", str(data)]) == 1
        # The publisher's DLQ names the same range: its events go to the runtime's events.jsonl.
        failure = json.loads(poisoned.dlq.read_text())
        failure["requestContext"]["functionArn"] = failure["requestContext"]["functionArn"].replace(
            "aggregator", "publisher"
        )
        publisher_dlq = data / "dlq" / "PublisherFunction.jsonl"
        publisher_dlq.write_text(json.dumps(failure) + "\n")

        poison.active = False
        capsys.readouterr()
        assert main(["redrive", "--data-dir", str(data)]) == 0
        output = capsys.readouterr()
        assert "redriven 2 entries (2 records), rebuilt 0, left 0" in output.out
        assert "AggregatorFunction shard" in output.err
        assert "PublisherFunction shard" in output.err
        assert poisoned.dlq.read_text() == publisher_dlq.read_text() == ""
        assert _aggregated(poisoned.client, poisoned.poison_id)
        events = (data / "events.jsonl").read_text().splitlines()
        created = [e for e in events if poisoned.poison_id in e and "listing.created" in e]
        assert len(created) == 2  # once live, once redriven: the same deterministic id
        assert len({json.loads(e)["Detail"] for e in created}) == 1
        # Workers downstream of the buckets (insights) follow them through the stream.
        wait_for(lambda: main(["audit", "--data-dir", str(data)]) == 0)


def test_records_gone_from_the_stream_make_the_redrive_rebuild_the_aggregates(
    tmp_path: Path, poison: Poison, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    with _poisoned_runtime(data) as poisoned:
        # The entry names a stream the table no longer has (as after a table re-creation).
        failure = json.loads(poisoned.dlq.read_text())
        info = failure["DDBStreamBatchInfo"]
        stale = info["streamArn"].rsplit("/stream/", 1)[0] + "/stream/2020-01-01T00:00:00.000"
        info["streamArn"] = stale
        entry = json.dumps(failure) + "\n"
        poisoned.dlq.write_text(entry)
        poison.active = False
        capsys.readouterr()

        assert main(["redrive", "--data-dir", str(data), "--dry-run"]) == 0
        output = capsys.readouterr()
        assert "dry run: would redrive 0 entries (0 records), rebuild 1, leave 0" in output.out
        assert "AggregatorFunction: would rebuild the AGG# items for 1 entry" in output.err
        assert poisoned.dlq.read_text() == entry
        assert not _aggregated(poisoned.client, poisoned.poison_id)

        assert main(["redrive", "--data-dir", str(data)]) == 0
        output = capsys.readouterr()
        assert f"records gone (stream {stale} is no longer listed for {TABLE})" in output.err
        assert "redriven 0 entries (0 records), rebuilt 1, left 0" in output.out
        assert poisoned.dlq.read_text() == ""
        assert _aggregated(poisoned.client, poisoned.poison_id)
        wait_for(lambda: main(["audit", "--data-dir", str(data)]) == 0)


def _failure(stream_arn: str, shard: str, start: str, end: str, function: str) -> dict[str, Any]:
    return {
        "requestContext": {
            "requestId": "r-1",
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "version": "1.0",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "DDBStreamBatchInfo": {
            "shardId": shard,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2026-01-01T00:00:00Z",
            "approximateArrivalOfLastRecord": "2026-01-01T00:00:00Z",
            "batchSize": 2,
            "streamArn": stream_arn,
        },
    }


def test_a_publisher_range_gone_from_the_stream_stays_in_its_dlq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "dlq").mkdir(parents=True)
    runtime_file = {"state": "stopped", "engine": "moto", "tableName": TABLE, "region": "us-east-1"}
    (data / "runtime.json").write_text(json.dumps(runtime_file))
    old_stream = f"arn:aws:dynamodb:us-east-1:123456789012:table/{TABLE}/stream/2020-01-01T00:00"
    entries = {
        name: json.dumps(_failure(old_stream, "shardId-1", "100", "101", function)) + "\n"
        for name, function in (
            ("PublisherFunction", "harvest-dev-publisher"),
            ("AggregatorFunction", "harvest-dev-aggregator"),
        )
    }
    for name, line in entries.items():
        (data / "dlq" / f"{name}.jsonl").write_text(line)

    assert main(["redrive", "--data-dir", str(data)]) == 1
    output = capsys.readouterr()
    assert "redriven 0 entries (0 records), rebuilt 1, left 1" in output.out
    assert (
        "PublisherFunction shard shardId-1 100..101 (2 records): cannot be redriven "
        f"(stream {old_stream} is no longer listed for {TABLE}) and domain events cannot be "
        "rebuilt from the table; the entry stays"
    ) in output.err
    assert (data / "dlq" / "PublisherFunction.jsonl").read_text() == entries["PublisherFunction"]
    assert (data / "dlq" / "AggregatorFunction.jsonl").read_text() == ""


moto_only = pytest.mark.skipif(ENGINE != "moto", reason="SQS comes from moto's mock")


@dataclass(frozen=True)
class Queued:
    queue_url: str
    listing_ids: list[str]


def _queued_failure(api: Api, dynamodb: Any, table: str) -> Queued:
    """Two listings (the second a poison one) that the aggregator never saw, and one failure
    record on an SQS queue for the stream range holding every write so far."""
    made = [
        api.post("/listings", payloads.listing(notes=notes), user="g")
        for notes in ("fresh", "poison")
    ]
    assert all(r.status == 201 for r in made)
    streams = make_streams_client("us-east-1")
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    shard = shards[0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    numbers = [
        r["dynamodb"]["SequenceNumber"]
        for r in streams.get_records(ShardIterator=iterator)["Records"]
    ]
    # Another stage than the template's default: the function is found by its name pattern.
    failure = _failure(stream_arn, shard, numbers[0], numbers[-1], "harvest-prod-aggregator")
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="harvest-prod-aggregator-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(failure))
    return Queued(queue_url, [r.body["listingId"] for r in made])


def _queue_depth(queue_url: str) -> tuple[int, int]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def _markers(dynamodb: Any, table: str, listing_ids: list[str]) -> list[bool]:
    found = []
    for listing_id in listing_ids:
        key = marker_key(f"LISTING#{listing_id}")
        item = dynamodb.get_item(
            TableName=table, Key={"PK": {"S": key["PK"]}, "SK": {"S": key["SK"]}}
        )
        found.append("Item" in item)
    return found


@moto_only
def test_an_sqs_message_is_deleted_only_once_its_range_went_through(
    api: Api, dynamodb: Any, table: str, poison: Poison, capsys: pytest.CaptureFixture[str]
) -> None:
    queued = _queued_failure(api, dynamodb, table)
    redrive = ["redrive", "--queue-url", queued.queue_url, "--table", table]

    assert main(redrive) == 1
    output = capsys.readouterr()
    assert "redriven 0 entries (0 records), rebuilt 0, left 1" in output.out
    assert "failed again; the entry stays in the DLQ" in output.err
    assert _queue_depth(queued.queue_url) == (1, 0)  # visible again at once
    assert _markers(dynamodb, table, queued.listing_ids) == [True, False]

    poison.active = False
    assert main(redrive) == 0
    assert "redriven 1 entry (2 records), rebuilt 0, left 0" in capsys.readouterr().out
    assert _queue_depth(queued.queue_url) == (0, 0)
    assert _markers(dynamodb, table, queued.listing_ids) == [True, True]


@moto_only
def test_a_dry_run_changes_nothing(
    api: Api, dynamodb: Any, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    queued = _queued_failure(api, dynamodb, table)

    assert main(["redrive", "--queue-url", queued.queue_url, "--table", table, "--dry-run"]) == 0
    output = capsys.readouterr()
    assert "dry run: would redrive 1 entry (2 records), rebuild 0, leave 0" in output.out
    assert "AggregatorFunction shard" in output.err
    assert "would redrive 2 records" in output.err
    assert _queue_depth(queued.queue_url) == (1, 0)
    assert _markers(dynamodb, table, queued.listing_ids) == [False, False]
