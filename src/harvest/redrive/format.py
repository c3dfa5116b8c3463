"""The DLQ file format: Lambda's failure record for a DynamoDB stream, as the local runtime
writes it (`failure_record`, one JSON object a line in DIR/dlq/<Function>.jsonl) and as
`harvest redrive` reads it back (`BatchInfo.of`).

The record is the one Lambda sends to an SQS/SNS on-failure destination for a DynamoDB stream:
metadata pointing at the failed range of the stream, not the records themselves
(services-dynamodb-errors in the Lambda developer guide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from harvest.local.records import approximate_creation, sequence_number

__all__ = ["BatchInfo", "Condition", "FailedBatch", "failure_record"]

Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]


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


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """The DDBStreamBatchInfo of a failure record (and the function it names)."""

    stream_arn: str
    shard_id: str
    start: str
    end: str
    size: int
    function_arn: str

    @classmethod
    def of(cls, failure: object) -> BatchInfo | None:
        if not isinstance(failure, Mapping):
            return None
        info: Any = failure.get("DDBStreamBatchInfo")
        context: Any = failure.get("requestContext") or {}
        try:
            return cls(
                str(info["streamArn"]),
                str(info["shardId"]),
                str(int(info["startSequenceNumber"])),
                str(int(info["endSequenceNumber"])),
                int(info.get("batchSize", 0)),
                str(context.get("functionArn", "")),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def span(self) -> str:
        records = "record" if self.size == 1 else "records"
        return f"shard {self.shard_id} {self.start}..{self.end} ({self.size} {records})"
