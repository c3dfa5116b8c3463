"""Failures of a local stream mapping: reading what the function reports, and what is retained
when the mapping gives up on records.

The record retained is the one Lambda sends to an SQS/SNS on-failure destination for a DynamoDB
stream: metadata pointing at the failed range of the stream, not the records themselves
(services-dynamodb-errors in the Lambda developer guide).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from harvest.local.records import approximate_creation, sequence_number

__all__ = [
    "BatchResponse",
    "Condition",
    "DeadLetterSink",
    "FailedBatch",
    "JsonLinesDeadLetterSink",
    "MemoryDeadLetterSink",
    "failure_record",
    "parse_batch_response",
]

Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]


@dataclass(frozen=True)
class BatchResponse:
    """How Lambda reads a handler's result: all done, done up to `failed_index`, or malformed."""

    failed_index: int | None
    malformed: str | None = None


def parse_batch_response(response: object, sequence_numbers: Sequence[str]) -> BatchResponse:
    """Reads a ReportBatchItemFailures response for a batch with these sequence numbers.

    Success: None, {}, a missing/None/empty batchItemFailures. Otherwise the batch is
    checkpointed before the lowest reported sequence number. A failure entry without a usable
    itemIdentifier, or one naming a record outside the batch, fails the whole batch.
    """
    if response is None:
        return BatchResponse(failed_index=None)
    if not isinstance(response, Mapping):
        return BatchResponse(failed_index=0, malformed=f"response is {type(response).__name__}")
    failures = response.get("batchItemFailures")
    if failures is None:
        return BatchResponse(failed_index=None)
    if not isinstance(failures, list):
        return BatchResponse(failed_index=0, malformed="batchItemFailures is not a list")
    positions = {number: index for index, number in enumerate(sequence_numbers)}
    reported: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            return BatchResponse(failed_index=0, malformed=f"bad batch item failure {failure!r}")
        if identifier not in positions:
            return BatchResponse(failed_index=0, malformed=f"{identifier} is not in the batch")
        reported.append(positions[identifier])
    # A batch is in sequence order, so the lowest sequence number is the earliest position.
    return BatchResponse(failed_index=min(reported) if reported else None)


class DeadLetterSink(Protocol):
    def send(self, failure: Mapping[str, Any]) -> None: ...


class JsonLinesDeadLetterSink:
    """Appends one failure record per line; safe to share between poller threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, failure: Mapping[str, Any]) -> None:
        line = json.dumps(failure, separators=(",", ":"), sort_keys=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class MemoryDeadLetterSink:
    """Keeps failure records in a list (tests, and runs that print a summary at exit)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, failure: Mapping[str, Any]) -> None:
        with self._lock:
            self.records.append(dict(failure))


@dataclass(frozen=True)
class FailedBatch:
    """A contiguous run of records of one shard that the mapping gives up on."""

    shard_id: str
    records: Sequence[Mapping[str, Any]]
    condition: Condition
    invoke_count: int
    request_id: str
    function_error: bool


def failure_record(
    batch: FailedBatch, *, function_arn: str, stream_arn: str, now: float
) -> dict[str, Any]:
    first, last = batch.records[0], batch.records[-1]
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if batch.function_error:
        # The runtime reports an uncaught exception as an Unhandled function error.
        response_context["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": batch.request_id,
            "functionArn": function_arn,
            "condition": batch.condition,
            "approximateInvokeCount": batch.invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(now, milliseconds=True),
        "DDBStreamBatchInfo": {
            "shardId": batch.shard_id,
            "startSequenceNumber": sequence_number(first),
            "endSequenceNumber": sequence_number(last),
            "approximateArrivalOfFirstRecord": _iso(approximate_creation(first) or now),
            "approximateArrivalOfLastRecord": _iso(approximate_creation(last) or now),
            "batchSize": len(batch.records),
            "streamArn": stream_arn,
        },
    }


def _iso(epoch: float, *, milliseconds: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    text = moment.isoformat(timespec="milliseconds" if milliseconds else "seconds")
    return text.replace("+00:00", "Z")
