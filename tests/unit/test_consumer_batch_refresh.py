"""The derivation consumer's runner (process records in order, then refresh each area they
touched once) and the SQS runner (failures by messageId, the others go on)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger

from harvest.consumers.batch import process_messages, process_then_refresh

logger = Logger(service="harvest-test-consumer")


def stream_record(sequence: int) -> dict[str, Any]:
    image: dict[str, Any] = {"PK": {"S": f"LISTING#{sequence}"}, "SK": {"S": "LISTING"}}
    body = {"Keys": image, "NewImage": image, "SequenceNumber": f"1000{sequence:04d}"}
    return {"eventID": str(sequence), "eventName": "INSERT", "dynamodb": body}


class Context:
    """A Lambda context whose clock runs down by `cost_ms` per call."""

    def __init__(self, remaining_ms: int = 60_000, cost_ms: int = 0) -> None:
        self.remaining_ms, self.cost_ms = remaining_ms, cost_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self.remaining_ms
        self.remaining_ms -= self.cost_ms
        return remaining


# Which areas each record touches (by its position in the batch).
AREAS = {0: ("u33d", "u33db"), 1: ("u33d", "u33dc"), 2: ("u281",), 3: ("u33dc",), 4: ()}


class Derivation:
    def __init__(self, fail_record: int | None = None, fail_area: str | None = None) -> None:
        self.processed: list[int] = []
        self.refreshed: list[tuple[str, int]] = []
        self.fail_record, self.fail_area = fail_record, fail_area

    def record(self, record: Mapping[str, Any]) -> tuple[str, ...]:
        position = int(record["dynamodb"]["SequenceNumber"]) - 10000000
        self.processed.append(position)
        if position == self.fail_record:
            raise RuntimeError("record failed")
        return AREAS[position]

    def refresh(self, area: str, last: Mapping[str, Any]) -> None:
        self.refreshed.append((area, int(last["dynamodb"]["SequenceNumber"]) - 10000000))
        if area == self.fail_area:
            raise RuntimeError("refresh failed")


def run(derivation: Derivation, context: Context | None = None) -> Any:
    return process_then_refresh(
        {"Records": [stream_record(n) for n in range(5)]},
        context or Context(),
        derivation.record,
        derivation.refresh,
        logger=logger,
        min_remaining_ms=2000,
    )


def test_every_record_is_processed_then_each_area_refreshed_once_with_its_last_record() -> None:
    derivation = Derivation()
    assert run(derivation) == {"batchItemFailures": []}
    assert derivation.processed == [0, 1, 2, 3, 4]
    # In the order of each area's first record, with the last record that touched it.
    assert derivation.refreshed == [("u33d", 1), ("u33db", 0), ("u33dc", 3), ("u281", 2)]


def test_a_failed_record_stops_processing_and_only_the_areas_before_it_are_refreshed() -> None:
    derivation = Derivation(fail_record=2)
    response = run(derivation)
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000002"}]}
    assert derivation.processed == [0, 1, 2]
    assert derivation.refreshed == [("u33d", 1), ("u33db", 0), ("u33dc", 1)]


def test_a_failed_refresh_reports_the_first_record_of_its_area() -> None:
    # Given the refresh of u33dc fails (first touched by record 1)
    derivation = Derivation(fail_area="u33dc")
    response = run(derivation)
    # Then Lambda retries from record 1: record 0's areas are done, everything after comes
    # again (aggregation is idempotent, so the records already applied change nothing)
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000001"}]}
    assert derivation.refreshed == [("u33d", 1), ("u33db", 0), ("u33dc", 3)]


def test_the_record_phase_leaves_time_for_the_refresh_phase() -> None:
    # Given 1 s per step and 6.5 s left: records stop below 4 s (twice the minimum) left
    derivation = Derivation()
    response = run(derivation, Context(remaining_ms=6_500, cost_ms=1_000))
    assert derivation.processed == [0, 1, 2]
    # ... and the refresh phase refreshes what it can (above 2 s), then hands back the first
    # record of the first area it could not refresh: Lambda retries from there
    assert derivation.refreshed == [("u33d", 1)]
    assert response == {"batchItemFailures": [{"itemIdentifier": "10000000"}]}


def message(n: int) -> dict[str, Any]:
    return {"messageId": f"m{n}", "body": str(n)}


def test_failed_messages_are_reported_by_id_and_the_others_still_run() -> None:
    seen: list[str] = []

    def process(message: Mapping[str, Any]) -> None:
        seen.append(message["body"])
        if message["body"] in ("1", "3"):
            raise ValueError("poison")

    response = process_messages(
        {"Records": [message(n) for n in range(5)]},
        Context(),
        process,
        logger=logger,
        min_remaining_ms=2000,
    )
    assert seen == ["0", "1", "2", "3", "4"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}


def test_with_too_little_time_every_message_not_done_is_reported() -> None:
    seen: list[str] = []
    response = process_messages(
        {"Records": [message(n) for n in range(4)]},
        Context(remaining_ms=4_500, cost_ms=1_000),
        lambda m: seen.append(m["body"]),
        logger=logger,
        min_remaining_ms=2000,
    )
    assert seen == ["0", "1", "2"]
    assert response == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
