"""Community signals as of now (DESIGN §6 `GET /communities/{geohash}/signals`).

Reads the last 30 days of an area's day buckets (the all-crops rows name the crops, then one
Query per crop partition) and computes the 7/14/30-day windows at request time, so they are
right as of now also when nothing new happened in the area (time moves items out of windows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from harvest.domain.common import iso, utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.geo import validate_geohash
from harvest.domain.signals import WINDOWS, AreaSignals, DayTotals, SignalPolicy, compute_signals
from harvest.services.support import Clock
from harvest.store.derived import BucketRow

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
    """The computed windows plus freshness: when they were computed and when the data last
    changed (None: the area has no buckets in the last 30 days)."""

    signals: AreaSignals
    as_of: str
    data_updated_at: str | None
    # Sum of the write counters of every bucket read. Each bucket's counter only grows, and
    # the 30 days read are fixed for one as-of day, so of two computations of one area on
    # one day the one that saw newer buckets has the larger sum (the insight worker's guard).
    input_version: int = 0


def _empty(totals: DayTotals) -> bool:
    return not (totals.listings or totals.requests or totals.contributors)


class SignalService:
    def __init__(
        self,
        derived_repository: BucketReader,
        catalog: CropCatalog | None = None,
        clock: Clock = utc_now,
        policy: SignalPolicy | None = None,
    ) -> None:
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
        area = self.derived.area_days(cell, since, today, consistent=consistent)
        crops = sorted({slug for row in area for slug in row.crops if slug in self.catalog})
        rows = [
            row
            for crop in crops
            for row in self.derived.bucket_rows(cell, crop, since, today, consistent=consistent)
        ]
        stamps = [row.updated_at for row in (*area, *rows) if row.updated_at]
        signals = compute_signals(
            cell,
            today,
            # Buckets emptied by cancellations are no activity: they must not show up as crops.
            (row.totals for row in rows if not _empty(row.totals)),
            self.policy,
            catalog=self.catalog,
        )
        return AreaSignalsView(
            signals=signals,
            as_of=iso(now),
            data_updated_at=max(stamps, default=None),
            input_version=sum(row.version for row in (*area, *rows)),
        )
