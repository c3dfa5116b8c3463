"""The insight refresher's run: recompute every area whose published windows a day
boundary has moved (its insight's `validUntil` has passed), with no new event in it.

Why: an area's windows (7/14/30 days) are computed when an event touches the area; with no
event, time still moves buckets out of the windows. The route answers from the stored
insight only (O(1) reads), so something must recompute a quiet area once its windows have
moved: this, on a schedule (template.yaml RefreshRule -> RefreshQueue -> RefreshFunction).

The work list is the due index (store.refresh_index), the effect the derivation consumer's
own InsightService.refresh: the same computation (so the same disclosure rules), the same
newer-computation guard (idempotent: a duplicate tick, two ticks at once, or a refresh racing
an event-driven one, land on the same item), a new version only when a published figure
changed. Each area is refreshed once per run (coalesced), whatever the index returns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from harvest.domain.common import utc_now
from harvest.services.insights import InsightOutcome
from harvest.services.support import Clock

__all__ = ["AreaRefresher", "DueAreas", "RefreshReport", "RefreshService"]


class DueAreas(Protocol):
    def due_areas(self, today: date) -> Iterable[str]: ...


class AreaRefresher(Protocol):
    def refresh(self, area: str, correlation_id: str) -> InsightOutcome: ...


@dataclass(slots=True)
class RefreshReport:
    today: date
    decisions: Counter[str] = field(default_factory=Counter)
    failed: dict[str, str] = field(default_factory=dict)  # area -> the error, for the log
    # Stopped for lack of time: the areas not reached are still due at the next tick.
    stopped_early: bool = False

    @property
    def refreshed(self) -> int:
        return sum(self.decisions.values())


class RefreshService:
    def __init__(self, due: DueAreas, insights: AreaRefresher, clock: Clock = utc_now) -> None:
        self.due = due
        self.insights = insights
        self.clock = clock

    def run(
        self, correlation_id: str, *, time_left: Callable[[], bool] = lambda: True
    ) -> RefreshReport:
        """Refreshes every due area once; an area that fails is noted and the others go on
        (it stays due, so the next tick tries it again). `time_left()` is asked before each
        area: False stops the run with the rest still due."""
        report = RefreshReport(self.clock().date())
        seen: set[str] = set()
        for area in self.due.due_areas(report.today):
            if area in seen:
                continue
            if not time_left():
                report.stopped_early = True
                break
            seen.add(area)
            try:
                outcome = self.insights.refresh(area, correlation_id)
            except Exception as error:  # one broken area must not starve the others
                report.failed[area] = repr(error)
                continue
            report.decisions[outcome.decision] += 1
        return report
