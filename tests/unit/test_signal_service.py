"""SignalService over a fake derived repository: which partitions it reads, over which days,
and the freshness it reports."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from harvest.domain.errors import InvalidGeohash
from harvest.domain.signals import Classification, DayTotals
from harvest.services.signals import SignalService
from harvest.store.derived import BucketRow

NOW = datetime(2026, 5, 20, 12, 30, tzinfo=UTC)
TODAY = NOW.date()


def _row(
    crop: str, day: date, *, supply: int = 0, listings: int = 0, owners: str = ""
) -> BucketRow:
    return BucketRow(
        totals=DayTotals(
            day=day,
            crop=crop,
            supply=Decimal(supply),
            demand=Decimal(0),
            listings=listings,
            requests=0,
            contributors=len(frozenset(owners.split())),
        ),
        crops=frozenset(),
        updated_at=f"{day.isoformat()}T08:00:00.000Z",
    )


class FakeDerived:
    def __init__(self, rows: dict[str, list[BucketRow]]) -> None:
        self.rows = rows
        self.calls: list[tuple[str, str, date, date]] = []

    def area_days(
        self, cell: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        self.calls.append((cell, "all", since_day, until_day))
        return self.rows.get("all", [])

    def bucket_rows(
        self, cell: str, crop: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        self.calls.append((cell, crop, since_day, until_day))
        return self.rows.get(crop, [])


def test_reads_30_days_of_the_crops_the_area_saw_and_reports_freshness() -> None:
    old_day, new_day = TODAY - timedelta(days=20), TODAY - timedelta(days=2)
    area = [
        BucketRow(
            _row("all", old_day).totals,
            frozenset({"tomato", "retired-crop"}),
            "2026-04-30T09:00:00.000Z",
        ),
        BucketRow(
            _row("all", new_day).totals,
            frozenset({"tomato", "zucchini"}),
            "2026-05-18T07:00:00.000Z",
        ),
    ]
    tomato = [
        _row("tomato", old_day, supply=5, listings=3, owners="a b c"),
        _row("tomato", new_day, supply=2, listings=1, owners="a"),
    ]
    # A zucchini bucket emptied by a cancellation: no activity, so no crop entry.
    fake = FakeDerived({"all": area, "tomato": tomato, "zucchini": [_row("zucchini", new_day)]})
    service = SignalService(fake, clock=lambda: NOW)

    view = service.for_area("U33D")

    since = TODAY - timedelta(days=29)
    assert fake.calls == [
        ("u33d", "all", since, TODAY),
        ("u33d", "tomato", since, TODAY),
        ("u33d", "zucchini", since, TODAY),
    ]
    assert view.as_of == "2026-05-20T12:30:00.000Z"
    # The newest stamp of any bucket read: a quantity-only change skips the all-crops row.
    assert view.data_updated_at == tomato[1].updated_at == "2026-05-18T08:00:00.000Z"
    week, fortnight, month = view.signals.windows
    assert [s.crop for s in week.crops] == ["tomato"]
    assert week.crops[0].classification is Classification.INSUFFICIENT_DATA
    assert fortnight.crops == week.crops
    [crop] = month.crops
    assert (crop.supply, crop.listings, crop.classification) == (
        Decimal(7),
        4,
        Classification.SURPLUS,
    )


def test_no_data_is_no_activity() -> None:
    view = SignalService(FakeDerived({}), clock=lambda: NOW).for_area("u33d")

    assert view.data_updated_at is None
    assert all(not window.crops for window in view.signals.windows)
    assert view.signals.windows[0].summary == "Last 7 days around u33d: no listings or requests."


@pytest.mark.parametrize("geohash", ["u33", "u33dc0c", "abc!", ""])
def test_precision_4_to_6_only(geohash: str) -> None:
    fake = FakeDerived({})
    with pytest.raises(InvalidGeohash):
        SignalService(fake, clock=lambda: NOW).for_area(geohash)
    assert fake.calls == []
