"""Community signals (DESIGN §5 Insight worker) on hand-made day buckets.

Covers the classification rules and their thresholds, k-anonymity per window, window
segment and kind, hidden crops left out entirely, all-crops counts as sums of the published
crops, window edges, distinct contributors, the summary text and the digest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from harvest.domain.errors import InvalidGeohash, UnknownCrop
from harvest.domain.signals import (
    WINDOWS,
    AllCrops,
    Classification,
    CropFigures,
    CropSignal,
    DayTotals,
    SignalPolicy,
    WindowSignals,
    abundance,
    classify,
    compute_signals,
    confidence,
    crop_signal,
    in_window,
    inputs_digest,
    scarcity,
    window_signals,
    window_totals,
)
from harvest.domain.summary import SummaryLine, format_quantity, render_summary

AS_OF = date(2025, 6, 10)
AREA = "u33d"
USERS = ("ann", "ben", "cat", "dan", "eve", "fay")


def bucket(
    crop: str = "tomato",
    supply: str = "0",
    demand: str = "0",
    *,
    listings: int = 1,
    requests: int = 1,
    users: Iterable[str] = USERS,
    ago: int = 0,
) -> DayTotals:
    return DayTotals(
        day=AS_OF - timedelta(days=ago),
        crop=crop,
        supply=Decimal(supply),
        demand=Decimal(demand),
        listings=listings,
        requests=requests,
        contributors=len(frozenset(users)),
    )


def figures(
    supply: str = "0",
    demand: str = "0",
    *,
    listings: int = 1,
    requests: int = 1,
    contributors: int = 3,
) -> CropFigures:
    return CropFigures(
        "tomato", "kg", Decimal(supply), Decimal(demand), listings, requests, contributors
    )


def week(days: Iterable[DayTotals], policy: SignalPolicy | None = None) -> WindowSignals:
    return window_signals(AREA, AS_OF, days, 7, policy)


def only_crop(window: WindowSignals, slug: str) -> CropSignal:
    [signal] = [signal for signal in window.crops if signal.crop == slug]
    return signal


# --------------------------------------------------------------------------- classification


def test_given_demand_well_above_supply_when_classified_then_shortage() -> None:
    signal = crop_signal(figures(supply="3", demand="12"))

    assert signal.classification is Classification.SHORTAGE
    assert signal.scarcity == Decimal("3.000")
    assert signal.abundance == Decimal("0.231")


def test_given_supply_well_above_demand_when_classified_then_surplus() -> None:
    signal = crop_signal(figures(supply="40", demand="5"))

    assert signal.classification is Classification.SURPLUS
    assert signal.abundance == Decimal("6.667")


def test_given_supply_close_to_demand_when_classified_then_balanced() -> None:
    assert classify(figures(supply="10", demand="9")) is Classification.BALANCED


def test_given_nothing_offered_when_scarcity_computed_then_plus_one_keeps_it_finite() -> None:
    assert scarcity(Decimal(0), Decimal(4)) == Decimal("4.000")
    assert abundance(Decimal(0), Decimal(4)) == Decimal("0.000")


@pytest.mark.parametrize(
    ("supply", "demand", "expected"),
    [
        # scarcity = demand / (supply + 1); shortage from 1.5 inclusive
        ("1", "3", Classification.SHORTAGE),  # exactly 1.500
        ("1", "2.998", Classification.BALANCED),  # 1.499
        ("1", "2.999", Classification.SHORTAGE),  # 1.4995 rounds half-even to 1.500
        ("1", "2.9989", Classification.BALANCED),  # 1.49945 rounds to 1.499
        # abundance = supply / (demand + 1); surplus from 1.5 inclusive
        ("3", "1", Classification.SURPLUS),
        ("2.998", "1", Classification.BALANCED),
    ],
)
def test_given_ratio_at_threshold_when_classified_then_rounded_ratio_decides(
    supply: str, demand: str, expected: Classification
) -> None:
    assert classify(figures(supply=supply, demand=demand)) is expected


def test_given_custom_thresholds_when_classified_then_policy_applies() -> None:
    strict = SignalPolicy(shortage_at=Decimal(4), surplus_at=Decimal(7))

    assert classify(figures(supply="2", demand="12"), strict) is Classification.SHORTAGE
    assert classify(figures(supply="2", demand="11.99"), strict) is Classification.BALANCED
    assert classify(figures(supply="40", demand="5"), strict) is Classification.BALANCED


@pytest.mark.parametrize(
    "kwargs",
    [
        {"k": 0},
        {"min_observations": -1},
        {"confidence_half_at": 0},
        {"shortage_at": Decimal(0)},
        {"surplus_at": Decimal("NaN")},
    ],
)
def test_when_policy_is_nonsensical_then_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        SignalPolicy(**kwargs)


# --------------------------------------------------------------------------- k-anonymity


def test_given_two_contributors_when_published_then_insufficient_and_no_figures() -> None:
    signal = crop_signal(figures(supply="3", demand="12", listings=4, requests=4, contributors=2))

    assert signal == CropSignal(
        "tomato", "kg", None, None, None, None, None, None, Classification.INSUFFICIENT_DATA, None
    )
    assert not signal.published


def test_given_three_contributors_when_published_then_all_figures_shown() -> None:
    signal = crop_signal(figures(supply="3", demand="12", listings=1, requests=3))

    assert signal == CropSignal(
        crop="tomato",
        unit="kg",
        supply=Decimal(3),
        demand=Decimal(12),
        listings=1,
        requests=3,
        scarcity=Decimal("3.000"),
        abundance=Decimal("0.231"),
        classification=Classification.SHORTAGE,
        confidence=Decimal("0.44"),
    )


def test_given_enough_contributors_but_one_observation_then_insufficient() -> None:
    signal = crop_signal(figures(supply="3", demand="0", listings=1, requests=0))

    assert signal.classification is Classification.INSUFFICIENT_DATA


def test_given_larger_k_when_published_then_three_contributors_are_not_enough() -> None:
    policy = SignalPolicy(k=5)

    assert classify(figures(contributors=4), policy) is Classification.INSUFFICIENT_DATA
    assert classify(figures(contributors=5), policy) is Classification.BALANCED


def test_when_hidden_signal_is_built_with_a_figure_then_rejected() -> None:
    with pytest.raises(ValueError, match="None iff insufficient_data"):
        CropSignal("tomato", "kg", Decimal(1), *(None,) * 5, Classification.INSUFFICIENT_DATA, None)


def test_when_published_signal_lacks_a_figure_then_rejected() -> None:
    published = crop_signal(figures(supply="3", demand="12"))

    with pytest.raises(ValueError, match="None iff insufficient_data"):
        replace(published, confidence=None)


# --------------------------------------------------------------------------- all-crops


def test_given_published_crops_when_totalled_then_all_crops_counts_are_their_sums() -> None:
    days = [
        bucket("tomato", "3", "12", listings=2, requests=3),
        bucket("zucchini", "40", "5", listings=3, requests=1, ago=2),
    ]

    assert week(days).all_crops == AllCrops(5, 4, None, rounded=False)


def test_given_one_hidden_crop_when_its_counts_change_then_nothing_published_changes() -> None:
    # Tomato and zucchini are public; basil has 2 contributors only. The all-crops counts
    # were totals rounded to k before (issue 11: one own listing undid the rounding).
    public = [
        bucket("tomato", "3", "12", listings=3, requests=3),
        bucket(
            "zucchini", "40", "5", listings=3, requests=3, users=(*USERS[3:], "gus", "hal", "ivy")
        ),
    ]
    one_basil = week([*public, bucket("basil", "1", "1", listings=1, users=USERS[:2])])
    two_basil = week([*public, bucket("basil", "2", "1", listings=2, users=USERS[:2])])

    assert one_basil == two_basil
    assert one_basil.all_crops == AllCrops(6, 6, None, rounded=False)
    assert inputs_digest(one_basil) == inputs_digest(two_basil)


def test_given_no_crop_published_then_all_crops_counts_are_zero_as_for_an_empty_area() -> None:
    hidden = week([bucket("tomato", "9", "9", listings=9, requests=9, users=USERS[:2])])

    assert hidden == week([])
    assert hidden.all_crops == AllCrops(0, 0, None, rounded=False)


# --------------------------------------------------------------------------- kinds, segments


def test_given_one_requester_among_k_contributors_then_the_crop_is_hidden() -> None:
    # Demand sums the requests only: one requester's need would be published exactly.
    days = [bucket("tomato", "9", "4", listings=5, requests=1, users=USERS[:4])]

    assert week(days).crops == ()


def test_given_listings_only_from_k_owners_then_the_crop_is_published() -> None:
    days = [bucket("tomato", "9", "0", listings=3, requests=0, users=USERS[:3])]

    assert only_crop(week(days), "tomato").supply == Decimal(9)


def test_given_a_lone_grower_between_7_and_14_days_then_the_7_day_window_gives_way() -> None:
    # 14 days minus 7 days would be the lone grower's figures: only 14 and 30 are shown.
    days = [
        bucket("tomato", "6", "0", listings=3, requests=0, users=USERS[:3], ago=1),
        bucket("tomato", "7", "0", listings=1, requests=0, users=USERS[3:4], ago=10),
    ]

    signals = compute_signals(AREA, AS_OF, days)

    assert [[c.supply for c in w.crops] for w in signals.windows] == [[], [13], [13]]


def test_given_k_growers_in_each_segment_then_every_window_is_shown() -> None:
    days = [
        bucket("tomato", "6", "0", listings=3, requests=0, users=USERS[:3], ago=1),
        bucket("tomato", "7", "0", listings=3, requests=0, users=USERS[3:], ago=10),
    ]

    signals = compute_signals(AREA, AS_OF, days)

    assert [[c.supply for c in w.crops] for w in signals.windows] == [[6], [13], [13]]


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize(
    ("ago", "window_days", "inside"),
    [(0, 7, True), (6, 7, True), (7, 7, False), (7, 14, True), (29, 30, True), (30, 30, False)],
)
def test_given_bucket_age_when_windowed_then_only_the_last_window_days_count(
    ago: int, window_days: int, inside: bool
) -> None:
    days = [bucket("tomato", "5", "1", ago=ago)]

    totals = window_totals(days, AS_OF, window_days)

    assert in_window(AS_OF - timedelta(days=ago), AS_OF, window_days) is inside
    assert ("tomato" in totals) is inside


def test_given_bucket_after_as_of_when_windowed_then_ignored() -> None:
    assert window_totals([bucket(ago=-1)], AS_OF, 30) == {}


def test_when_window_is_not_positive_then_rejected() -> None:
    with pytest.raises(ValueError, match="window_days"):
        in_window(AS_OF, AS_OF, 0)


def test_given_same_users_on_several_days_when_totalled_then_counted_once() -> None:
    # ann and ben listed on three days; each counts on their latest day only (today).
    days = [
        bucket("tomato", "2", "1", users=USERS[:2], ago=0),
        bucket("tomato", "3", "1.5", users=(), ago=3),
        bucket("tomato", "1.25", "0", users=(), ago=6),
    ]

    totals = window_totals(days, AS_OF, 7)["tomato"]

    assert totals == CropFigures("tomato", "kg", Decimal("6.25"), Decimal("2.5"), 3, 3, 2)
    assert crop_signal(totals).classification is Classification.INSUFFICIENT_DATA


def test_given_a_third_user_on_another_day_when_totalled_then_crop_is_published() -> None:
    days = [
        bucket("tomato", "2", "0", requests=0, users=USERS[:2]),
        bucket("tomato", requests=0, users=["cat"], ago=5),
    ]

    assert only_crop(week(days), "tomato").published


def test_given_buckets_when_computed_then_three_windows_in_order_with_canonical_units() -> None:
    days = [bucket("tomato", "3", "12", ago=1), bucket("basil", "1", "0", ago=20)]

    signals = compute_signals("U33D", AS_OF, iter(days))

    assert signals.geohash == "u33d"
    assert signals.as_of == AS_OF
    assert tuple(window.days for window in signals.windows) == WINDOWS == (7, 14, 30)
    assert [c.crop for c in signals.windows[0].crops] == ["tomato"]
    assert only_crop(signals.windows[2], "basil").unit == "bunch"


@pytest.mark.parametrize("area", ["u33", "u33dc0c", "u33a"])
def test_when_area_is_not_a_precision_4_to_6_geohash_then_invalid(area: str) -> None:
    with pytest.raises(InvalidGeohash):
        compute_signals(area, AS_OF, [])


def test_given_a_crop_missing_from_the_catalog_when_computed_then_unknown_crop() -> None:
    with pytest.raises(UnknownCrop):
        compute_signals(AREA, AS_OF, [bucket("tomatoe")])


@pytest.mark.parametrize(
    "kwargs",
    [{"supply": Decimal(-1)}, {"demand": Decimal("Infinity")}, {"listings": -1}],
)
def test_when_bucket_is_negative_or_infinite_then_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        replace(bucket(), **kwargs)


# --------------------------------------------------------------------------- confidence


@pytest.mark.parametrize(
    ("observations", "expected"),
    [
        (0, "0.00"),
        (1, "0.17"),
        (2, "0.29"),
        (5, "0.50"),
        (10, "0.67"),
        (994, "0.99"),
        (995, "1.00"),
    ],
)
def test_given_observations_when_confidence_computed_then_n_over_n_plus_five(
    observations: int, expected: str
) -> None:
    assert confidence(observations) == Decimal(expected)


def test_given_other_half_point_when_confidence_computed_then_half_there() -> None:
    assert confidence(20, SignalPolicy(confidence_half_at=20)) == Decimal("0.50")


def test_when_observations_negative_then_rejected() -> None:
    with pytest.raises(ValueError, match="observations"):
        confidence(-1)


# --------------------------------------------------------------------------- summary


def test_given_mixed_area_when_summarised_then_severity_order_and_hidden_crops_unnamed() -> None:
    days = [
        bucket("zucchini", "40", "5", listings=3, requests=1),
        bucket("tomato", "3", "12", listings=1, requests=3),
        bucket("potato", "10", "9", listings=3, requests=2),
        bucket("basil", "2", "1", users=USERS[:2]),
        bucket("egg", "1", "0", listings=1, requests=0),
    ]

    assert week(days).summary == (
        "Last 7 days around u33d: Tomato scarce (demand 12 kg vs supply 3 kg); "
        "Zucchini in surplus (40 kg offered, 5 kg asked); Potato in balance."
    )
    assert [c.crop for c in week(days).crops] == ["tomato", "zucchini", "potato"]


def test_given_several_of_a_kind_when_summarised_then_sorted_by_display_name() -> None:
    days = [
        bucket("potato", "10", "9"),
        bucket("bell-pepper", "0.453592", "0.5"),
        bucket("carrot", "2", "2"),
        bucket("parsley", "1", "7"),
        bucket("basil", "2", "6"),
    ]

    assert week(days).summary == (
        "Last 7 days around u33d: Basil scarce (demand 6 bunches vs supply 2 bunches); "
        "Parsley scarce (demand 7 bunches vs supply 1 bunch); "
        "Bell Pepper, Carrot and Potato in balance."
    )


def test_given_only_hidden_crops_when_summarised_then_as_if_nothing_happened() -> None:
    days = [bucket("tomato", "3", "12", users=["ann"])]

    assert week(days).summary == "Last 7 days around u33d: no listings or requests."


def test_given_no_buckets_when_summarised_then_says_nothing_happened() -> None:
    signals = compute_signals("u33dc", AS_OF, [])

    assert [w.summary for w in signals.windows] == [
        f"Last {days} days around u33dc: no listings or requests." for days in WINDOWS
    ]
    assert all(w.all_crops == AllCrops(0, 0, None, False) for w in signals.windows)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        ("12.000000", "kg", "12 kg"),
        ("0.453592", "kg", "0.45 kg"),
        ("100", "kg", "100 kg"),
        ("1", "bunch", "1 bunch"),
        ("1.5", "bunch", "1.5 bunches"),
        ("0.005", "dozen", "0 dozen"),
    ],
)
def test_given_quantity_when_formatted_then_no_trailing_zeros(
    value: str, unit: str, text: str
) -> None:
    assert format_quantity(Decimal(value), unit) == text


def test_when_summary_line_has_unknown_kind_then_rejected() -> None:
    with pytest.raises(ValueError, match="summary kind"):
        SummaryLine("Tomato", "kg", Decimal(1), Decimal(1), "insufficient_data")


def test_when_hidden_count_negative_then_rejected() -> None:
    with pytest.raises(ValueError, match="suppressed"):
        render_summary(AREA, 7, [], -1)


# --------------------------------------------------------------------------- digest


def test_given_same_input_when_digested_twice_then_identical() -> None:
    days = [bucket("tomato", "3", "12"), bucket("zucchini", "40", "5", ago=3)]

    first, again = week(days), week(list(reversed(days)))

    assert inputs_digest(first) == inputs_digest(again)
    assert len(inputs_digest(first)) == 64


def test_given_equal_amounts_in_other_notation_when_digested_then_identical() -> None:
    assert inputs_digest(week([bucket(supply="2.5")])) == inputs_digest(
        week([bucket(supply="2.500000")])
    )


@pytest.mark.parametrize(
    "changed",
    [
        bucket("tomato", "3.001", "12"),
        bucket("tomato", "3", "12", listings=2),
        bucket("tomato", "3", "12", requests=2),
        bucket("zucchini", "3", "12"),
    ],
)
def test_given_a_published_figure_changes_when_digested_then_digest_changes(
    changed: DayTotals,
) -> None:
    assert inputs_digest(week([bucket("tomato", "3", "12")])) != inputs_digest(week([changed]))


def test_given_other_window_length_when_digested_then_digest_changes() -> None:
    signals = compute_signals(AREA, AS_OF, [bucket("tomato", "3", "12")])

    assert len({inputs_digest(window) for window in signals.windows}) == 3


def test_given_hidden_crop_when_digested_then_as_for_an_empty_window() -> None:
    hidden = [bucket("tomato", "3", "12", users=["ann"])]
    other = [bucket("kale", "30", "1", listings=5, users=["ann"])]

    assert inputs_digest(week(hidden)) == inputs_digest(week(other)) == inputs_digest(week([]))
