"""The stored form of an insight and the guard that orders computations."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from harvest.domain.crops import load_catalog
from harvest.domain.insight import (
    STORED_CROP_FIELDS,
    STORED_ROW_FIELDS,
    insight_of,
    is_newer,
    windows_from_stored,
    windows_to_public,
    windows_to_stored,
)
from harvest.domain.signals import DayTotals, compute_signals, inputs_digest, shown_window

TODAY = date(2026, 5, 20)


def _day(crop: str, days_ago: int, supply: int, demand: int, owners: str) -> DayTotals:
    return DayTotals(
        day=TODAY - timedelta(days=days_ago),
        crop=crop,
        supply=Decimal(supply),
        demand=Decimal(demand),
        listings=1 if supply else 0,
        requests=1 if demand else 0,
        contributors=len(frozenset(owners.split())),
    )


def test_stored_windows_read_back_equal_with_equal_digests() -> None:
    signals = compute_signals(
        "u33dc",
        TODAY,
        [
            _day("tomato", 1, 4, 0, "a"),
            _day("tomato", 2, 4, 0, "b"),
            _day("tomato", 3, 4, 0, "c"),
            _day("kale", 3, 2, 0, "d"),  # one contributor: hidden
            # In the 14- and 30-day windows only:
            *(_day("leek", ago, 3, 0, owner) for ago, owner in ((8, "e"), (9, "f"), (10, "g"))),
        ],
    )

    stored = windows_to_stored(signals.windows)
    restored = windows_from_stored(stored, "u33dc")

    assert restored == signals.windows
    assert [inputs_digest(w) for w in restored] == [inputs_digest(w) for w in signals.windows]
    # Only what cannot be derived is stored, each crop once for all windows: no unit,
    # ratios, classification, confidence, all-crops sums or summary (each KB is a write unit
    # per insight write); the named, published form has them all.
    assert stored == [
        [7, 14, 30],
        ["leek", None, *[Decimal(9), Decimal(0), 3, 0] * 2],
        ["tomato", *[Decimal(12), Decimal(0), 3, 0] * 3],  # kale not even named
    ]
    public = windows_to_public(stored, "u33dc")
    assert [crop["crop"] for crop in public[0]["crops"]] == ["tomato"]
    assert public[0]["crops"][0]["listings"] == 3
    assert public[0]["summary"] == signals.windows[0].summary
    assert public[0]["allCrops"]["listings"] == 3
    assert [crop["crop"] for crop in public[2]["crops"]] == ["leek", "tomato"]
    named = public[2]["crops"][1]
    assert [named[k] for k in STORED_ROW_FIELDS] == ["tomato", Decimal(12), Decimal(0), 3, 0]
    # The forms stored before are still read: named crops, ten-field rows, [days, rows].
    assert windows_from_stored(public, "u33dc") == signals.windows
    assert windows_to_public(public, "u33dc") == public
    legacy = [
        {**window, "crops": [[c[f] for f in STORED_CROP_FIELDS if f in c] for c in window["crops"]]}
        for window in public
    ]
    assert windows_from_stored(legacy, "u33dc") == signals.windows
    per_window = [
        [window["days"], [[c[f] for f in STORED_ROW_FIELDS] for c in window["crops"]]]
        for window in public
    ]
    assert windows_from_stored(per_window, "u33dc") == signals.windows


def test_windows_without_one_order_of_crops_are_stored_per_window() -> None:
    """Rows across windows need one crop order; windows listing crops in orders no single
    order keeps are stored as [days, rows] each, and still read back equal."""
    signals = compute_signals(
        "u33dc",
        TODAY,
        [
            _day(crop, ago, 4, 0, owner)
            for crop in ("leek", "tomato")
            for ago, owner in enumerate("abc")
        ],
    )
    week, fortnight, month = signals.windows
    reordered = (week, fortnight, replace(month, crops=month.crops[::-1]))

    stored = windows_to_stored(reordered)

    assert [window[0] for window in stored] == [7, 14, 30]
    assert [row[0] for row in stored[2][1]] == ["tomato", "leek"]
    assert windows_from_stored(stored, "u33dc") == tuple(
        shown_window("u33dc", w.days, w.crops, catalog=load_catalog()) for w in reordered
    )


def test_a_stored_row_that_does_not_fit_its_windows_is_refused() -> None:
    with pytest.raises(ValueError, match="does not fit 3 windows"):
        windows_from_stored([[7, 14, 30], ["tomato", None, None]], "u33dc")
    with pytest.raises(ValueError, match="does not fit 3 windows"):
        windows_from_stored([[7, 14, 30], ["tomato", None, None, None, None]], "u33dc")


def test_an_insight_digest_per_window() -> None:
    insight = insight_of(compute_signals("u33dc", TODAY, []), input_version=7)
    assert (insight.area, insight.as_of_day, insight.input_version) == ("u33dc", TODAY, 7)
    assert set(insight.digests) == {"7", "14", "30"}


@pytest.mark.parametrize(
    ("candidate", "stored", "newer"),
    [
        ((TODAY, 5), None, True),
        ((TODAY, 6), (TODAY, 5), True),
        ((TODAY, 5), (TODAY, 5), False),
        ((TODAY, 4), (TODAY, 5), False),
        ((TODAY + timedelta(days=1), 0), (TODAY, 99), True),
        ((TODAY - timedelta(days=1), 99), (TODAY, 0), False),
    ],
)
def test_newer_means_a_later_day_or_newer_buckets_the_same_day(
    candidate: tuple[date, int], stored: tuple[date, int] | None, newer: bool
) -> None:
    assert is_newer(candidate, stored) is newer
