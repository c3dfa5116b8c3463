"""The AI worker's debounce of explanations (issue 9, docs/scaling.md §4 row 1).

Every new insight version used to explain its three windows: ~2.7 explanations per core
write, so with a model configured the worker kept up with ~0.1 core writes/s per shard. Now
an area's window is explained again only when what an explanation says could change (its
shape: each crop's classification, in the published order) and, whatever happens, at most
once per `debounce` (30 minutes by default). A fallback (model unavailable) is not final: it
is tried again once the debounce has passed. A window with no published crop (a new or
sparse area) is never sent to the model: there is nothing to explain. The latest
explanation is kept per area and window without TTL, so the API can serve it after a quiet
day instead of falling back only because the calendar moved the window's figures
(services.guidance). What the debounce decides on (shape, when, model or fallback) is also
kept for all windows of an area in one small item, read once per insight, eventually
consistent (store.advice.explained_key): the AI worker's reads per insight are 0.5 RCU
instead of one 1-RCU read per window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from harvest.domain.advice import Advice
from harvest.domain.common import utc_now
from harvest.domain.insight import window_shape
from harvest.domain.signals import WindowSignals
from harvest.store.advice import Explained, LatestExplanation

__all__ = ["DebouncedExplainer", "Decision", "LatestStore"]

# Bounds the memory of own writes (a warm Lambda lives for hours over many areas).
_REMEMBERED = 1024

type Decision = Literal["explained", "unchanged", "debounced", "nothing_published"]


def _shows_a_crop(window: WindowSignals) -> bool:
    """Whether a model has anything to explain in the window."""
    return any(signal.published for signal in window.crops)


class LatestStore(Protocol):
    def explained(self, area: str) -> dict[int, Explained] | None: ...

    def latest(self, area: str, days: int) -> LatestExplanation | None: ...

    def put_latest(
        self,
        area: str,
        days: int,
        shape: str,
        advice: Advice,
        *,
        correlation_id: str,
        now: datetime,
    ) -> None: ...


class Explainer(Protocol):
    def explain(self, area: str, window: WindowSignals, correlation_id: str) -> Advice: ...


@dataclass(frozen=True, slots=True)
class DebouncedExplainer:
    advisor: Explainer
    store: LatestStore
    debounce: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = utc_now
    # What this worker itself wrote last, per (area, days): the store may be read eventually
    # consistent, and a read a moment behind this process's own write must not explain twice.
    written: dict[tuple[str, int], Explained] = field(default_factory=dict)

    def explain(self, area: str, window: WindowSignals, correlation_id: str) -> Decision:
        """Explain the window if it is due (see the module doc); says what it decided."""
        return self.explain_all(area, (window,), correlation_id)[0]

    def explain_all(
        self,
        area: str,
        windows: Sequence[WindowSignals],
        correlation_id: str,
        *,
        newest: Callable[[], Sequence[WindowSignals]] | None = None,
    ) -> list[Decision]:
        """Each window of an insight explained if due; one read of the area's Explained
        item for all of them (store.advice.explained_key), none when nothing is published.
        `newest`: the windows to explain instead, should any be due (the AI worker reads
        the stored insight, which may be newer than its event, only then)."""
        state = self.store.explained(area) if any(map(_shows_a_crop, windows)) else {}
        now = self.clock()

        def decide(window: WindowSignals) -> Decision:
            if not _shows_a_crop(window):
                return "nothing_published"  # the API's deterministic fallback says it
            return self._decide(area, window, state, now)

        decisions = [decide(window) for window in windows]
        if newest is not None and "explained" in decisions:
            windows = newest()
            decisions = [decide(window) for window in windows]
        for window, decision in zip(windows, decisions, strict=True):
            if decision == "explained":
                self._explain(area, window, correlation_id, now)
        return decisions

    def _decide(
        self, area: str, window: WindowSignals, state: dict[int, Explained] | None, now: datetime
    ) -> Decision:
        """What to do with a window that has a published crop (see the module doc)."""
        latest = state.get(window.days) if state is not None else self._legacy(area, window.days)
        own = self.written.get((area, window.days))
        if own is not None and (latest is None or own.called_at > latest.called_at):
            latest = own
        if latest is not None:
            if latest.shape == window_shape(window) and latest.source == "bedrock":
                return "unchanged"
            if now - latest.called_at < self.debounce:
                return "debounced"
        return "explained"

    def _explain(
        self, area: str, window: WindowSignals, correlation_id: str, now: datetime
    ) -> None:
        advice = self.advisor.explain(area, window, correlation_id)
        shape = window_shape(window)
        self.store.put_latest(
            area, window.days, shape, advice, correlation_id=correlation_id, now=now
        )
        if len(self.written) >= _REMEMBERED:
            self.written.clear()
        self.written[(area, window.days)] = Explained(shape, now, advice.source)

    def _legacy(self, area: str, days: int) -> Explained | None:
        """An area explained before its Explained item existed: the window's latest."""
        latest = self.store.latest(area, days)
        if latest is None:
            return None
        return Explained(latest.shape, latest.called_at, latest.advice.source)
