"""The stream-batch runner: in order, stop at the first failure, hand back what time forbids."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from harvest.consumers.batch import correlation_id_of, process_batch, process_grouped

logger = Logger(service="harvest-test-consumer")


def stream_record(sequence: int, correlation_id: str | None = "corr") -> dict[str, Any]:
    image: dict[str, Any] = {"PK": {"S": f"LISTING#{sequence}"}, "SK": {"S": "LISTING"}}
    if correlation_id is not None:
        image["correlationId"] = {"S": f"{correlation_id}-{sequence}"}
    return {
        "eventID": str(sequence),
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": f"1000{sequence:04d}",
        },
    }


class Context:
    """A Lambda context whose clock runs down by `cost_ms` per call."""

    def __init__(self, remaining_ms: int = 60_000, cost_ms: int = 0) -> None:
        self.remaining_ms = remaining_ms
        self.cost_ms = cost_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.remaining_ms
        self.remaining_ms -= self.cost_ms
        return remaining


class Recorder:
    def __init__(self, fail_on: int | None = None) -> None:
        self.seen: list[str] = []
        self.fail_on = fail_on

    def __call__(self, record: Mapping[str, Any]) -> None:
        sequence = record["dynamodb"]["SequenceNumber"]
        self.seen.append(sequence)
        if self.fail_on is not None and sequence == f"1000{self.fail_on:04d}":
            raise RuntimeError("boom")


def run(records: list[dict[str, Any]], recorder: Recorder, context: Context) -> Any:
    return process_batch(
        {"Records": records}, context, recorder, logger=logger, min_remaining_ms=2000
    )


def test_records_are_processed_in_order_and_all_succeed() -> None:
    recorder = Recorder()
    response = run([stream_record(n) for n in range(5)], recorder, Context())
    assert recorder.seen == [f"1000{n:04d}" for n in range(5)]
    assert response == {"batchItemFailures": []}


def test_first_failure_stops_the_batch_and_reports_its_sequence_number() -> None:
    # Given five records of which the third fails
    recorder = Recorder(fail_on=2)
    # When the batch runs
    response = run([stream_record(n) for n in range(5)], recorder, Context())
    # Then the third record is reported and the later ones were never touched
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000002"}]}
    assert recorder.seen == ["10000000", "10000001", "10000002"]


def test_remaining_time_guard_stops_before_a_record() -> None:
    # Given 10 s left and each record taking 3 s: after 3 records less than 2 s remain
    recorder = Recorder()
    context = Context(remaining_ms=10_000, cost_ms=3_000)
    response = run([stream_record(n) for n in range(5)], recorder, context)
    # Then the fourth record is reported unprocessed, so Lambda retries from there
    assert recorder.seen == ["10000000", "10000001", "10000002"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000003"}]}


def test_too_little_time_for_the_first_record_hands_back_the_whole_batch() -> None:
    recorder = Recorder()
    response = run([stream_record(n) for n in range(2)], recorder, Context(remaining_ms=1999))
    assert recorder.seen == []
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000000"}]}


def test_empty_batch_reports_no_failures() -> None:
    recorder = Recorder()
    assert run([], recorder, Context()) == {"batchItemFailures": []}
    assert process_batch({}, Context(), recorder, logger=logger, min_remaining_ms=0) == {
        "batchItemFailures": []
    }
    assert recorder.seen == []


def test_one_log_line_per_record_carries_its_correlation_id() -> None:
    # Given a logger writing JSON lines to a buffer and two records, the second failing
    stream = io.StringIO()
    buffered = Logger(service="harvest-test-consumer-log-lines", stream=stream)
    records = [stream_record(1), stream_record(2)]
    # When the batch runs
    process_batch(
        {"Records": records}, Context(), Recorder(fail_on=2), logger=buffered, min_remaining_ms=0
    )
    # Then each record logged one structured line with its own correlation id
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line]
    assert [(line["sequenceNumber"], line["correlation_id"]) for line in lines] == [
        ("10000001", "corr-1"),
        ("10000002", "corr-2"),
    ]
    assert [line["level"] for line in lines] == ["INFO", "ERROR"]


def test_correlation_id_comes_from_the_new_image_else_the_old_one() -> None:
    removal = stream_record(7)
    removal["dynamodb"]["OldImage"] = removal["dynamodb"].pop("NewImage")
    assert correlation_id_of(stream_record(3)) == "corr-3"
    assert correlation_id_of(removal) == "corr-7"
    assert correlation_id_of(stream_record(4, correlation_id=None)) is None


# ---------------------------------------------------------------- coalescing per group


def _group_of(record: Mapping[str, Any]) -> str | None:
    """Records 0-9 by their sequence's parity-like area; None for sequence 99."""
    sequence = int(record["dynamodb"]["SequenceNumber"][-4:])
    return None if sequence == 99 else "ab"[sequence % 2]


def run_grouped(
    records: list[dict[str, Any]], context: Context, fail_group: str | None = None
) -> tuple[Any, list[tuple[str, str]]]:
    calls: list[tuple[str, str]] = []

    def process(group: str, record: Mapping[str, Any]) -> None:
        calls.append((group, record["dynamodb"]["SequenceNumber"]))
        if group == fail_group:
            raise RuntimeError("boom")

    response = process_grouped(
        {"Records": records}, context, _group_of, process, logger=logger, min_remaining_ms=2000
    )
    return response, calls


def test_each_group_is_processed_once_with_its_last_record_in_first_seen_order() -> None:
    records = [stream_record(n) for n in (1, 2, 3, 99, 5, 4)]

    response, calls = run_grouped(records, Context())

    assert response == {"batchItemFailures": []}
    # b (odd) was seen first; its last record is 5; a's last record is 4; 99 has no group.
    assert calls == [("b", "10000005"), ("a", "10000004")]


def test_a_failed_group_reports_its_first_record_so_everything_after_comes_again() -> None:
    records = [stream_record(n) for n in (1, 2, 3, 4)]

    response, calls = run_grouped(records, Context(), fail_group="a")

    assert calls == [("b", "10000003"), ("a", "10000004")]
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000002"}]}


def test_too_little_time_left_hands_back_the_next_group_from_its_first_record() -> None:
    records = [stream_record(n) for n in (1, 2, 3)]

    response, calls = run_grouped(records, Context(remaining_ms=2500, cost_ms=1000))

    assert calls == [("b", "10000003")]
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000002"}]}
