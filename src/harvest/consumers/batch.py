"""The stream-batch runner every consumer uses.

Lambda retries a DynamoDB stream batch from the lowest sequence number reported in
`batchItemFailures`, so the runner processes `Records` in order, stops at the first record
that raises and reports only that record: the records before it are done, the record and
everything after it come again. Effects must therefore be idempotent (at-least-once).

Before each record it checks the invocation's remaining time; below the threshold it stops
and reports the record as failed, so the rest of the batch is retried by Lambda instead of
the invocation being killed by a timeout halfway through a record (a timeout fails the whole
batch and, without partial progress, would make no progress at all on a slow batch).

One structured log line per record, carrying the correlation id of the core write that
produced it (DESIGN §3 invariant 3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypedDict

from aws_lambda_powertools import Logger

__all__ = [
    "BatchItemFailure",
    "BatchResponse",
    "RemainingTime",
    "correlation_id_of",
    "process_batch",
    "process_grouped",
    "sequence_number_of",
]

type RecordProcessor = Callable[[Mapping[str, Any]], object]


class RemainingTime(Protocol):
    """The part of Lambda's context object the runner needs."""

    def get_remaining_time_in_millis(self) -> int: ...


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    batchItemFailures: list[BatchItemFailure]


def sequence_number_of(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


def correlation_id_of(record: Mapping[str, Any]) -> str | None:
    """The correlationId of the new image, else of the old one (a REMOVE), else None."""
    body: Mapping[str, Any] = record.get("dynamodb") or {}
    for image_name in ("NewImage", "OldImage"):
        image = body.get(image_name)
        if not isinstance(image, Mapping):
            continue
        attribute = image.get("correlationId")
        if isinstance(attribute, Mapping) and isinstance(attribute.get("S"), str):
            return str(attribute["S"])
    return None


def _pk_of(record: Mapping[str, Any]) -> str | None:
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk = keys.get("PK") if isinstance(keys, Mapping) else None
    return str(pk["S"]) if isinstance(pk, Mapping) and "S" in pk else None


def process_batch(
    event: Mapping[str, Any],
    context: RemainingTime,
    process_record: RecordProcessor,
    *,
    logger: Logger,
    min_remaining_ms: int,
) -> BatchResponse:
    """Runs process_record over event["Records"] in order; see the module doc."""
    records: list[Mapping[str, Any]] = list(event.get("Records") or [])
    try:
        for index, record in enumerate(records):
            sequence = sequence_number_of(record)
            logger.set_correlation_id(correlation_id_of(record))
            fields = {
                "sequenceNumber": sequence,
                "eventName": record.get("eventName"),
                "pk": _pk_of(record),
                "position": index,
                "batchSize": len(records),
            }
            remaining = context.get_remaining_time_in_millis()
            if remaining < min_remaining_ms:
                logger.warning(
                    "stopping before record: invocation time is running out",
                    extra={**fields, "remainingMs": remaining, "minRemainingMs": min_remaining_ms},
                )
                return _failed_at(sequence)
            try:
                process_record(record)
            except Exception:
                logger.exception("record failed; reporting it for retry", extra=fields)
                return _failed_at(sequence)
            logger.info("record processed", extra=fields)
    finally:
        logger.set_correlation_id(None)
    return {"batchItemFailures": []}


def process_grouped(
    event: Mapping[str, Any],
    context: RemainingTime,
    group_of: Callable[[Mapping[str, Any]], str | None],
    process_group: Callable[[str, Mapping[str, Any]], object],
    *,
    logger: Logger,
    min_remaining_ms: int,
) -> BatchResponse:
    """Coalescing for consumers that recompute state: one call per group (e.g. an area)
    however many records of the batch touch it, with the group's last record (its newest
    correlation id). Groups run in the order of their first record; a failure, or too little
    time left, reports that first record, so Lambda retries from it: every record after it,
    of any group, comes again, and the groups done before it are done (recomputing is
    idempotent, so what comes again twice is harmless). Records of no group are skipped."""
    records: list[Mapping[str, Any]] = list(event.get("Records") or [])
    first: dict[str, int] = {}
    last: dict[str, Mapping[str, Any]] = {}
    counts: dict[str, int] = {}
    for index, record in enumerate(records):
        group = group_of(record)
        if group is not None:
            first.setdefault(group, index)
            last[group] = record
            counts[group] = counts.get(group, 0) + 1
    try:
        for group, index in first.items():
            record = last[group]
            sequence = sequence_number_of(records[index])
            logger.set_correlation_id(correlation_id_of(record))
            fields = {
                "group": group,
                "sequenceNumber": sequence,
                "records": counts[group],
                "batchSize": len(records),
            }
            remaining = context.get_remaining_time_in_millis()
            if remaining < min_remaining_ms:
                logger.warning(
                    "stopping before group: invocation time is running out",
                    extra={**fields, "remainingMs": remaining, "minRemainingMs": min_remaining_ms},
                )
                return _failed_at(sequence)
            try:
                process_group(group, record)
            except Exception:
                logger.exception("group failed; reporting its first record for retry", extra=fields)
                return _failed_at(sequence)
            logger.info("group processed", extra=fields)
    finally:
        logger.set_correlation_id(None)
    return {"batchItemFailures": []}


def _failed_at(sequence: str) -> BatchResponse:
    return {"batchItemFailures": [{"itemIdentifier": sequence}]}
