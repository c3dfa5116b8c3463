"""The insight worker's decision per area: recompute the published signals, store them if
they changed, and never let an older computation overwrite a newer one.

Recomputing from the buckets (rather than applying the record's delta) makes the effect
idempotent: a duplicate, a retry or a replay of the whole stream recomputes the same state.
The guard (as-of day, sum of bucket write counters) orders concurrent computations; see
harvest.domain.insight and SignalService.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from harvest.domain.insight import Insight, insight_of, is_newer
from harvest.services.signals import AreaSignalsView
from harvest.store.insights import StoredInsight

__all__ = ["InsightOutcome", "InsightService", "InsightStore"]

type InsightDecision = Literal["written", "unchanged", "stale"]


class AreaReader(Protocol):
    def for_area(self, geohash: str, *, consistent: bool = False) -> AreaSignalsView: ...


class InsightStore(Protocol):
    """What the service needs of InsightRepository."""

    def current(self, area: str) -> StoredInsight | None: ...

    def save(self, insight: Insight, correlation_id: str) -> bool: ...

    def advance(
        self, area: str, as_of_day: date, input_version: int, valid_until: date | None = None
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class InsightOutcome:
    decision: InsightDecision
    insight: Insight


class InsightService:
    def __init__(self, signals: AreaReader, store: InsightStore) -> None:
        self.signals = signals
        self.store = store

    def refresh(self, area: str, correlation_id: str) -> InsightOutcome:
        """Raises InvalidGeohash for an area that is not a geohash of precision 4-6."""
        # Strongly consistent: the bucket write that woke us must be in what we read.
        view = self.signals.for_area(area, consistent=True)
        insight = insight_of(view.signals, view.input_version, view.valid_until)
        candidate = (insight.as_of_day, insight.input_version)
        stored = self.store.current(insight.area)
        if stored is not None and not is_newer(candidate, stored.guard):
            return InsightOutcome("stale", insight)
        if stored is not None and stored.digests == insight.digests:
            # Nothing published changed: no new version (no event, no AI call), but the
            # guard moves on so that a slower computation of older buckets still loses.
            advanced = self.store.advance(insight.area, *candidate, insight.valid_until)
            return InsightOutcome("unchanged" if advanced else "stale", insight)
        written = self.store.save(insight, correlation_id)
        return InsightOutcome("written" if written else "stale", insight)
