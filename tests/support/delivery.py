"""Lambda's delivery of the table stream to its consumers, as an explicit, generated schedule.

Tests write through the real services, then read the table's real stream (moto's DynamoDB
Streams, from TRIM_HORIZON, each record turned into what Lambda hands a function by
harvest.local.records.to_lambda_record) and run every consumer's real handler under a
`Poll` schedule. Each consumer is configured from its event source mapping in template.yaml
(FilterCriteria, BatchSize, ReportBatchItemFailures, BisectBatchOnFunctionError,
MaximumRetryAttempts), and delivery follows Lambda's rules, the ones harvest.local.esm
emulates for the local runtime:

- Order: one shard, read in order. A batch is a contiguous run of the records that pass the
  mapping's filters (the records filtered out between them count as processed); a batch is
  never reordered, and the next batch starts after the last record of the previous one.
- Partial failure: a response with `batchItemFailures` makes Lambda retry from the lowest
  reported sequence number (an identifier that is not in the batch fails the whole batch).
- Function error (the invocation dies: timeout, out of memory, crash): the whole batch failed.
  With BisectBatchOnFunctionError a batch failed from its first record is split in two halves,
  each delivered (and retried) on its own, first half first; a batch failed at a later record
  is retried from that record. Splitting consumes no retry.
- At least once: a batch can be delivered again after it succeeded (a lost checkpoint), and a
  mapping can start over from TRIM_HORIZON (a new or reset mapping): the whole stream again.
- Giving up: a record that keeps failing is retried MaximumRetryAttempts times, then what is
  left of its batch goes to the on-failure destination and the mapping moves on. The queue
  holds only the sequence range; those records are redriven from the stream once every
  mapping has caught up (`harvest redrive`, DESIGN §5), i.e. after newer records of the same
  items: the one out-of-order delivery a consumer must survive.

Faults are injected per invocation through the shared batch runner
(harvest.consumers.batch.process_batch, which every consumer uses): a record's processing
raises, before or after its effect was committed, or the invocation dies at that record. A
schedule's transient faults fire once each; a poisoned record fails every time its batch is
delivered, until Lambda gives up on it. A failure nobody injected is a bug and fails the run.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, Literal, cast
from unittest import mock

from harvest.local.filters import Pattern, matches_any
from harvest.local.mappings import mappings_from_template
from harvest.local.records import to_lambda_record
from harvest.tools.template import load_template
from support.stored_records import LongContext

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = [
    "FAULT_KINDS",
    "Consumer",
    "DeliveryLog",
    "Fault",
    "FaultKind",
    "Handler",
    "Poll",
    "StreamTail",
    "consumer_for",
    "deliver",
]

type Handler = Callable[[dict[str, Any], Any], Any]
type Record = dict[str, Any]

# "poison" is not drawn by schedules: Poll.poison places it.
FaultKind = Literal["raise", "raise-after-effect", "crash", "crash-after-effect", "poison"]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "raise",  # the record's processing raises before its effect: the runner reports it
    "raise-after-effect",  # its effect is committed, then it raises (a lost response)
    "crash",  # the invocation dies before the record (timeout, OOM): a function error
    "crash-after-effect",  # the invocation dies right after the record's effect committed
)
# No schedule of a test needs more; more means a consumer keeps writing what it consumes.
MAX_INVOCATIONS: Final = 20_000


class InvocationCrashed(BaseException):
    """The function died mid-batch. A BaseException, so that the runner's `except Exception`
    (which turns a record's failure into a partial batch response) does not catch it."""


class InjectedFailure(Exception):
    """A record's processing failed because the schedule said so."""


@dataclass(frozen=True, slots=True)
class Consumer:
    """A function and its event source mapping on the table stream (from template.yaml)."""

    name: str
    handler: Handler
    module: ModuleType
    patterns: tuple[Pattern, ...]
    batch_size: int
    report_batch_item_failures: bool
    bisect_on_error: bool
    maximum_retry_attempts: int

    def wants(self, record: Mapping[str, Any]) -> bool:
        return matches_any(self.patterns, record)


def consumer_for(handler: Handler) -> Consumer:
    """The consumer whose mapping in template.yaml names this handler."""
    dotted = f"{handler.__module__}.{getattr(handler, '__name__', '')}"
    configs = [
        config
        for config in mappings_from_template(load_template(), "harvest-test")
        if config.handler == dotted
    ]
    if len(configs) != 1:
        raise ValueError(f"{dotted}: {len(configs)} DynamoDB event source mappings, expected 1")
    [config] = configs
    if config.maximum_retry_attempts < 0:
        raise ValueError(f"{dotted}: unbounded retries; a poisoned record would block the shard")
    return Consumer(
        name=config.function_logical_id,
        handler=handler,
        module=importlib.import_module(handler.__module__),
        patterns=config.patterns,
        batch_size=config.batch_size,
        report_batch_item_failures=config.report_batch_item_failures,
        bisect_on_error=config.bisect_on_error,
        maximum_retry_attempts=config.maximum_retry_attempts,
    )


@dataclass(frozen=True, slots=True)
class Fault:
    """Fail the record at `at` (taken modulo the batch length) of one invocation."""

    at: int
    kind: FaultKind


@dataclass(frozen=True, slots=True)
class Poll:
    """One batch a mapping takes from the stream, and what happens to it.

    `faults` are used up one per invocation while this batch is being delivered (the first
    invocation, then its retries or halves, in order). `poison` (modulo the batch length):
    that record fails, before its effect, every time this batch, a part of it or its
    duplicate is delivered, until Lambda gives up on it (later deliveries, replays and the
    redrive, succeed). `duplicate`: once done, the whole batch is delivered once more.
    `replay`: afterwards the mapping starts over from TRIM_HORIZON.
    """

    size: int
    faults: tuple[Fault, ...] = ()
    poison: int | None = None
    duplicate: bool = False
    replay: bool = False


@dataclass
class DeliveryLog:
    invocations: int = 0
    records_delivered: int = 0
    faults_fired: dict[str, int] = field(default_factory=dict)
    resumed: int = 0  # retries from a reported record
    bisected: int = 0  # failed batches split in halves
    retried_whole: int = 0  # a failed one-record batch (or, without bisection, any), again
    duplicates: int = 0
    replays: int = 0
    given_up: int = 0  # records sent to the on-failure destination
    redriven: int = 0  # of those, delivered again from the stream at the end

    def fired(self) -> int:
        return sum(self.faults_fired.values())


class StreamTail:
    """Every record of one table's stream so far, in order, as Lambda delivers them."""

    def __init__(
        self, dynamodb: DynamoDBClient, streams: DynamoDBStreamsClient, table_name: str
    ) -> None:
        self.streams = streams
        self.region = streams.meta.region_name
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        # Order is only guaranteed per shard: the schedules below rely on exactly one.
        if len(shards) != 1:
            raise AssertionError(f"expected one stream shard, found {len(shards)}")
        self._iterator: str | None = streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shards[0]["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.records: list[Record] = []

    def poll(self) -> int:
        """Reads what was written since the last poll; returns how many records came."""
        before = len(self.records)
        while self._iterator is not None:
            page = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
            self._iterator = page.get("NextShardIterator")
            raw_records = page.get("Records", [])
            self.records += [
                to_lambda_record(cast("Mapping[str, Any]", raw), self.arn, self.region)
                for raw in raw_records
            ]
            if not raw_records:
                break
        return len(self.records) - before


def _sequence(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@contextmanager
def _injected(consumer: Consumer, fault: Fault | None, log: DeliveryLog) -> Iterator[None]:
    """Arms `fault` (its index already within the batch) for one invocation, by wrapping the
    record processor the consumer hands to the shared batch runner."""
    if fault is None:
        yield
        return
    fired: list[bool] = []

    def fail(index: int, effect: Callable[[], object]) -> object:
        if fault.kind.endswith("after-effect"):
            effect()
        fired.append(True)
        log.faults_fired[fault.kind] = log.faults_fired.get(fault.kind, 0) + 1
        if fault.kind.startswith("crash"):
            raise InvocationCrashed(f"{fault.kind} at record {index}")
        raise InjectedFailure(f"{fault.kind} at record {index}")

    if hasattr(consumer.module, "process_grouped"):
        # A coalescing consumer (the insight worker) processes a group of records at once:
        # the fault hits the group holding the faulty record, which reports its first record.
        grouped: Callable[..., Any] = consumer.module.process_grouped

        def faulty_grouped(
            event: Mapping[str, Any],
            context: Any,
            group_of: Callable[[Mapping[str, Any]], str | None],
            process_group: Callable[[str, Mapping[str, Any]], object],
            **options: Any,
        ) -> Any:
            records = list(event.get("Records") or [])
            target = group_of(records[fault.at]) if fault.at < len(records) else None

            def process(group: str, record: Mapping[str, Any]) -> object:
                if group != target:
                    return process_group(group, record)
                return fail(fault.at, lambda: process_group(group, record))

            return grouped(event, context, group_of, process, **options)

        with mock.patch.object(consumer.module, "process_grouped", faulty_grouped):
            yield
        if not fired:
            raise AssertionError(f"{consumer.name}: {fault} never fired")
        return
    # The derivation consumer's runner takes the record processor and then a refresh per
    # area: the fault hits the record processor, as for a plain in-order runner.
    name = (
        "process_then_refresh"
        if hasattr(consumer.module, "process_then_refresh")
        else "process_batch"
    )
    runner: Callable[..., Any] = getattr(consumer.module, name)

    def faulty_runner(
        event: Mapping[str, Any],
        context: Any,
        process_record: Callable[[Mapping[str, Any]], Any],
        *more: Any,
        **options: Any,
    ) -> Any:
        position = 0

        def process(record: Mapping[str, Any]) -> Any:
            nonlocal position
            index, position = position, position + 1
            if index != fault.at:
                return process_record(record)
            return fail(index, lambda: process_record(record))

        return runner(event, context, process, *more, **options)

    with mock.patch.object(consumer.module, name, faulty_runner):
        yield
    if not fired:
        raise AssertionError(f"{consumer.name}: {fault} never fired (an earlier record failed?)")


def _invoke(
    consumer: Consumer, records: list[Record], fault: Fault | None, log: DeliveryLog
) -> int | None:
    """One invocation; the index the batch failed from (0: a function error), else None."""
    log.invocations += 1
    log.records_delivered += len(records)
    if log.invocations > MAX_INVOCATIONS:
        raise AssertionError(f"more than {MAX_INVOCATIONS} invocations: a feedback loop?")
    try:
        with _injected(consumer, fault, log):
            response = consumer.handler({"Records": records}, LongContext())
    except InvocationCrashed:
        return 0
    if not consumer.report_batch_item_failures:
        return None
    reported = {str(f["itemIdentifier"]) for f in (response or {}).get("batchItemFailures", [])}
    if not reported:
        return None
    if fault is None or fault.kind.startswith("crash"):
        raise AssertionError(
            f"{consumer.name} failed without an injected fault: {sorted(reported)}"
        )
    indices = [index for index, record in enumerate(records) if _sequence(record) in reported]
    return min(indices, default=0)


@dataclass
class _Work:
    records: list[Record]
    retries: int = 0


def _deliver_batch(
    consumer: Consumer,
    batch: list[Record],
    faults: deque[Fault],
    poisoned: str | None,
    log: DeliveryLog,
) -> list[Record]:
    """A batch with Lambda's retries and bisection until each record succeeded or was given
    up on; returns the records given up on (for the on-failure destination)."""
    given_up: list[Record] = []
    work: deque[_Work] = deque([_Work(batch)])
    while work:
        item = work.popleft()
        part = item.records
        transient = faults.popleft() if faults else None
        armed = [Fault(transient.at % len(part), transient.kind)] if transient else []
        armed += [Fault(i, "poison") for i, r in enumerate(part) if _sequence(r) == poisoned]
        # The first record that fails stops the batch: a later fault could never fire.
        fault = min(armed, key=lambda f: f.at) if armed else None
        failed_from = _invoke(consumer, part, fault, log)
        if failed_from is None:
            continue
        remaining = part[failed_from:]
        if consumer.bisect_on_error and failed_from == 0 and len(remaining) > 1:
            half = len(remaining) // 2
            work.extendleft(
                [_Work(remaining[half:], item.retries), _Work(remaining[:half], item.retries)]
            )
            log.bisected += 1
        elif failed_from:
            work.appendleft(_Work(remaining, item.retries))
            log.resumed += 1
        elif item.retries < consumer.maximum_retry_attempts:
            work.appendleft(_Work(remaining, item.retries + 1))
            log.retried_whole += 1
        else:
            given_up += remaining
            log.given_up += len(remaining)
    return given_up


@dataclass
class _Mapping:
    consumer: Consumer
    pending: deque[Poll]
    position: int = 0  # index in the stream of the next record to process
    destination: list[list[Record]] = field(default_factory=list)  # given-up ranges


def deliver(
    tail: StreamTail,
    consumers: Sequence[Consumer],
    schedules: Sequence[Sequence[Poll]],
    *,
    final_replay: bool = False,
    then_size: int | None = None,
) -> DeliveryLog:
    """Runs every consumer's mapping until each has processed the whole stream, including
    the records the consumers themselves write on the way (a chain of consumers). Each
    mapping takes its polls from its schedule, then batches of `then_size` (default: the
    mapping's BatchSize) without faults. Once all have caught up: with `final_replay`, every
    mapping starts over from TRIM_HORIZON once more; then what was given up is redriven."""
    if len(schedules) != len(consumers):
        raise ValueError("one schedule per consumer")
    log = DeliveryLog()
    mappings = [
        _Mapping(consumer, deque(schedule))
        for consumer, schedule in zip(consumers, schedules, strict=True)
    ]
    replay_left = final_replay
    while True:
        arrived = tail.poll()
        progressed = False
        for mapping in mappings:
            progressed |= _poll(tail, mapping, then_size, log)
        if progressed or arrived:
            continue
        if replay_left:
            replay_left = False
            log.replays += len(mappings)
            for mapping in mappings:
                mapping.position = 0
            continue
        if any(mapping.destination for mapping in mappings):
            for mapping in mappings:
                for records in mapping.destination:
                    log.redriven += len(records)
                    # Nothing is injected into a redrive: nothing can be given up again.
                    _deliver_batch(mapping.consumer, records, deque(), None, log)
                mapping.destination.clear()
            continue
        return log


def _poll(tail: StreamTail, mapping: _Mapping, then_size: int | None, log: DeliveryLog) -> bool:
    """One batch for one mapping, if there is anything for it; False when caught up."""
    consumer = mapping.consumer
    wanted = [
        index
        for index in range(mapping.position, len(tail.records))
        if consumer.wants(tail.records[index])
    ]
    if not wanted:
        mapping.position = len(tail.records)
        return False
    poll = mapping.pending.popleft() if mapping.pending else Poll(then_size or consumer.batch_size)
    taken = wanted[: max(1, min(poll.size, consumer.batch_size))]
    batch = [tail.records[index] for index in taken]
    poisoned = None if poll.poison is None else _sequence(batch[poll.poison % len(batch)])
    given_up = _deliver_batch(consumer, batch, deque(poll.faults), poisoned, log)
    if poll.duplicate:
        # The poisoned record fails again, and is given up on again.
        log.duplicates += 1
        given_up += _deliver_batch(consumer, batch, deque(), poisoned, log)
    if given_up:
        mapping.destination.append(given_up)
    mapping.position = taken[-1] + 1
    if poll.replay:
        log.replays += 1
        mapping.position = 0
    return True
