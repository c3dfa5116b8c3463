"""RefreshService: every due area once per run, failures noted without starving the others,
and a run that is out of time leaves the rest due (services.refresh)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from harvest.domain.insight import Insight
from harvest.services.insights import InsightOutcome
from harvest.services.refresh import RefreshService
from support.clock import NOW, FakeClock


class Due:
    def __init__(self, areas: Iterable[str]) -> None:
        self.areas = list(areas)
        self.asked: list[date] = []

    def due_areas(self, today: date) -> Iterator[str]:
        self.asked.append(today)
        yield from self.areas


class Refresher:
    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing or set()
        self.calls: list[tuple[str, str]] = []

    def refresh(self, area: str, correlation_id: str) -> InsightOutcome:
        self.calls.append((area, correlation_id))
        if area in self.failing:
            raise RuntimeError(f"{area} is broken")
        insight = Insight(area, NOW.date(), 1, ())
        if area.endswith("c"):
            return InsightOutcome("unchanged", insight)
        return InsightOutcome("written", insight)


def test_every_due_area_is_refreshed_once_as_of_the_clocks_day() -> None:
    due, refresher = Due(["u33d", "u33dc", "u33d", "u33dc"]), Refresher()

    report = RefreshService(due, refresher, FakeClock()).run("tick")

    assert due.asked == [NOW.date()]
    assert refresher.calls == [("u33d", "tick"), ("u33dc", "tick")]
    assert dict(report.decisions) == {"written": 1, "unchanged": 1}
    assert (report.refreshed, report.failed, report.stopped_early) == (2, {}, False)


def test_a_failing_area_is_reported_and_the_others_still_refreshed() -> None:
    refresher = Refresher(failing={"u33d"})

    report = RefreshService(Due(["u33d", "u33e", "u33f"]), refresher, FakeClock()).run("t")

    assert [area for area, _ in refresher.calls] == ["u33d", "u33e", "u33f"]
    assert report.failed == {"u33d": "RuntimeError('u33d is broken')"}
    assert report.refreshed == 2


def test_out_of_time_stops_before_the_next_area_and_says_so() -> None:
    refresher, budget = Refresher(), iter([True, True, False])

    report = RefreshService(Due(["a", "b", "c", "d"]), refresher, FakeClock()).run(
        "t", time_left=lambda: next(budget)
    )

    assert [area for area, _ in refresher.calls] == ["a", "b"]
    assert (report.refreshed, report.stopped_early) == (2, True)


def test_nothing_due_is_a_run_that_does_nothing() -> None:
    refresher = Refresher()
    report = RefreshService(Due([]), refresher, FakeClock()).run("t")
    assert (refresher.calls, report.refreshed, report.stopped_early) == ([], 0, False)
