"""The insight worker's decision per area: recompute the published signals, store them if
they changed, and never let an older computation overwrite a newer one.

A cell (precision 5, or 6 which publishes nothing) is recomputed from its day buckets, which
makes the effect idempotent: a duplicate, a retry or a replay of the whole stream recomputes
the same state. Only the crops the batch's records touched are read again while the stored
windows still hold (each crop is released on its own); otherwise, and once a day when the
windows move, all of them. The stored insight is read before the buckets and written only
if it is still the one read (compare-and-swap on version and inputVersion, which every
write moves on), so a computation that read older buckets can never overwrite a newer one.

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

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Literal, NamedTuple, Protocol

from harvest.domain.crops import CropCatalog
from harvest.domain.disclosure import PUBLISHED_PRECISION
from harvest.domain.insight import Insight, insight_of
from harvest.domain.release import (
    AreaFigures,
    cells_needed,
    published_figures,
    signals_of_figures,
    swap_figures,
    with_crops_released,
)
from harvest.domain.signals import DayTotals, SignalPolicy, WindowSignals
from harvest.services.signals import AreaSignalsView, valid_until
from harvest.store.insights import CellShare, StoredInsight

__all__ = ["CellChange", "InsightOutcome", "InsightService", "InsightStore"]

type InsightDecision = Literal["written", "unchanged", "stale"]

MAX_ATTEMPTS: Final = 5


class AreaReader(Protocol):
    policy: SignalPolicy
    catalog: CropCatalog

    def clock(self) -> datetime: ...

    def for_area(self, geohash: str, *, consistent: bool = False) -> AreaSignalsView: ...

    def crop_days(
        self, cell: str, crops: Iterable[str], *, consistent: bool = False
    ) -> list[DayTotals]: ...


class InsightStore(Protocol):
    """What the service needs of InsightRepository."""

    def current(self, area: str, *, consistent: bool = True) -> StoredInsight | None: ...

    def many(self, areas: Sequence[str]) -> dict[str, StoredInsight]: ...

    def save(
        self, insight: Insight, correlation_id: str, *, replaces: int | None = None
    ) -> bool: ...

    def put_cell(
        self, insight: Insight, version: int, read: tuple[int, int] | None, correlation_id: str
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
        # Per published cell, the crops whose buckets records changed since its refresh.
        self.touched: dict[str, set[str]] = {}

    def touch(self, areas: Iterable[str], crop: str) -> None:
        """A record changed (or may have changed) `crop`'s buckets in the published ones of
        `areas`: their next refresh reads that crop again (the derivation consumer)."""
        for area in areas:
            if len(area) == PUBLISHED_PRECISION:
                self.touched.setdefault(area, set()).add(crop)

    def refresh(self, area: str, correlation_id: str) -> InsightOutcome:
        """Raises InvalidGeohash for an area that is not a geohash of precision 4-6."""
        if len(area) < PUBLISHED_PRECISION:
            return self._refresh_sum(area, correlation_id, resum=False)
        return self._refresh_cell(area, correlation_id, self.touched.pop(area, None))

    def resum(self, area: str, correlation_id: str) -> InsightOutcome:
        """A precision-4 area summed again from all its cells' insights (the rebuild)."""
        return self._refresh_sum(area, correlation_id, resum=True)

    # ------------------------------------------------------------------ cells
    def _refresh_cell(
        self, area: str, correlation_id: str, crops: Set[str] | None = None
    ) -> InsightOutcome:
        """Read the stored insight, then the buckets (strongly consistent: the bucket write
        that woke us must be in them), then write if the stored one is still the one read
        (compare-and-swap, retried): a computation can never overwrite one that read newer
        buckets. `crops`: only those changed since the stored insight (None: any may have)."""
        today = self.signals.clock().date()
        insight: Insight | None = None
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.current(area)
            insight = self._compute_cell(area, stored, crops, today)
            valid = insight.valid_until or date.max
            read = (stored.version, stored.insight.input_version) if stored else None
            if stored is not None and stored.digests == insight.digests:
                windows, held = stored.insight.windows, stored.version
                change = CellChange(held, windows, held, windows, valid)
                if (stored.insight.as_of_day, stored.insight.valid_until) == (
                    today,
                    insight.valid_until,
                ):
                    self._changed(area, change)  # nothing to write at all
                    return InsightOutcome("unchanged", stored.insight)
                # Nothing published changed (no new version: no event, no AI call); the day
                # and how long the windows hold move on.
                if not self.store.put_cell(insight, held, read, correlation_id):
                    continue
                self._changed(area, change)
                return InsightOutcome("unchanged", insight)
            version = stored.version + 1 if stored else 1
            if self.store.put_cell(insight, version, read, correlation_id):
                old = stored.insight.windows if stored else ()
                self._changed(area, CellChange(version - 1, old, version, insight.windows, valid))
                return InsightOutcome("written", insight)
        if insight is None:  # pragma: no cover - MAX_ATTEMPTS >= 1
            raise AssertionError("unreachable")
        return InsightOutcome("stale", insight)

    def _compute_cell(
        self, area: str, stored: StoredInsight | None, crops: Set[str] | None, today: date
    ) -> Insight:
        """The cell's insight as of today. When only some crops changed and the stored
        windows still hold today, only those crops' buckets are read: each crop's figures
        are released on its own (domain.signals.released_figures), so the others' are the
        stored ones. Otherwise all of the cell's buckets (SignalService.for_area)."""
        policy, catalog = self.signals.policy, self.signals.catalog
        number = stored.insight.input_version + 1 if stored else 1
        if (
            crops is None
            or stored is None
            or len(area) != PUBLISHED_PRECISION
            or not stored.insight.as_of_day <= today <= _valid(stored)
        ):
            view = self.signals.for_area(area, consistent=True)
            return insight_of(view.signals, number, view.valid_until)
        days = self.signals.crop_days(area, crops, consistent=True)
        signals = with_crops_released(
            area, today, stored.insight.windows, crops, days, policy, catalog=catalog
        )
        # The other crops' buckets are not read: their windows hold at least as long as the
        # stored ones did (earlier is only ever the cautious side: a recompute sooner).
        kept, read = stored.insight.valid_until, valid_until(days, today)
        valid = min((day for day in (kept, read) if day is not None), default=None)
        return insight_of(signals, number, valid)

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
