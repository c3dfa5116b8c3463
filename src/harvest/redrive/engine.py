"""Redrive of what a stream consumer's on-failure destination (its DLQ) holds.

An entry is Lambda's failure record for a DynamoDB stream: a shard and a range of sequence
numbers, no payload (harvest.redrive.format; sources in harvest.redrive.sources). For each
entry: find the consumer in
template.yaml, re-read the range from the stream, keep what the mapping's FilterCriteria
matches, and call the handler with Lambda-shaped records in batches of its BatchSize. An entry
is removed from its source only once handled; a record that fails again stops the redrive.

When the range cannot be read any more (stream, shard or records gone), the consumer's
fallback rebuilds its derived keys instead: once per consumer, after every readable entry.
A consumer without one (the publisher: events cannot be rebuilt) keeps its entries.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from harvest.local.deadletter import parse_batch_response
from harvest.local.filters import matches_any
from harvest.local.invocation import LocalLambdaContext, function_environment, resolve_handler
from harvest.local.mappings import MappingConfig, mappings_from_template
from harvest.local.records import GET_RECORDS_LIMIT, sequence_number, to_lambda_record
from harvest.redrive.format import BatchInfo
from harvest.redrive.sources import DeadLetter, DeadLetterSource
from harvest.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = [
    "Consumers",
    "Fallback",
    "RangeRead",
    "RebuildTarget",
    "Redrive",
    "Summary",
    "read_range",
]

INVOCATION_S: Final = 900.0  # Lambda's longest timeout: ample time for any batch
EMPTY_READS: Final = 5  # consecutive empty GetRecords before an open shard counts as read
GONE: Final = frozenset({"TrimmedDataAccessException", "ResourceNotFoundException"})


@dataclass(frozen=True)
class Consumers:
    """The functions with a DynamoDB stream event in template.yaml, by logical id."""

    mappings: Mapping[str, MappingConfig]
    names: Mapping[str, re.Pattern[str]]  # FunctionName, any ${...} matching any stage

    @classmethod
    def from_template(cls, template: Mapping[str, Any], table_name: str) -> Consumers:
        mappings: dict[str, MappingConfig] = {}
        for mapping in mappings_from_template(template, table_name):
            mappings.setdefault(mapping.function_logical_id, mapping)
        names: dict[str, re.Pattern[str]] = {}
        for logical_id in mappings:
            properties = template["Resources"][logical_id].get("Properties") or {}
            name = properties.get("FunctionName")
            if isinstance(name, Mapping):
                name = name.get("Fn::Sub")
                name = name[0] if isinstance(name, list) and name else name
            if isinstance(name, str):
                parts = re.split(r"\$\{[^}]*\}", name)
                names[logical_id] = re.compile(".+".join(re.escape(part) for part in parts))
        return cls(mappings, names)

    def find(self, letter: DeadLetter, info: BatchInfo) -> MappingConfig | None:
        if letter.hint is not None:
            return self.mappings.get(letter.hint)
        # arn:aws:lambda:region:account:function:name[:qualifier]
        parts = info.function_arn.split(":")
        name = parts[6] if len(parts) > 6 else info.function_arn
        for logical_id, mapping in self.mappings.items():
            if name in (logical_id, mapping.function_name):
                return mapping
        found = [i for i, pattern in self.names.items() if pattern.fullmatch(name)]
        return self.mappings[found[0]] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class RangeRead:
    """Every record of the range in Lambda's shape, or why the range cannot be read."""

    records: list[dict[str, Any]]
    gone: str | None = None


def read_range(client: DynamoDBStreamsClient, info: BatchInfo, table_name: str) -> RangeRead:
    """Reads [start, end] of the shard: AT_SEQUENCE_NUMBER, then GetRecords past the end."""
    parts = info.stream_arn.split(":")
    region = parts[3] if len(parts) > 3 else "us-east-1"
    first, last = int(info.start), int(info.end)
    records: list[dict[str, Any]] = []
    try:
        # moto resolves any stream label to the table's current stream: ask the table.
        if info.stream_arn not in _streams(client, table_name):
            return RangeRead([], f"stream {info.stream_arn} is no longer listed for {table_name}")
        if info.shard_id not in _shards(client, info.stream_arn):
            return RangeRead([], f"shard {info.shard_id} is no longer in the stream")
        iterator: str | None = client.get_shard_iterator(
            StreamArn=info.stream_arn,
            ShardId=info.shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info.start,
        )["ShardIterator"]
        empty = 0
        while iterator and empty < EMPTY_READS:
            response = client.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            raws = response.get("Records", [])
            empty = 0 if raws else empty + 1
            for raw in raws:
                record = to_lambda_record(cast("Mapping[str, Any]", raw), info.stream_arn, region)
                number = int(sequence_number(record))
                if number > last:
                    return _complete(records, first, reached=True)
                if number >= first:
                    records.append(record)
                if number == last:
                    return _complete(records, first, reached=True)
            iterator = response.get("NextShardIterator")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in GONE:
            raise
        return RangeRead([], f"{code}: {error.response.get('Error', {}).get('Message', '')}")
    return _complete(records, first, reached=False)


def _complete(records: list[dict[str, Any]], first: int, *, reached: bool) -> RangeRead:
    if not records:
        return RangeRead([], "the range returned no records")
    if int(sequence_number(records[0])) != first or not reached:
        return RangeRead([], f"only {len(records)} records of the range are left in the stream")
    return RangeRead(records)


def _streams(client: DynamoDBStreamsClient, table_name: str) -> set[str]:
    found: set[str] = set()
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table_name}
        if start:
            kwargs["ExclusiveStartStreamArn"] = start
        response = client.list_streams(**kwargs)
        found |= {stream["StreamArn"] for stream in response.get("Streams", [])}
        start = response.get("LastEvaluatedStreamArn")
        if not start:
            return found


def _shards(client: DynamoDBStreamsClient, stream_arn: str) -> set[str]:
    found: set[str] = set()
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = client.describe_stream(**kwargs)["StreamDescription"]
        found |= {shard["ShardId"] for shard in description.get("Shards", [])}
        start = description.get("LastEvaluatedShardId")
        if not start:
            return found


@dataclass(frozen=True, slots=True)
class RebuildTarget:
    table: Table
    segments: int


@dataclass(frozen=True, slots=True)
class Fallback:
    """For a consumer whose records are gone: `rebuild` rewrites its derived keys and returns a
    summary line; without one, `describe` says why nothing can be done. Fallbacks run in the
    order of the table that holds them."""

    describe: str
    rebuild: Callable[[RebuildTarget], str] | None = None


@dataclass
class Summary:
    redriven: int = 0
    records: int = 0
    rebuilt: int = 0
    left: int = 0
    stopped: str | None = None

    def line(self, dry_run: bool) -> str:
        entries, records = _plural(self.redriven, "entry", "entries"), _plural(self.records)
        if dry_run:
            return (
                f"dry run: would redrive {entries} ({records}), rebuild {self.rebuilt}, "
                f"leave {self.left}"
            )
        return f"redriven {entries} ({records}), rebuilt {self.rebuilt}, left {self.left}"


def _plural(count: int, one: str = "record", many: str = "records") -> str:
    return f"{count} {one if count == 1 else many}"


@dataclass
class Redrive:
    consumers: Consumers
    streams: DynamoDBStreamsClient
    source: DeadLetterSource
    fallbacks: Mapping[str, Fallback]
    target: RebuildTarget
    environment: Mapping[str, str]  # set over the function's own while its handler runs
    dry_run: bool = False
    say: Callable[[str], None] = print
    _handled: set[str] = field(default_factory=set, init=False)

    def run(self) -> Summary:
        letters = self.source.read()
        summary = Summary()
        gone: dict[str, list[tuple[DeadLetter, str]]] = {}
        try:
            for letter in letters:
                if not self._redrive(letter, summary, gone):
                    break
            else:
                self._fall_back(gone, summary)
        finally:
            self.source.release([x for x in letters if x.label not in self._handled])
        summary.left = len(letters) - summary.redriven - summary.rebuilt
        return summary

    def _redrive(
        self, letter: DeadLetter, summary: Summary, gone: dict[str, list[tuple[DeadLetter, str]]]
    ) -> bool:
        """Handles one entry; False when a record failed again (the redrive stops)."""
        info = letter.info
        if info is None:
            self.say(f"{letter.label}: not a DynamoDB stream failure record; left in place")
            return True
        mapping = self.consumers.find(letter, info)
        if mapping is None:
            named = letter.hint or info.function_arn or "no function"
            self.say(f"{letter.label}: {named} is no stream consumer in template.yaml; left")
            return True
        consumer = mapping.function_logical_id
        table = self.target.table.name
        if f":table/{table}/stream/" not in info.stream_arn:
            self.say(f"{consumer} {info.span()}: {info.stream_arn} is not {table}'s; left")
            return True
        read = read_range(self.streams, info, table)
        if read.gone is not None:
            self.say(f"{consumer} {info.span()}: records gone ({read.gone})")
            gone.setdefault(consumer, []).append((letter, read.gone))
            return True
        records = [r for r in read.records if matches_any(mapping.patterns, r)]
        if self.dry_run:
            self.say(f"{consumer} {info.span()}: would redrive {_plural(len(records))}")
        else:
            failure = self._invoke(mapping, info, records)
            if failure is not None:
                summary.stopped = (
                    f"{consumer} {info.span()}: {failure}; the entry stays in the DLQ "
                    "(fix the cause and run the redrive again)"
                )
                return False
            self._remove(letter)
            self.say(f"{consumer} {info.span()}: redriven {_plural(len(records))}")
        summary.redriven += 1
        summary.records += len(records)
        return True

    def _invoke(
        self, mapping: MappingConfig, info: BatchInfo, records: list[dict[str, Any]]
    ) -> str | None:
        """Calls the handler in batches; what failed, or None when every record went through."""
        environment = {**mapping.environment, **self.environment}
        try:
            handler = resolve_handler(mapping.handler, environment)
        except ValueError as error:
            return str(error)
        for start in range(0, len(records), mapping.batch_size):
            batch = records[start : start + mapping.batch_size]
            context = LocalLambdaContext(
                function_name=mapping.function_name,
                aws_request_id=str(uuid.uuid4()),
                invoked_function_arn=info.function_arn,
                memory_limit_in_mb=mapping.memory_mb,
                deadline=time.time() + INVOCATION_S,
                clock=time.time,
            )
            with function_environment(environment):
                try:
                    response = handler({"Records": batch}, context)
                except Exception as error:
                    return f"the handler raised {type(error).__name__}: {error}"
            if not mapping.report_batch_item_failures:
                continue
            parsed = parse_batch_response(response, [sequence_number(r) for r in batch])
            if parsed.malformed is not None:
                return f"malformed batch response: {parsed.malformed}"
            if parsed.failed_index is not None:
                return f"record {sequence_number(batch[parsed.failed_index])} failed again"
        return None

    def _fall_back(self, gone: dict[str, list[tuple[DeadLetter, str]]], summary: Summary) -> None:
        # In the order of the fallbacks table: a consumer reading another's derived keys
        # (insights from buckets) is listed, and rebuilt, after it.
        order = [c for c in self.fallbacks if c in gone] + [
            c for c in gone if c not in self.fallbacks
        ]
        for consumer in order:
            letters = gone[consumer]
            fallback = self.fallbacks.get(consumer) or Fallback("it has no rebuild")
            if fallback.rebuild is None:
                for letter, why in letters:
                    info = cast(BatchInfo, letter.info)
                    self.say(
                        f"{consumer} {info.span()}: cannot be redriven ({why}) and "
                        f"{fallback.describe}; the entry stays"
                    )
                continue
            entries = _plural(len(letters), "entry", "entries")
            if self.dry_run:
                self.say(f"{consumer}: would {fallback.describe} for {entries}")
            else:
                self.say(f"{consumer}: records gone for {entries}: {fallback.describe}")
                self.say(fallback.rebuild(self.target))
                for letter, _ in letters:
                    self._remove(letter)
            summary.rebuilt += len(letters)

    def _remove(self, letter: DeadLetter) -> None:
        self.source.remove(letter)
        self._handled.add(letter.label)
