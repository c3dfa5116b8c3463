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

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypedDict

from aws_lambda_powertools import Logger

__all__ = [
    "BatchItemFailure",
    "BatchResponse",
    "RemainingTime",
    "correlation_id_of",
    "process_batch",
    "process_grouped",
    "process_messages",
    "process_then_refresh",
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
    steps = (
        _Step(
            sequence=sequence_number_of(record),
            record=record,
            fields={
                "eventName": record.get("eventName"),
                "pk": _pk_of(record),
                "position": index,
                "batchSize": len(records),
            },
            run=partial(process_record, record),
        )
        for index, record in enumerate(records)
    )
    return _run(steps, context, logger, min_remaining_ms, _RECORD)


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
    steps = (
        _Step(
            sequence=sequence_number_of(records[index]),
            record=last[group],
            fields={"group": group, "records": counts[group], "batchSize": len(records)},
            run=partial(process_group, group, last[group]),
        )
        for group, index in first.items()
    )
    return _run(steps, context, logger, min_remaining_ms, _GROUP)


def process_then_refresh(
    event: Mapping[str, Any],
    context: RemainingTime,
    process_record: Callable[[Mapping[str, Any]], Iterable[str]],
    refresh_group: Callable[[str, Mapping[str, Any]], object],
    *,
    logger: Logger,
    min_remaining_ms: int,
    rank: Callable[[str], int] | None = None,
) -> BatchResponse:
    """process_batch, then process_grouped over what it did: each record is processed in
    order and says which groups (areas) it touched; then each group touched by a processed
    record is refreshed once, with its last record, in the order of `rank` (lowest first:
    e.g. cells before the areas made of them), then of its first record.

    The response reports the earliest record that must come again: when a group fails (or
    time runs short before it), the earliest first record of it and of the groups not yet
    refreshed (what follows, processed or not, is idempotent to redo), else the record
    processing stopped at, else nothing. The record phase stops with twice the minimum
    time left, so that the refresh phase has time to run."""
    records: list[Mapping[str, Any]] = list(event.get("Records") or [])
    first: dict[str, int] = {}
    last: dict[str, Mapping[str, Any]] = {}
    counts: dict[str, int] = {}

    def run(index: int) -> None:
        for group in process_record(records[index]):
            first.setdefault(group, index)
            last[group] = records[index]
            counts[group] = counts.get(group, 0) + 1

    record_steps = (
        _Step(
            sequence=sequence_number_of(record),
            record=record,
            fields={
                "eventName": record.get("eventName"),
                "pk": _pk_of(record),
                "position": index,
                "batchSize": len(records),
            },
            run=partial(run, index),
        )
        for index, record in enumerate(records)
    )
    processed = _run(record_steps, context, logger, 2 * min_remaining_ms, _RECORD)
    ordered = sorted(first, key=lambda group: (rank(group) if rank else 0, first[group]))
    # What a failure at position i reports: the earliest first record of groups i and after.
    earliest = [first[group] for group in ordered]
    for position in range(len(earliest) - 2, -1, -1):
        earliest[position] = min(earliest[position], earliest[position + 1])
    group_steps = (
        _Step(
            sequence=sequence_number_of(records[earliest[position]]),
            record=last[group],
            fields={"group": group, "records": counts[group], "batchSize": len(records)},
            run=partial(refresh_group, group, last[group]),
        )
        for position, group in enumerate(ordered)
    )
    refreshed = _run(group_steps, context, logger, min_remaining_ms, _GROUP)
    return refreshed if refreshed["batchItemFailures"] else processed


def event_detail(message: Mapping[str, Any], *, exact: bool = False) -> dict[str, Any]:
    """The `detail` of the EventBridge event an SQS message carries (a rule's queue target
    gets the whole event as the body). ValueError when the body is no such event: the
    message fails and, after maxReceiveCount receives, reaches the DLQ. `exact`: numbers as
    Decimal, as DynamoDB gives them."""
    try:
        body = json.loads(str(message.get("body", "")), parse_float=Decimal if exact else float)
        detail = body["detail"]
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"message {message.get('messageId')} carries no event") from error
    if not isinstance(detail, dict):
        raise ValueError(f"message {message.get('messageId')} has no event detail")
    return detail


def process_messages(
    event: Mapping[str, Any],
    context: RemainingTime,
    process_message: RecordProcessor,
    *,
    logger: Logger,
    min_remaining_ms: int,
) -> BatchResponse:
    """The SQS counterpart of process_batch: messages of a standard queue have no order, so
    a failed message does not stop the others; each failure is reported by its `messageId`
    (it comes back after the queue's visibility timeout, and after maxReceiveCount receives
    it goes to the queue's DLQ). With too little time left, every message not yet done is
    reported. Effects must be idempotent: SQS delivers at least once."""
    messages: list[Mapping[str, Any]] = list(event.get("Records") or [])
    failures: list[BatchItemFailure] = []
    try:
        for index, message in enumerate(messages):
            message_id = str(message.get("messageId", ""))
            fields = {"messageId": message_id, "position": index, "batchSize": len(messages)}
            remaining = context.get_remaining_time_in_millis()
            if remaining < min_remaining_ms:
                logger.warning(
                    "stopping before message: invocation time is running out",
                    extra={**fields, "remainingMs": remaining, "minRemainingMs": min_remaining_ms},
                )
                failures.extend(
                    {"itemIdentifier": str(rest.get("messageId", ""))} for rest in messages[index:]
                )
                break
            try:
                process_message(message)
            except Exception:
                logger.exception("message failed; reporting it for redelivery", extra=fields)
                failures.append({"itemIdentifier": message_id})
                continue
            logger.info("message processed", extra=fields)
    finally:
        logger.set_correlation_id(None)
    return {"batchItemFailures": failures}


@dataclass(frozen=True, slots=True)
class _Step:
    """One unit of work: the sequence number to report if it cannot be done, the record whose
    correlation id its log lines carry, their extra fields, and the work itself."""

    sequence: str
    record: Mapping[str, Any]
    fields: dict[str, Any]
    run: Callable[[], object]


@dataclass(frozen=True, slots=True)
class _Wording:
    unit: str
    failed: str


_RECORD = _Wording("record", "record failed; reporting it for retry")
_GROUP = _Wording("group", "group failed; reporting its first record for retry")


def _run(
    steps: Iterable[_Step],
    context: RemainingTime,
    logger: Logger,
    min_remaining_ms: int,
    wording: _Wording,
) -> BatchResponse:
    """In order; stop at the first failure, or before a step when time runs short, and
    report that step's sequence number (the module doc)."""
    try:
        for step in steps:
            logger.set_correlation_id(correlation_id_of(step.record))
            fields = {"sequenceNumber": step.sequence, **step.fields}
            remaining = context.get_remaining_time_in_millis()
            if remaining < min_remaining_ms:
                logger.warning(
                    f"stopping before {wording.unit}: invocation time is running out",
                    extra={**fields, "remainingMs": remaining, "minRemainingMs": min_remaining_ms},
                )
                return _failed_at(step.sequence)
            try:
                step.run()
            except Exception:
                logger.exception(wording.failed, extra=fields)
                return _failed_at(step.sequence)
            logger.info(f"{wording.unit} processed", extra=fields)
    finally:
        logger.set_correlation_id(None)
    return {"batchItemFailures": []}


def _failed_at(sequence: str) -> BatchResponse:
    return {"batchItemFailures": [{"itemIdentifier": sequence}]}
