"""The insight worker's decision per area: recompute the published signals, store them if
they changed, and never let an older computation overwrite a newer one.

A cell (precision 5, or 6 which publishes nothing) is recomputed from its day buckets, which
makes the effect idempotent: a duplicate, a retry or a replay of the whole stream recomputes
the same state. The guard (as-of day, sum of bucket write counters) orders concurrent
computations; see harvest.domain.insight and SignalService. The write is also conditioned on
the version read, so the worker knows which published figures it replaced.

A precision-4 area is the sum of its 32 cells' published figures (domain.release). Its
insight records which version of each cell insight its sum includes (`cells`); a refresh
swaps in, for each cell this worker changed since (`changed`), the new figures for the old
ones, when the sum still includes exactly the old version. Anything else (a sum that never
recorded its cells, a cell changed by another worker in between, a crash between the cell's
write and the sum's, a cell whose windows have moved since) sums all 32 cell insights again:
one BatchGetItem, recomputing first the cells whose windows have moved. The sum's write is
conditioned on the revision read (two shards' batches can touch one area).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal, NamedTuple, Protocol

from harvest.domain.crops import CropCatalog
from harvest.domain.disclosure import PUBLISHED_PRECISION
from harvest.domain.insight import Insight, insight_of, is_newer
from harvest.domain.release import (
    AreaFigures,
    cells_needed,
    published_figures,
    signals_of_figures,
    swap_figures,
)
from harvest.domain.signals import SignalPolicy, WindowSignals
from harvest.services.signals import AreaSignalsView
from harvest.store.insights import CellShare, StoredInsight

__all__ = ["CellChange", "InsightOutcome", "InsightService", "InsightStore"]

type InsightDecision = Literal["written", "unchanged", "stale"]

MAX_ATTEMPTS: Final = 5


class AreaReader(Protocol):
    policy: SignalPolicy
    catalog: CropCatalog

    def clock(self) -> datetime: ...

    def for_area(self, geohash: str, *, consistent: bool = False) -> AreaSignalsView: ...


class InsightStore(Protocol):
    """What the service needs of InsightRepository."""

    def current(self, area: str, *, consistent: bool = True) -> StoredInsight | None: ...

    def many(self, areas: Sequence[str]) -> dict[str, StoredInsight]: ...

    def save(
        self, insight: Insight, correlation_id: str, *, replaces: int | None = None
    ) -> bool: ...

    def advance(
        self, area: str, as_of_day: date, input_version: int, valid_until: date | None = None
    ) -> bool: ...

    def put_area(
        self,
        insight: Insight,
        cells: Mapping[str, CellShare],
        version: int,
        revision: int,
        correlation_id: str,
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class InsightOutcome:
    decision: InsightDecision
    insight: Insight


class CellChange(NamedTuple):
    """A cell insight this worker replaced: the version and windows it replaced (0 and ():
    none), and what it wrote (the same version when only the guard moved)."""

    old_version: int
    old_windows: tuple[WindowSignals, ...]
    new_version: int
    new_windows: tuple[WindowSignals, ...]
    valid_until: date


class InsightService:
    def __init__(self, signals: AreaReader, store: InsightStore) -> None:
        self.signals = signals
        self.store = store
        # Cell insights written since the areas made of them were last refreshed (the
        # derivation consumer refreshes cells first, then their precision-4 areas).
        self.changed: dict[str, CellChange] = {}

    def refresh(self, area: str, correlation_id: str) -> InsightOutcome:
        """Raises InvalidGeohash for an area that is not a geohash of precision 4-6."""
        if len(area) < PUBLISHED_PRECISION:
            return self._refresh_sum(area, correlation_id, resum=False)
        return self._refresh_cell(area, correlation_id)

    def resum(self, area: str, correlation_id: str) -> InsightOutcome:
        """A precision-4 area summed again from all its cells' insights (the rebuild)."""
        return self._refresh_sum(area, correlation_id, resum=True)

    # ------------------------------------------------------------------ cells
    def _refresh_cell(self, area: str, correlation_id: str) -> InsightOutcome:
        # Strongly consistent: the bucket write that woke us must be in what we read.
        view = self.signals.for_area(area, consistent=True)
        insight = insight_of(view.signals, view.input_version, view.valid_until)
        candidate = (insight.as_of_day, insight.input_version)
        valid = insight.valid_until or date.max
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.current(insight.area)
            if stored is not None and not is_newer(candidate, stored.guard):
                # Still say which version is stored: after a crash between this cell's write
                # and its area's, a redelivery finds the cell done and the sum behind it.
                windows, held = stored.insight.windows, stored.version
                self._changed(area, CellChange(held, windows, held, windows, _valid(stored)))
                return InsightOutcome("stale", insight)
            if stored is not None and stored.digests == insight.digests:
                # Nothing published changed: no new version (no event, no AI call), but the
                # guard moves on so that a slower computation of older buckets still loses.
                if not self.store.advance(insight.area, *candidate, insight.valid_until):
                    continue
                windows = stored.insight.windows
                self._changed(
                    area, CellChange(stored.version, windows, stored.version, windows, valid)
                )
                return InsightOutcome("unchanged", insight)
            replaces = stored.version if stored else 0
            if self.store.save(insight, correlation_id, replaces=replaces):
                old = stored.insight.windows if stored else ()
                self._changed(area, CellChange(replaces, old, replaces + 1, insight.windows, valid))
                return InsightOutcome("written", insight)
        return InsightOutcome("stale", insight)

    def _changed(self, cell: str, change: CellChange) -> None:
        if len(cell) != PUBLISHED_PRECISION:
            return  # a finer cell publishes nothing and is part of no sum
        earlier = self.changed.get(cell)
        if earlier is not None and earlier.new_version == change.old_version:
            # Two writes before the sum's refresh: one swap from the first old to the last new.
            change = change._replace(
                old_version=earlier.old_version, old_windows=earlier.old_windows
            )
        self.changed[cell] = change

    # ------------------------------------------------------------------ sums
    def _refresh_sum(self, area: str, correlation_id: str, *, resum: bool) -> InsightOutcome:
        today = self.signals.clock().date()
        k = self.signals.policy.k
        changes = {
            cell: self.changed.pop(cell) for cell in sorted(self.changed) if cell.startswith(area)
        }
        insight: Insight | None = None
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.current(area)
            swapped = None if resum else _swapped(stored, changes, today, k)
            figures, shares = (
                swapped if swapped is not None else self._sum_cells(area, today, correlation_id)
            )
            valid = min((share.valid_until for share in shares.values()), default=date.max)
            signals = signals_of_figures(
                area, today, figures, self.signals.policy, catalog=self.signals.catalog
            )
            revision = stored.revision if stored else 0
            insight = insight_of(signals, revision + 1, None if valid == date.max else valid)
            if (
                stored is not None
                and stored.cells == shares
                and stored.digests == insight.digests
                and stored.insight.as_of_day == today
            ):
                return InsightOutcome("unchanged", stored.insight)
            version = (stored.version if stored else 0) + (
                stored is None or stored.digests != insight.digests
            )
            if self.store.put_area(insight, shares, version, revision, correlation_id):
                decision: InsightDecision = (
                    "written"
                    if stored is None or stored.digests != insight.digests
                    else "unchanged"
                )
                return InsightOutcome(decision, insight)
        if insight is None:  # pragma: no cover - MAX_ATTEMPTS >= 1
            raise AssertionError("unreachable")
        return InsightOutcome("stale", insight)

    def _sum_cells(
        self, area: str, today: date, correlation_id: str
    ) -> tuple[AreaFigures, dict[str, CellShare]]:
        """All cells' insights summed; a cell whose windows have moved since is recomputed first."""
        cells = cells_needed(area)
        stored = self.store.many(cells)
        moved = [cell for cell, held in stored.items() if _valid(held) < today]
        for cell in moved:
            self._refresh_cell(cell, correlation_id)
            self.changed.pop(cell, None)
        if moved:
            stored |= self.store.many(moved)
        k = self.signals.policy.k
        figures: AreaFigures = {}
        for held in stored.values():
            figures = swap_figures(figures, {}, published_figures(held.insight.windows, k), k)
        shares = {cell: CellShare(held.version, _valid(held)) for cell, held in stored.items()}
        return figures, shares


def _valid(stored: StoredInsight) -> date:
    return stored.insight.valid_until or date.max


def _swapped(
    stored: StoredInsight | None, changes: Mapping[str, CellChange], today: date, k: int
) -> tuple[AreaFigures, dict[str, CellShare]] | None:
    """The stored sum with the changed cells swapped in, or None when it cannot be done
    exactly (see the module doc) and every cell must be summed again."""
    if stored is None or stored.cells is None:
        return None
    figures = published_figures(stored.insight.windows, k)
    shares = dict(stored.cells)
    for cell, change in changes.items():
        share = shares.get(cell)
        held = share.version if share else 0
        if held == change.old_version and held != change.new_version:
            old = published_figures(change.old_windows, k)
            figures = swap_figures(figures, old, published_figures(change.new_windows, k), k)
        elif held != change.new_version:
            return None
        shares[cell] = CellShare(change.new_version, change.valid_until)
    if any(share.valid_until < today for share in shares.values()):
        return None
    return figures, shares
