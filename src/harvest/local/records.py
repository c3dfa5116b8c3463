"""The stream side of a local event source mapping: shards, iterators, checkpoints, and records
converted to the shape Lambda delivers them in, filtered and gathered into batches."""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harvest.local.filters import Pattern, matches_any
from harvest.store.dynamo import CLIENT_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_dynamodbstreams.type_defs import ShardTypeDef

__all__ = [
    "Batch",
    "CheckpointStore",
    "JsonCheckpointStore",
    "Shard",
    "ShardReader",
    "approximate_creation",
    "make_streams_client",
    "sequence_number",
    "to_lambda_record",
]

log = logging.getLogger("harvest.local.esm")

DEFAULT_EVENT_VERSION = "1.1"
GET_RECORDS_LIMIT = 1000  # the DynamoDB Streams maximum per call
_NEW_ITERATOR_ON = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException"})


def make_streams_client(
    region: str | None = None, endpoint_url: str | None = None
) -> DynamoDBStreamsClient:
    # Account-based endpoints (<account>.streams-ddb...) are unknown to moto and DynamoDB
    # Local; the regional endpoint serves real AWS the same, so they are turned off here.
    config = CLIENT_CONFIG.merge(Config(account_id_endpoint_mode="disabled"))
    return boto3.client(
        "dynamodbstreams", region_name=region, endpoint_url=endpoint_url, config=config
    )


def to_lambda_record(raw: Mapping[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda puts it in `event["Records"]`.

    Lambda passes the stream record through, adds `eventSourceARN`, sends the creation time as
    epoch seconds, base64-encodes binary attributes (JSON has no bytes) and lower-cases the
    keys of `userIdentity`, which only TTL deletions carry.
    """
    stream_record: Mapping[str, Any] = raw.get("dynamodb") or {}
    body: dict[str, Any] = {}
    created = stream_record.get("ApproximateCreationDateTime")
    if created is not None:
        body["ApproximateCreationDateTime"] = _epoch_seconds(created)
    for name in ("Keys", "NewImage", "OldImage"):
        if name in stream_record:
            body[name] = _wire(stream_record[name])
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in stream_record:
            body[name] = stream_record[name]
    record: dict[str, Any] = {
        "eventID": raw.get("eventID"),
        "eventName": raw.get("eventName"),
        "eventVersion": raw.get("eventVersion", DEFAULT_EVENT_VERSION),
        "eventSource": raw.get("eventSource", "aws:dynamodb"),
        "awsRegion": raw.get("awsRegion", region),
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }
    identity = raw.get("userIdentity")
    if identity:
        record["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return record


def sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def approximate_creation(record: Mapping[str, Any]) -> float | None:
    value = record["dynamodb"].get("ApproximateCreationDateTime")
    return float(value) if isinstance(value, int | float) else None


def _epoch_seconds(value: object) -> float:
    # DynamoDB documents the value as rounded down to the second; Lambda sends a JSON number.
    if isinstance(value, datetime):
        return float(math.floor(value.timestamp()))
    if isinstance(value, int | float | str):
        return float(math.floor(float(value)))
    raise TypeError(f"unexpected ApproximateCreationDateTime {value!r}")


def _wire(value: object) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _wire(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_wire(inner) for inner in value]
    return value


class CheckpointStore(Protocol):
    def load(self, key: str) -> dict[str, str]: ...
    def save(self, key: str, checkpoints: Mapping[str, str]) -> None: ...


class JsonCheckpointStore:
    """Shard checkpoints of every mapping in one small JSON file, shared by poller threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def load(self, key: str) -> dict[str, str]:
        with self._lock:
            return dict(self._read().get(key, {}))

    def save(self, key: str, checkpoints: Mapping[str, str]) -> None:
        with self._lock:
            document = self._read()
            document[key] = dict(checkpoints)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Write-then-rename: a crash mid-write must not lose every mapping's position.
            partial = self.path.with_suffix(self.path.suffix + ".tmp")
            partial.write_text(json.dumps(document, indent=2, sort_keys=True), encoding="utf-8")
            partial.replace(self.path)

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        document: dict[str, dict[str, str]] = json.loads(self.path.read_text(encoding="utf-8"))
        return document


@dataclass
class _Buffered:
    record: dict[str, Any]
    matched: bool


@dataclass
class Shard:
    shard_id: str
    parent_id: str | None
    latest: bool = False
    iterator: str | None = None
    read_position: str | None = None
    exhausted: bool = False
    finished: bool = False
    window_started: float | None = None
    buffer: deque[_Buffered] = field(default_factory=deque)

    def matched(self) -> int:
        return sum(1 for item in self.buffer if item.matched)


@dataclass(frozen=True)
class Batch:
    """Matched records to invoke with; `end_sequence` also covers filtered records among them."""

    records: list[dict[str, Any]]
    end_sequence: str


@dataclass
class ShardReader:
    """Reads one stream for one mapping and keeps that mapping's position in every shard."""

    client: DynamoDBStreamsClient
    stream_arn: str
    region: str
    patterns: Sequence[Pattern]
    batch_size: int
    window_s: float
    starting_position: str
    clock: Callable[[], float]
    checkpoints: dict[str, str]
    refresh_s: float = 10.0
    dirty: bool = field(default=False, init=False)
    shards: dict[str, Shard] = field(default_factory=dict, init=False)
    _described_at: float | None = field(default=None, init=False)
    _discovered: bool = field(default=False, init=False)

    def ready_shards(self) -> list[Shard]:
        """Open work in lineage order: a child waits until its parent is read to the end."""
        self._refresh()
        ready = []
        for shard in self.shards.values():
            parent = self.shards.get(shard.parent_id) if shard.parent_id else None
            if not shard.finished and (parent is None or parent.finished):
                ready.append(shard)
        return ready

    def read(self, shard: Shard) -> tuple[int, int]:
        """One GetRecords call unless a full batch is already buffered: (read, matched)."""
        if shard.exhausted or shard.matched() >= self.batch_size:
            return 0, 0
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        try:
            response = self.client.get_records(
                ShardIterator=shard.iterator, Limit=GET_RECORDS_LIMIT
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in _NEW_ITERATOR_ON:
                raise
            log.info("%s on %s: taking a new iterator", code, shard.shard_id)
            shard.iterator = None
            if code == "TrimmedDataAccessException":
                shard.read_position = None
                self.checkpoints.pop(shard.shard_id, None)
            return 0, 0
        shard.iterator = response.get("NextShardIterator")
        shard.exhausted = shard.iterator is None
        read = matched = 0
        for raw in response.get("Records", []):
            record = to_lambda_record(cast("Mapping[str, Any]", raw), self.stream_arn, self.region)
            keep = matches_any(self.patterns, record)
            shard.buffer.append(_Buffered(record, keep))
            shard.read_position = sequence_number(record)
            read, matched = read + 1, matched + keep
            if keep and shard.window_started is None:
                shard.window_started = self.clock()
        return read, matched

    def take_batch(self, shard: Shard) -> Batch | None:
        """The next batch, or None while the batching window is still gathering."""
        matched = shard.matched()
        if not matched:
            if shard.buffer:
                # Records the filters drop count as processed.
                self.checkpoint(shard.shard_id, sequence_number(shard.buffer[-1].record))
                shard.buffer.clear()
            shard.window_started = None
            return None
        started = shard.window_started if shard.window_started is not None else self.clock()
        gathering = self.window_s > 0 and self.clock() - started < self.window_s
        if matched < self.batch_size and gathering and not shard.exhausted:
            return None
        records: list[dict[str, Any]] = []
        end_sequence = ""
        while shard.buffer and len(records) < self.batch_size:
            item = shard.buffer.popleft()
            end_sequence = sequence_number(item.record)
            if item.matched:
                records.append(item.record)
        shard.window_started = None
        return Batch(records, end_sequence)

    def settle(self, shard: Shard) -> None:
        """After a batch: restart the window for what is left, retire a shard read to its end."""
        if shard.window_started is None and shard.matched():
            # Lambda starts the next window when the previous invocation completes.
            shard.window_started = self.clock()
        if shard.exhausted and not shard.buffer:
            shard.finished = True
            self._described_at = None  # its children are due for discovery

    def checkpoint(self, shard_id: str, sequence: str) -> None:
        current = self.checkpoints.get(shard_id)
        # Sequence numbers are decimal strings; compare them as numbers.
        if current is None or int(sequence) > int(current):
            self.checkpoints[shard_id] = sequence
            self.dirty = True

    def _refresh(self) -> None:
        now = self.clock()
        if self._described_at is not None and now - self._described_at < self.refresh_s:
            return
        first, resuming = not self._discovered, bool(self.checkpoints)
        self._described_at, self._discovered = now, True
        described = self._describe()
        for shard in described:
            shard_id = shard["ShardId"]
            if shard_id in self.shards:
                continue
            state = Shard(shard_id=shard_id, parent_id=shard.get("ParentShardId"))
            if first and not resuming and self.starting_position == "LATEST":
                # LATEST skips history, and a closed shard holds nothing but history.
                closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
                state.finished, state.latest = closed, not closed
            self.shards[shard_id] = state
        # A shard trimmed from the stream can no longer be read; its children may proceed.
        listed = {shard["ShardId"] for shard in described}
        for gone in [shard_id for shard_id in self.shards if shard_id not in listed]:
            del self.shards[gone]

    def _describe(self) -> list[ShardTypeDef]:
        shards: list[ShardTypeDef] = []
        start: str | None = None
        while True:
            if start is None:
                response = self.client.describe_stream(StreamArn=self.stream_arn)
            else:
                response = self.client.describe_stream(
                    StreamArn=self.stream_arn, ExclusiveStartShardId=start
                )
            description = response["StreamDescription"]
            shards.extend(description.get("Shards", []))
            start = description.get("LastEvaluatedShardId")
            if not start:
                return shards

    def _iterator(self, shard: Shard) -> str:
        # Resume after what was read (or checkpointed): never hand the function a record twice
        # just because an iterator expired.
        position = shard.read_position or self.checkpoints.get(shard.shard_id)
        if position is not None:
            response = self.client.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard.shard_id,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                SequenceNumber=position,
            )
        else:
            response = self.client.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard.shard_id,
                # Shards born after the mapping started are read whole, even under LATEST.
                ShardIteratorType="LATEST" if shard.latest else "TRIM_HORIZON",
            )
        return response["ShardIterator"]
