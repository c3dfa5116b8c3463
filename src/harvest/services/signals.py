"""Community signals as of now (DESIGN §6 `GET /communities/{geohash}/signals`).

for_area reads the last 30 days of the day buckets of the published cells an area is made of
(domain.release: the area itself at precision 5, its 32 children at precision 4, none at
precision 6): per cell, the all-crops rows name the crops, then one Query per crop
partition (for_area: the derivation consumer's and the refresher's computation). The route
reads none of that: `published` serves the INSIGHT# item those computations store, kept
right as of now for quiet areas by the refresher (services.refresh), so it costs one GetItem.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from harvest.domain.common import iso, utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.geo import validate_geohash
from harvest.domain.release import area_signals, cells_needed
from harvest.domain.signals import WINDOWS, AreaSignals, DayTotals, SignalPolicy, in_window
from harvest.services.support import Clock
from harvest.store.derived import BucketRow
from harvest.store.insights import StoredInsight

MIN_PRECISION = 4
MAX_PRECISION = 6
LOOKBACK_DAYS = max(WINDOWS)


class BucketReader(Protocol):
    def area_days(
        self, cell: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]: ...

    def bucket_rows(
        self, cell: str, crop: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]: ...


@dataclass(frozen=True, slots=True)
class AreaSignalsView:
    """The computed windows plus freshness: when they were computed, and the start of the
    day the published figures are as of (None: nothing is published, as for an area where
    nobody listed)."""

    signals: AreaSignals
    as_of: str
    data_updated_at: str | None
    # Sum of the write counters of every bucket read. Each bucket's counter only grows, and
    # the 30 days read are fixed for one as-of day, so of two computations of one area on
    # one day the one that saw newer buckets has the larger sum (the insight worker's guard).
    input_version: int = 0
    # The last day these windows stay right without a new event: the day before the first
    # bucket read leaves a window (None: no bucket in any window, they never change).
    valid_until: date | None = None


class InsightReader(Protocol):
    def current(self, area: str, *, consistent: bool = True) -> StoredInsight | None: ...


def valid_until(buckets: Iterable[DayTotals], today: date) -> date | None:
    """The last day on which every window still holds the same buckets as `today`: a
    bucket of day d is in the w-day window up to day d + w - 1."""
    ends = [
        bucket.day + timedelta(days=window - 1)
        for bucket in buckets
        for window in WINDOWS
        if in_window(bucket.day, today, window)
    ]
    return min(ends, default=None)


def _empty(totals: DayTotals) -> bool:
    return not (totals.listings or totals.requests or totals.contributors)


class SignalService:
    def __init__(
        self,
        derived_repository: BucketReader,
        catalog: CropCatalog | None = None,
        clock: Clock = utc_now,
        policy: SignalPolicy | None = None,
        insights: InsightReader | None = None,
    ) -> None:
        self.insights = insights
        self.derived = derived_repository
        self.catalog = catalog if catalog is not None else load_catalog()
        self.clock = clock
        self.policy = policy or SignalPolicy()

    def for_area(self, geohash: str, *, consistent: bool = False) -> AreaSignalsView:
        """Raises InvalidGeohash unless geohash is a geohash of precision 4-6. `consistent`:
        strongly consistent reads (the insight worker must see the write that woke it)."""
        cell = validate_geohash(geohash, min_precision=MIN_PRECISION, max_precision=MAX_PRECISION)
        now: datetime = self.clock()
        today = now.date()
        since = today - timedelta(days=LOOKBACK_DAYS - 1)
        buckets: dict[str, list[DayTotals]] = {}
        version = 0
        for published in cells_needed(cell):
            area = self.derived.area_days(published, since, today, consistent=consistent)
            crops = sorted({slug for row in area for slug in row.crops if slug in self.catalog})
            rows = [
                row
                for crop in crops
                for row in self.derived.bucket_rows(
                    published, crop, since, today, consistent=consistent
                )
            ]
            # Buckets emptied by cancellations are no activity: they must not show up as crops.
            buckets[published] = [row.totals for row in rows if not _empty(row.totals)]
            version += sum(row.version for row in (*area, *rows))
        signals = area_signals(cell, today, buckets, self.policy, catalog=self.catalog)
        return _view(
            signals, now, version, valid_until((b for d in buckets.values() for b in d), today)
        )

    def crop_days(
        self, cell: str, crops: Iterable[str], *, consistent: bool = False
    ) -> list[DayTotals]:
        """The non-empty day buckets of the last 30 days of some crops of one published cell
        (one Query per crop): what a refresh of only the crops a batch touched reads."""
        today = self.clock().date()
        since = today - timedelta(days=LOOKBACK_DAYS - 1)
        return [
            row.totals
            for crop in sorted(set(crops))
            if crop in self.catalog
            for row in self.derived.bucket_rows(cell, crop, since, today, consistent=consistent)
            if not _empty(row.totals)
        ]

    def published(self, geohash: str) -> AreaSignalsView:
        """The route's answer in O(1) reads, never a recomputation: the INSIGHT# item of the
        area (one GetItem), or the empty answer without one (nobody listed or asked there,
        or the derivation consumer has not reached the area's first event yet).

        While `validUntil` holds the stored windows are exactly the windows as of today.
        After it (a bucket has left a window, no event since), they are the last figures
        until the refresher (services.refresh, on its schedule: 15 min by default) has
        recomputed the area; the answer does not say which, since `validUntil` and
        `asOfDay` date activity in the area (docs/pipeline-design.md, "Signals as of now").
        Raises InvalidGeohash as for_area."""
        cell = validate_geohash(geohash, min_precision=MIN_PRECISION, max_precision=MAX_PRECISION)
        now: datetime = self.clock()
        # Eventually consistent (half the read units): a second-old insight is still right.
        stored = self.insights.current(cell, consistent=False) if self.insights else None
        # An insight dated after today (this clock a moment behind the writer's at midnight)
        # is served too: it holds the newest figures there are.
        if stored is None:
            empty = area_signals(cell, now.date(), {}, self.policy, catalog=self.catalog)
            return _view(empty, now, 0, None)
        insight = stored.insight
        signals = AreaSignals(cell, now.date(), insight.windows)
        return _view(signals, now, insight.input_version, insight.valid_until)


def _view(signals: AreaSignals, now: datetime, version: int, valid: date | None) -> AreaSignalsView:
    shown = any(window.crops for window in signals.windows)
    return AreaSignalsView(
        signals=signals,
        as_of=iso(now),
        # No finer than the published cadence (a day), and only about what is shown: a
        # bucket's own updatedAt would say when one hidden grower was active.
        data_updated_at=iso(datetime.combine(now.date(), time(), UTC)) if shown else None,
        input_version=version,
        valid_until=valid,
    )
