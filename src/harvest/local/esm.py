"""A local stand-in for Lambda's DynamoDB-stream event source mapping, one poller per mapping.

The poller reads every shard of the table's stream (records.ShardReader: parents before
children, filters, batching window), invokes the handler in-process with the function's
environment and a Lambda-like context (or in the function's worker process, local.workers),
and applies Lambda's failure handling: partial batch
responses, bisection, retry and age limits, and the on-failure destination. Delivery is
at-least-once, as on AWS: a stop or crash before a checkpoint means the records come again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harvest.local.deadletter import DeadLetterSink, parse_batch_response
from harvest.local.invocation import (
    Invoke,
    LambdaContextLike,
    LocalLambdaContext,
    call_environment,
    function_environment,
    resolve_handler,
)
from harvest.local.mappings import MappingConfig, checkpoint_key
from harvest.local.priority import lower_thread
from harvest.local.records import (
    CheckpointStore,
    Shard,
    ShardReader,
    approximate_creation,
    make_streams_client,
    sequence_number,
)
from harvest.redrive.format import Condition, FailedBatch, failure_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = ["Invoke", "LambdaContextLike", "LocalLambdaContext", "PollStats", "StreamPoller",
           "function_environment", "make_streams_client", "resolve_handler"]  # fmt: skip

log = logging.getLogger("harvest.local.esm")


@dataclass
class PollStats:
    records_read: int = 0
    matched: int = 0
    invoked_batches: int = 0
    failures: int = 0
    dead_lettered: int = 0

    @property
    def idle(self) -> bool:
        return not (self.records_read or self.invoked_batches or self.dead_lettered)

    def add(self, other: PollStats) -> None:
        self.records_read += other.records_read
        self.matched += other.matched
        self.invoked_batches += other.invoked_batches
        self.failures += other.failures
        self.dead_lettered += other.dead_lettered


@dataclass
class _Work:
    records: list[dict[str, Any]]
    retries: int = 0
    invokes: int = 0


@dataclass(frozen=True)
class _Outcome:
    request_id: str
    failed_index: int | None
    function_error: bool
    description: str


class StreamPoller:
    def __init__(
        self,
        config: MappingConfig,
        streams_client: DynamoDBStreamsClient,
        stream_arn: str,
        invoke: Invoke | None = None,
        *,
        dlq: DeadLetterSink | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        checkpoint_store: CheckpointStore | None = None,
        idle_sleep_s: float = 0.25,
        max_idle_sleep_s: float | None = None,
        retry_backoff_s: float = 0.5,
        max_retry_backoff_s: float = 5.0,
        shard_refresh_s: float = 10.0,
        isolated: bool = False,
        nice: int = 0,
    ) -> None:
        """`isolated`: `invoke` runs the function in a process with its own environment.
        `nice`: the polling thread runs that many steps below the API (local.priority)."""
        self.config = config
        self._nice = nice
        self._isolated = isolated
        self.stream_arn = stream_arn
        parts = stream_arn.split(":")
        region, account = (parts[3], parts[4]) if len(parts) > 5 else ("us-east-1", "0" * 12)
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{config.function_name}"
        self._invoke = invoke or resolve_handler(config.handler, config.environment)
        self._dlq = dlq
        self._clock = clock
        self._sleep = sleep
        self._store = checkpoint_store
        self._idle_sleep_s = idle_sleep_s
        # Each idle poll in a row doubles the wait up to this: an empty GetRecords costs the
        # engine CPU that the API's reads need (issue 12), and a busy stream never waits.
        self._max_idle_sleep_s = max(idle_sleep_s, max_idle_sleep_s or idle_sleep_s)
        self._retry_backoff_s = retry_backoff_s
        self._max_retry_backoff_s = max_retry_backoff_s
        self._store_key = checkpoint_key(stream_arn, config)
        self.reader = ShardReader(
            client=streams_client,
            stream_arn=stream_arn,
            region=region,
            patterns=config.patterns,
            batch_size=config.batch_size,
            window_s=config.maximum_batching_window_s,
            starting_position=config.starting_position,
            clock=clock,
            checkpoints=self._store.load(self._store_key) if self._store else {},
            refresh_s=shard_refresh_s,
        )
        self._stop: threading.Event | None = None
        self.totals = PollStats()

    @property
    def checkpoints(self) -> Mapping[str, str]:
        """Last processed sequence number per shard id."""
        return self.reader.checkpoints

    def run(self, stop_event: threading.Event) -> None:
        """Polls until stop_event is set; the batch in flight finishes (and is checkpointed)
        before this returns, but no new batch starts and no failed batch is retried."""
        self._stop = stop_event
        lower_thread(self._nice)
        idle_wait = self._idle_sleep_s
        try:
            while not stop_event.is_set():
                try:
                    stats = self.poll_once()
                except Exception as error:
                    # Outlive a flaky endpoint, as Lambda's pollers do: one line, no traceback.
                    if not stop_event.is_set():
                        log.warning("%s: polling failed: %r", self.config.function_name, error)
                    stop_event.wait(self._max_retry_backoff_s)
                    continue
                if stats.idle:
                    stop_event.wait(idle_wait)
                    idle_wait = min(idle_wait * 2, self._max_idle_sleep_s)
                else:
                    idle_wait = self._idle_sleep_s
        finally:
            self._persist()
            self._stop = None

    def poll_once(self) -> PollStats:
        """One cycle: one read and at most one batch (with its retries) per ready shard."""
        stats = PollStats()
        for shard in self.reader.ready_shards():
            if self._stopping():
                break
            read, matched = self.reader.read(shard)
            stats.records_read += read
            stats.matched += matched
            batch = self.reader.take_batch(shard)
            if batch is not None and self._deliver(shard, batch.records, stats):
                self.reader.checkpoint(shard.shard_id, batch.end_sequence)
            self.reader.settle(shard)
        self._persist()
        self.totals.add(stats)
        return stats

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _persist(self) -> None:
        if self._store is not None and self.reader.dirty:
            self._store.save(self._store_key, self.reader.checkpoints)
            self.reader.dirty = False

    def _deliver(self, shard: Shard, batch: list[dict[str, Any]], stats: PollStats) -> bool:
        """Runs one batch to its end; False when a stop left part of it for the next run."""
        work: deque[_Work] = deque([_Work(batch)])
        while work:
            item = work.popleft()
            if item.invokes and self._stopping():
                name = self.config.function_name
                log.info("%s: stopping; %d records will be redelivered", name, len(item.records))
                return False
            live = self._drop_expired(shard, item, stats)
            if not live:
                continue
            outcome = self._invoke_batch(live, stats)
            item.invokes += 1
            if outcome.failed_index is None:
                self.reader.checkpoint(shard.shard_id, sequence_number(live[-1]))
                continue
            stats.failures += 1
            failed_from = outcome.failed_index
            if failed_from:
                self.reader.checkpoint(shard.shard_id, sequence_number(live[failed_from - 1]))
            remaining = live[failed_from:]
            if self.config.bisect_on_error and (failed_from or len(remaining) > 1):
                # Splitting consumes no retry: at the reported record, else into halves.
                half = len(remaining) // 2
                parts = [remaining] if failed_from else [remaining[:half], remaining[half:]]
                work.extendleft(_Work(part, item.retries, item.invokes) for part in reversed(parts))
                continue
            limit = self.config.maximum_retry_attempts
            if limit != -1 and item.retries >= limit:
                self._give_up(shard, remaining, "RetryAttemptsExhausted", item.invokes, outcome)
                stats.dead_lettered += len(remaining)
                continue
            self._sleep(min(self._retry_backoff_s * 2**item.retries, self._max_retry_backoff_s))
            work.appendleft(_Work(remaining, item.retries + 1, item.invokes))
        return True

    def _drop_expired(self, shard: Shard, item: _Work, stats: PollStats) -> list[dict[str, Any]]:
        limit = self.config.maximum_record_age_s
        if limit < 0:
            return item.records
        now = self._clock()
        expired = 0
        # A shard is in creation order, so the records past the age limit form a prefix.
        for record in item.records:
            created = approximate_creation(record)
            if created is None or now - created <= limit:
                break
            expired += 1
        if expired:
            self._give_up(shard, item.records[:expired], "RecordAgeExceeded", item.invokes, None)
            stats.dead_lettered += expired
        return item.records[expired:]

    def _give_up(
        self,
        shard: Shard,
        records: list[dict[str, Any]],
        condition: Condition,
        invokes: int,
        outcome: _Outcome | None,
    ) -> None:
        self.reader.checkpoint(shard.shard_id, sequence_number(records[-1]))
        span = (
            f"{len(records)} records {sequence_number(records[0])}..{sequence_number(records[-1])}"
        )
        name, destination = self.config.function_name, self.config.on_failure_destination
        if destination is None or self._dlq is None:
            log.warning("%s: discarded %s (%s): no on-failure destination", name, span, condition)
            return
        failed = FailedBatch(
            shard_id=shard.shard_id,
            records=records,
            condition=condition,
            invoke_count=invokes,
            request_id=outcome.request_id if outcome else str(uuid.uuid4()),
            function_error=outcome.function_error if outcome else False,
        )
        now = self._clock()
        self._dlq.send(
            failure_record(
                failed, function_arn=self.function_arn, stream_arn=self.stream_arn, now=now
            )
        )
        log.warning(
            "%s: sent %s to %s (%s, %d invocations)", name, span, destination, condition, invokes
        )

    def _invoke_batch(self, records: list[dict[str, Any]], stats: PollStats) -> _Outcome:
        request_id = str(uuid.uuid4())
        stats.invoked_batches += 1
        error: BaseException | None = None
        response: object = None
        with call_environment(self.config.environment, self._isolated):
            # Its time starts once it runs, not while it waited for the process environment.
            context = LocalLambdaContext(
                self.config.function_name, request_id, self.function_arn, self.config.memory_mb,
                deadline=self._clock() + self.config.timeout_s, clock=self._clock,
            )  # fmt: skip
            started = time.perf_counter()
            try:
                response = self._invoke({"Records": records}, context)
            except KeyboardInterrupt:
                raise
            except BaseException as raised:
                # A dying function (SystemExit, any BaseException) is a function error to
                # Lambda, which retries the batch; it must not end this poller's thread.
                error = raised
            elapsed = time.perf_counter() - started
        outcome = self._judge(request_id, records, response, error, elapsed)
        log.log(
            logging.INFO if outcome.failed_index is None else logging.WARNING,
            "%s: %d records -> %s (%d ms)",
            self.config.function_name,
            len(records),
            outcome.description,
            round(elapsed * 1000),
        )
        if error is not None:
            log.debug("%s: handler traceback", self.config.function_name, exc_info=error)
        return outcome

    def _judge(
        self,
        request_id: str,
        records: list[dict[str, Any]],
        response: object,
        error: BaseException | None,
        elapsed: float,
    ) -> _Outcome:
        if error is not None:
            return _Outcome(request_id, 0, True, f"error {type(error).__name__}: {error}")
        if elapsed > self.config.timeout_s:
            # Lambda would have stopped the function: the batch failed, whatever it returned.
            return _Outcome(request_id, 0, True, f"timed out after {self.config.timeout_s} s")
        if not self.config.report_batch_item_failures:
            return _Outcome(request_id, None, False, "ok")
        parsed = parse_batch_response(response, [sequence_number(r) for r in records])
        if parsed.malformed is not None:
            return _Outcome(request_id, 0, False, f"malformed response: {parsed.malformed}")
        if parsed.failed_index is None:
            return _Outcome(request_id, None, False, "ok")
        failed = sequence_number(records[parsed.failed_index])
        return _Outcome(request_id, parsed.failed_index, False, f"partial failure from {failed}")
