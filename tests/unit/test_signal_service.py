"""SignalService over a fake derived repository: which partitions it reads, over which days,
and the freshness it reports (only cells of precision 5 publish: domain.release)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from harvest.domain.errors import InvalidGeohash
from harvest.domain.insight import insight_of
from harvest.domain.release import area_signals
from harvest.domain.signals import Classification, DayTotals
from harvest.services.signals import SignalService, valid_until
from harvest.store.derived import BucketRow
from harvest.store.insights import StoredInsight

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

    view = service.for_area("U33DC")

    since = TODAY - timedelta(days=29)
    assert fake.calls == [
        ("u33dc", "all", since, TODAY),
        ("u33dc", "tomato", since, TODAY),
        ("u33dc", "zucchini", since, TODAY),
    ]
    assert view.as_of == "2026-05-20T12:30:00.000Z"
    # No finer than a day, and never a bucket's own stamp (it dates one grower's change).
    assert view.data_updated_at == "2026-05-20T00:00:00.000Z"
    week, fortnight, month = view.signals.windows
    # One contributor in 7 and 14 days: tomato is not even named there.
    assert week.crops == fortnight.crops == ()
    [crop] = month.crops
    assert (crop.supply, crop.listings, crop.classification) == (
        Decimal(7),
        4,
        Classification.SURPLUS,
    )


def test_a_precision_4_area_reads_its_32_precision_5_cells_and_adds_what_they_show() -> None:
    day = TODAY - timedelta(days=1)
    area = [BucketRow(_row("all", day).totals, frozenset({"tomato"}), "")]
    tomato = [_row("tomato", day, supply=5, listings=3, owners="a b c")]
    fake = FakeDerived({"all": area, "tomato": tomato})

    view = SignalService(fake, clock=lambda: NOW).for_area("u33d")

    cells = sorted({cell for cell, *_ in fake.calls})
    assert len(cells) == 32
    assert all(len(cell) == 5 and cell.startswith("u33d") for cell in cells)
    # Every child answers the same fake rows: 32 cells of 5 kg each.
    assert view.signals.windows[0].crops[0].supply == Decimal(160)


def test_a_precision_6_area_reads_nothing_and_looks_empty() -> None:
    fake = FakeDerived({"all": [], "tomato": [_row("tomato", TODAY, supply=5, owners="a b c")]})

    view = SignalService(fake, clock=lambda: NOW).for_area("u33dc0")

    assert fake.calls == []
    assert view.data_updated_at is None
    assert all(not window.crops for window in view.signals.windows)


def test_no_data_is_no_activity() -> None:
    view = SignalService(FakeDerived({}), clock=lambda: NOW).for_area("u33dc")

    assert view.data_updated_at is None
    assert all(not window.crops for window in view.signals.windows)
    assert view.signals.windows[0].summary == "Last 7 days around u33dc: no listings or requests."


@pytest.mark.parametrize("geohash", ["u33", "u33dc0c", "abc!", ""])
def test_precision_4_to_6_only(geohash: str) -> None:
    fake = FakeDerived({})
    with pytest.raises(InvalidGeohash):
        SignalService(fake, clock=lambda: NOW).for_area(geohash)
    assert fake.calls == []


# ------------------------------------------------------------------ O(1): the stored insight
class FakeInsights:
    def __init__(self, stored: StoredInsight | None) -> None:
        self.stored, self.reads = stored, 0

    def current(self, area: str, *, consistent: bool = True) -> StoredInsight | None:
        self.reads += 1
        # The route reads eventually consistent: half the read units, a second-old answer.
        assert not consistent
        return self.stored


def _stored(as_of: date, valid: date | None) -> StoredInsight:
    tomato = [_row("tomato", as_of, supply=5, listings=3, owners="a b c")]
    signals = area_signals("u33dc", as_of, {"u33dc": [row.totals for row in tomato]})
    insight = insight_of(signals, 9, valid)
    return StoredInsight(insight, insight.digests, 1, "", "corr")


@pytest.mark.parametrize("days_later", [0, 1, 6])
def test_the_route_answers_from_the_insight_while_its_windows_hold(days_later: int) -> None:
    # Given an insight of 3 days ago whose first bucket leaves the 7-day window in 6 days
    as_of = TODAY - timedelta(days=3)
    insights = FakeInsights(_stored(as_of, as_of + timedelta(days=6)))
    fake = FakeDerived({})
    moment = datetime.combine(as_of + timedelta(days=days_later), NOW.time(), UTC)
    service = SignalService(fake, clock=lambda: moment, insights=insights)
    # When the route asks
    view = service.published("u33dc")
    # Then one read of the insight, no bucket, and its windows as of today
    assert (insights.reads, fake.calls) == (1, [])
    assert view.signals.as_of == moment.date()
    assert view.signals.windows[0].crops[0].supply == Decimal(5)


def test_once_a_bucket_has_left_a_window_the_route_still_reads_the_insight_only() -> None:
    # Given an insight whose windows held until yesterday, and the refresher not run yet
    as_of = TODAY - timedelta(days=3)
    insights = FakeInsights(_stored(as_of, TODAY - timedelta(days=1)))
    fake = FakeDerived({})
    # When the route asks
    view = SignalService(fake, clock=lambda: NOW, insights=insights).published("u33dc")
    # Then no recomputation on the request path: the last figures, one read
    assert (insights.reads, fake.calls) == (1, [])
    assert view.signals.as_of == TODAY
    assert view.signals.windows[0].crops[0].supply == Decimal(5)
    # and nothing in the answer says the figures are due (validUntil dates activity)
    assert view.data_updated_at == f"{TODAY.isoformat()}T00:00:00.000Z"


@pytest.mark.parametrize("geohash", ["u33dc0", "u33dc", "u33d"])
def test_an_area_without_insight_answers_empty_and_reads_no_bucket(geohash: str) -> None:
    fake = FakeDerived({})
    insights = FakeInsights(None)
    service = SignalService(fake, clock=lambda: NOW, insights=insights)

    view = service.published(geohash)

    assert (insights.reads, fake.calls) == (1, [])
    assert [window.days for window in view.signals.windows] == [7, 14, 30]
    assert all(not window.crops for window in view.signals.windows)
    assert view.data_updated_at is None


def test_an_insight_dated_after_today_is_served_as_the_newest_figures() -> None:
    # A writer's clock a moment ahead at midnight must not blank the area
    insights = FakeInsights(_stored(TODAY + timedelta(days=1), TODAY + timedelta(days=5)))
    view = SignalService(FakeDerived({}), clock=lambda: NOW, insights=insights).published("u33dc")
    assert view.signals.as_of == TODAY
    assert view.signals.windows[0].crops[0].supply == Decimal(5)


def test_windows_hold_until_the_day_before_a_bucket_leaves_one() -> None:
    days = [_row("tomato", TODAY - timedelta(days=2)).totals,
            _row("tomato", TODAY - timedelta(days=20)).totals]  # fmt: skip
    # Day -2 leaves the 7-day window on day +5; day -20 leaves the 30-day one on day +10.
    assert valid_until(days, TODAY) == TODAY + timedelta(days=4)
    assert valid_until([], TODAY) is None
