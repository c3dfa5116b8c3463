"""Audit and rebuild of the insight worker's INSIGHT# items from the day buckets.

An insight claims to be the published signals of its area as of its `asOfDay`. The audit
recomputes exactly that from the buckets a rebuild from core would hold (services.rebuild)
and compares the published figures (the per-window digests); the guard attributes
(`inputVersion`) are bookkeeping of the incremental pipeline and are not compared. An area
with buckets (or a precision-4 area made of such cells) and no insight is drift too: every
bucket write wakes the insight worker.

The rebuild recomputes every area as of today from the buckets as they are now (run it after
the AGG# rebuild) and Puts the insight unconditionally, which also resets the guard to the
rebuilt buckets' counters; like the AGG# rebuild it must not run while the workers do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from harvest.domain.contribution import ALL_CROPS
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.disclosure import PUBLISHED_PRECISION
from harvest.domain.insight import Insight, insight_of
from harvest.domain.release import area_signals
from harvest.domain.signals import DayTotals, SignalPolicy
from harvest.services.insights import AreaReader, InsightService, InsightStore
from harvest.services.rebuild import Drift, ItemKey, is_bucket
from harvest.services.signals import MIN_PRECISION
from harvest.store.buckets import bucket_day_totals
from harvest.store.insights import StoredInsight, insight_key

__all__ = ["areas_of", "insight_drift", "rebuild_insight", "rebuild_order"]


def areas_of(buckets: Iterable[ItemKey]) -> set[str]:
    """The areas with an insight: the (published) cells that have day buckets and the
    precision-4 areas they make up (markers and presences are skipped)."""
    cells = {key[0].split("#")[1] for key in buckets if is_bucket(key)}
    return cells | {cell[:MIN_PRECISION] for cell in cells}


def rebuild_order(area: str) -> tuple[int, str]:
    """Cells before the precision-4 areas summed from their insights (services.insights)."""
    return (-len(area), area)


def _totals(items: Iterable[Mapping[str, Any]]) -> list[DayTotals]:
    return [
        totals
        for item in items
        if item["crop"] != ALL_CROPS
        for totals in bucket_day_totals(str(item["crop"]), item)
    ]


def insight_drift(
    expected_buckets: Mapping[ItemKey, Mapping[str, Any]],
    stored: Iterable[StoredInsight],
    policy: SignalPolicy | None = None,
    catalog: CropCatalog | None = None,
) -> list[Drift]:
    crops = catalog if catalog is not None else load_catalog()
    by_area: dict[str, list[Mapping[str, Any]]] = {}
    for key, item in expected_buckets.items():
        if is_bucket(key):
            by_area.setdefault(str(item["cell"]), []).append(item)
    found: list[Drift] = []
    held = {insight.insight.area: insight for insight in stored}
    for area in sorted(areas_of(expected_buckets) - held.keys()):
        missing = insight_key(area)
        found.append(Drift(missing["PK"], missing["SK"], "item", "present", None))
    for area, insight in sorted(held.items()):
        day = insight.insight.as_of_day
        # An area's signals are made of its precision-5 cells' buckets (domain.release).
        cells = {cell: _totals(items) for cell, items in by_area.items() if cell.startswith(area)}
        want = area_signals(area, day, cells, policy, catalog=crops)
        expected = insight_of(want, 0).digests
        item = insight_key(area)
        for window in sorted(expected.keys() | insight.digests.keys(), key=int):
            if expected.get(window) != insight.digests.get(window):
                found.append(
                    Drift(
                        item["PK"],
                        item["SK"],
                        f"window {window} as of {day.isoformat()}",
                        _summary(want.windows, window),
                        _summary(insight.insight.windows, window),
                    )
                )
    return found


def _summary(windows: Iterable[Any], days: str) -> str | None:
    return next((str(w.summary) for w in windows if str(w.days) == days), None)


class InsightWriter(InsightStore, Protocol):
    def replace(self, insight: Insight, version: int, correlation_id: str) -> None: ...


def rebuild_insight(
    area: str, signals: AreaReader, store: InsightWriter, correlation_id: str
) -> bool:
    """Recompute one area as of now and Put it when anything differs; True when written.
    The version moves on only when the published figures changed (one more event). A
    precision-4 area is summed again from its cells' insights: rebuild those first
    (`rebuild_order`)."""
    if len(area) < PUBLISHED_PRECISION:
        return InsightService(signals, store).resum(area, correlation_id).decision == "written"
    view = signals.for_area(area, consistent=True)
    insight = insight_of(view.signals, view.input_version, view.valid_until)
    current = store.current(area)
    if current is not None and current.digests == insight.digests:
        if current.guard == (insight.as_of_day, insight.input_version):
            return False
        store.replace(insight, current.version, correlation_id)
        return True
    store.replace(insight, current.version + 1 if current else 1, correlation_id)
    return True
