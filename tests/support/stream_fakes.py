"""An in-memory DynamoDB Streams API and helpers for driving StreamPoller in pure unit tests.

The fake answers DescribeStream (paginated), GetShardIterator and GetRecords in the shapes boto3
returns: creation times as datetimes, `userIdentity` with capitalised keys, no
NextShardIterator once a closed shard has been read to its end.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from harvest.local.deadletter import DeadLetterSink
from harvest.local.esm import Invoke, LambdaContextLike, StreamPoller
from harvest.local.mappings import MappingConfig

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/harvest-test/stream/2026-01-01T00:00:00.000"
)
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class FakeShard:
    shard_id: str
    parent_id: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class FakeStreams:
    def __init__(self, stream_arn: str = STREAM_ARN, page_size: int = 100) -> None:
        self.stream_arn = stream_arn
        self.page_size = page_size
        self.shards: dict[str, FakeShard] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._sequence = itertools.count(100_000_000_000_000_000_000)
        self._iterators: dict[str, tuple[str, int]] = {}
        self._tokens = itertools.count(1)

    # ------------------------------------------------------------ arranging

    def add_shard(self, shard_id: str, parent_id: str | None = None) -> FakeShard:
        shard = FakeShard(shard_id, parent_id)
        self.shards[shard_id] = shard
        return shard

    def close_shard(self, shard_id: str) -> None:
        self.shards[shard_id].closed = True

    def put(
        self,
        pk: str,
        *,
        shard_id: str | None = None,
        event_name: str = "INSERT",
        sk: str = "A",
        created: float = T0,
        new: Mapping[str, Any] | None = None,
        old: Mapping[str, Any] | None = None,
        ttl_deletion: bool = False,
    ) -> str:
        """Appends a stream record for item (pk, sk) and returns its sequence number."""
        shard = self.shards[shard_id] if shard_id else next(reversed(self.shards.values()))
        sequence = str(next(self._sequence))
        keys = {"PK": {"S": pk}, "SK": {"S": sk}}
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": datetime.fromtimestamp(created, UTC),
            "Keys": keys,
            "SequenceNumber": sequence,
            "SizeBytes": 64,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if event_name != "REMOVE":
            body["NewImage"] = {**keys, **(new or {"v": {"N": "1"}})}
        if event_name != "INSERT":
            body["OldImage"] = {**keys, **(old or {"v": {"N": "0"}})}
        record: dict[str, Any] = {
            "eventID": f"event-{sequence}",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": body,
        }
        if ttl_deletion:
            record["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
        shard.records.append(record)
        return sequence

    # ------------------------------------------------------------ the API

    def describe_stream(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("DescribeStream", request))
        ids = list(self.shards)
        start = request.get("ExclusiveStartShardId")
        begin = ids.index(start) + 1 if start else 0
        page = ids[begin : begin + self.page_size]
        description: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "StreamStatus": "ENABLED",
            "Shards": [self._describe_shard(self.shards[shard_id]) for shard_id in page],
        }
        if begin + self.page_size < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("GetShardIterator", request))
        shard = self.shards[request["ShardId"]]
        kind = request["ShardIteratorType"]
        sequences = [record["dynamodb"]["SequenceNumber"] for record in shard.records]
        if kind == "TRIM_HORIZON":
            position = 0
        elif kind == "LATEST":
            position = len(shard.records)
        elif kind == "AFTER_SEQUENCE_NUMBER":
            position = sequences.index(request["SequenceNumber"]) + 1
        else:
            position = sequences.index(request["SequenceNumber"])
        return {"ShardIterator": self._token(shard.shard_id, position)}

    def get_records(self, **request: Any) -> dict[str, Any]:
        self.calls.append(("GetRecords", request))
        shard_id, position = self._iterators[request["ShardIterator"]]
        shard = self.shards[shard_id]
        records = shard.records[position : position + request.get("Limit", 1000)]
        end = position + len(records)
        response: dict[str, Any] = {"Records": records}
        if not (shard.closed and end >= len(shard.records)):
            response["NextShardIterator"] = self._token(shard_id, end)
        return response

    def calls_to(self, operation: str) -> list[dict[str, Any]]:
        return [request for name, request in self.calls if name == operation]

    def _token(self, shard_id: str, position: int) -> str:
        token = f"iterator-{next(self._tokens)}"
        self._iterators[token] = (shard_id, position)
        return token

    @staticmethod
    def _describe_shard(shard: FakeShard) -> dict[str, Any]:
        numbers = [record["dynamodb"]["SequenceNumber"] for record in shard.records] or ["0"]
        sequence_range = {"StartingSequenceNumber": numbers[0]}
        if shard.closed:
            sequence_range["EndingSequenceNumber"] = numbers[-1]
        described: dict[str, Any] = {
            "ShardId": shard.shard_id,
            "SequenceNumberRange": sequence_range,
        }
        if shard.parent_id:
            described["ParentShardId"] = shard.parent_id
        return described


Behaviour = Callable[[list[dict[str, Any]]], object]


class RecordingHandler:
    """A handler that remembers every batch; `behaviour` decides what it returns or raises."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour
        self.batches: list[list[dict[str, Any]]] = []
        self.contexts: list[LambdaContextLike] = []

    def __call__(self, event: dict[str, Any], context: LambdaContextLike) -> object:
        records: list[dict[str, Any]] = event["Records"]
        self.batches.append(records)
        self.contexts.append(context)
        return self.behaviour(records) if self.behaviour else None

    def pks(self) -> list[list[str]]:
        """The PK of every record, batch by batch."""
        return [
            [record["dynamodb"]["Keys"]["PK"]["S"] for record in batch] for batch in self.batches
        ]


def mapping(**overrides: Any) -> MappingConfig:
    settings: dict[str, Any] = {
        "function_logical_id": "TestConsumer",
        "handler": "tests.never.imported",
        "on_failure_destination": "TestConsumerDlq",
    }
    settings.update(overrides)
    return MappingConfig(**settings)


def poller(
    streams: FakeStreams,
    config: MappingConfig,
    handler: Invoke,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    dlq: DeadLetterSink | None = None,
    **options: Any,
) -> StreamPoller:
    return StreamPoller(
        config,
        cast("DynamoDBStreamsClient", streams),
        streams.stream_arn,
        handler,
        dlq=dlq,
        clock=clock or FakeClock(),
        sleep=sleep or (lambda _seconds: None),
        **options,
    )


def drain(target: StreamPoller, cycles: int = 20) -> None:
    """Polls until a cycle finds nothing to do (or the cycle budget runs out)."""
    for _ in range(cycles):
        if target.poll_once().idle:
            return
