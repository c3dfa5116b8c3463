"""Domain events -> EventBridge PutEvents, without ever dropping one.

PutEvents takes at most 10 entries and 256 KB per call and can fail per entry (the response's
`FailedEntryCount` and an `ErrorCode` on each failed entry) while the call itself succeeds.
EventPublisher sends the events in order, in chunks within both limits, one chunk after the
other; when entries of a chunk fail it resends only those, with exponential backoff and full
jitter, and after `max_attempts` it raises PublishFailed naming every entry still failing, so
the stream record is reported as failed and Lambda retries it (event ids are deterministic,
so subscribers dedupe what a retry sends twice). Throttling errors of the whole call are
retried the same way; any other ClientError propagates at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from harvest.domain.events import DomainEvent, entry_size, to_put_events_entry

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

__all__ = ["EventPublisher", "FailedEntry", "PublishFailed"]

MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = 256 * 1024
# Errors of the whole call that are worth another attempt: throttling and transient service
# faults. (The client's own standard retry mode has already retried these a few times.)
RETRYABLE_CALL_ERRORS = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalException",
        "InternalFailure",
    }
)


@dataclass(frozen=True, slots=True)
class FailedEntry:
    event_id: str
    detail_type: str
    entity_id: str
    error_code: str
    error_message: str

    def __str__(self) -> str:
        return (
            f"{self.detail_type} {self.entity_id} (event {self.event_id}): "
            f"{self.error_code} {self.error_message}".rstrip()
        )


class PublishFailed(RuntimeError):
    """Entries were still refused after every attempt; nothing was dropped silently."""

    def __init__(self, failures: Sequence[FailedEntry], attempts: int) -> None:
        self.failures = list(failures)
        self.attempts = attempts
        listed = "; ".join(str(failure) for failure in self.failures)
        super().__init__(
            f"{len(self.failures)} event(s) still failing after {attempts} attempts: {listed}"
        )


@dataclass(frozen=True, slots=True)
class _Pending:
    event: DomainEvent
    entry: dict[str, Any]


class EventPublisher:
    def __init__(
        self,
        client: EventBridgeClient,
        bus_name: str,
        *,
        max_attempts: int = 5,
        base_delay_s: float = 0.1,
        max_delay_s: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.bus_name = bus_name
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self._sleep = sleep
        self._rng = rng

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Puts every event on the bus, in order; PublishFailed if any cannot be put."""
        pending = [_Pending(event, to_put_events_entry(event, self.bus_name)) for event in events]
        for chunk in chunked(pending):
            self._send_chunk(chunk)

    def _send_chunk(self, chunk: list[_Pending]) -> None:
        remaining = chunk
        failures: list[FailedEntry] = []
        for attempt in range(self.max_attempts):
            if attempt:
                self._sleep(self.backoff(attempt))
            remaining, failures = self._attempt(remaining)
            if not remaining:
                return
        raise PublishFailed(failures, self.max_attempts)

    def _attempt(self, pending: list[_Pending]) -> tuple[list[_Pending], list[FailedEntry]]:
        """One PutEvents call: the entries that must be sent again, and why."""
        try:
            entries = cast("list[PutEventsRequestEntryTypeDef]", [p.entry for p in pending])
            response = self.client.put_events(Entries=entries)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code not in RETRYABLE_CALL_ERRORS:
                raise
            message = str(error.response.get("Error", {}).get("Message", ""))
            return pending, [_failure(p, code, message) for p in pending]
        results = response.get("Entries", [])
        if not response.get("FailedEntryCount") and len(results) == len(pending):
            return [], []
        again: list[_Pending] = []
        failures: list[FailedEntry] = []
        for index, item in enumerate(pending):
            result: Any = results[index] if index < len(results) else {}
            if result.get("EventId") and not result.get("ErrorCode"):
                continue
            again.append(item)
            failures.append(
                _failure(
                    item,
                    str(result.get("ErrorCode") or "NoResult"),
                    str(result.get("ErrorMessage") or ""),
                )
            )
        return again, failures

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt))."""
        return self._rng() * min(self.max_delay_s, self.base_delay_s * 2.0**attempt)


def chunked(pending: Sequence[_Pending]) -> list[list[_Pending]]:
    """Consecutive chunks of at most 10 entries and 256 KB (as EventBridge counts it)."""
    chunks: list[list[_Pending]] = []
    current: list[_Pending] = []
    current_bytes = 0
    for item in pending:
        size = entry_size(item.entry)
        if current and (
            len(current) == MAX_ENTRIES_PER_CALL or current_bytes + size > MAX_BYTES_PER_CALL
        ):
            chunks.append(current)
            current, current_bytes = [], 0
        current.append(item)
        current_bytes += size
    if current:
        chunks.append(current)
    return chunks


def _failure(item: _Pending, code: str, message: str) -> FailedEntry:
    return FailedEntry(
        event_id=item.event.id,
        detail_type=item.event.detail_type.value,
        entity_id=item.event.entity_id,
        error_code=code,
        error_message=message,
    )
