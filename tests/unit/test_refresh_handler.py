"""The refresher Lambda's contract with its queue (consumers.refresh): a tick whose areas
all refreshed succeeds; one with a failed area is reported by messageId (it comes back and,
after maxReceiveCount, alarms from the DLQ); running out of time is no failure."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harvest.consumers import refresh
from harvest.services.refresh import RefreshReport
from harvest.settings import RefreshSettings
from support.clock import NOW
from support.stored_records import LongContext

TICK = {"id": "t-7", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


@pytest.fixture(autouse=True)
def forget_the_graph() -> Iterator[None]:
    yield
    refresh.refresher.reset()


class FakeRefresher:
    def __init__(self, report: RefreshReport) -> None:
        self.report = report
        self.runs: list[str] = []
        self.time_left: Callable[[], bool] | None = None

    def run(
        self, correlation_id: str, *, time_left: Callable[[], bool] = lambda: True
    ) -> RefreshReport:
        self.runs.append(correlation_id)
        self.time_left = time_left
        return self.report


def _event(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m-{n}", "body": body if isinstance(body, str) else json.dumps(body)}
            for n, body in enumerate(bodies)
        ]
    }


def _use(monkeypatch: pytest.MonkeyPatch, report: RefreshReport) -> FakeRefresher:
    fake = FakeRefresher(report)
    refresh.refresher.override(refresh.Refresher(RefreshSettings(), fake))
    return fake


def test_a_tick_runs_the_refresher_once_with_the_ticks_correlation_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = RefreshReport(NOW.date())
    report.decisions.update({"written": 2, "unchanged": 1})
    fake = _use(monkeypatch, report)

    assert refresh.handler(_event(TICK), LongContext()) == {"batchItemFailures": []}
    assert fake.runs == ["refresh-t-7"]
    assert fake.time_left is not None
    assert fake.time_left() is True  # 60 s left, 2 s needed


def test_a_failed_area_fails_the_tick_and_out_of_time_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failing = RefreshReport(NOW.date(), failed={"u33d": "RuntimeError()"})
    _use(monkeypatch, failing)
    assert refresh.handler(_event(TICK), LongContext()) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    _use(monkeypatch, RefreshReport(NOW.date(), stopped_early=True))
    assert refresh.handler(_event(TICK), LongContext()) == {"batchItemFailures": []}


@pytest.mark.parametrize(
    "body",
    ["not json", ["a", "list"], {"source": "harvest.listings", "detail-type": "Scheduled Event"}],
)
def test_what_is_no_scheduled_event_is_poison(monkeypatch: pytest.MonkeyPatch, body: Any) -> None:
    fake = _use(monkeypatch, RefreshReport(NOW.date()))
    assert refresh.handler(_event(body), LongContext()) == {
        "batchItemFailures": [{"itemIdentifier": "m-0"}]
    }
    assert fake.runs == []
