"""Invariants of community signals over arbitrary day buckets.

Buckets are what the Aggregator stores, so the Insight worker may read them in any order and
at any time: the signals must depend only on the multiset of buckets and the date, windows
must nest, and nothing hidden by k-anonymity may surface in a published field (a crop is
shown with all its figures, or not at all).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from harvest.domain.disclosure import region_safe
from harvest.domain.signals import (
    WINDOWS,
    AllCrops,
    DayTotals,
    SignalPolicy,
    abundance,
    compute_signals,
    confidence,
    inputs_digest,
    scarcity,
    window_totals,
)

AS_OF = date(2025, 6, 10)
AREA = "u33d"
CROPS = ("tomato", "zucchini", "basil", "egg", "potato")
USERS = tuple(f"user-{n}" for n in range(7))
FIGURES = ("supply", "demand", "listings", "requests", "scarcity", "abundance", "confidence")

amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal(5000), places=3, allow_nan=False, allow_infinity=False
)
big_amounts = st.decimals(
    min_value=Decimal(0),
    max_value=Decimal(10) ** 9,
    places=6,
    allow_nan=False,
    allow_infinity=False,
)


@st.composite
def buckets(draw: st.DrawFn) -> DayTotals:
    return DayTotals(
        # A few days beyond the longest window and after as_of, to exercise both edges.
        day=AS_OF - timedelta(days=draw(st.integers(min_value=-2, max_value=33))),
        crop=draw(st.sampled_from(CROPS)),
        supply=draw(amounts),
        demand=draw(amounts),
        listings=draw(st.integers(min_value=0, max_value=4)),
        requests=draw(st.integers(min_value=0, max_value=4)),
        # Users whose latest live day of this crop is this bucket's (domain.disclosure).
        contributors=draw(st.integers(min_value=0, max_value=3)),
    )


bucket_lists = st.lists(buckets(), max_size=25)
policies = st.builds(
    SignalPolicy,
    k=st.integers(min_value=1, max_value=5),
    min_observations=st.integers(min_value=0, max_value=4),
)


@given(supply=big_amounts, demand=big_amounts, more=big_amounts)
def test_ratios_are_never_negative_and_move_with_their_numerator(
    supply: Decimal, demand: Decimal, more: Decimal
) -> None:
    assert scarcity(supply, demand) >= 0
    assert abundance(supply, demand) >= 0
    assert scarcity(supply, demand) <= scarcity(supply, demand + more)
    assert scarcity(supply, demand) >= scarcity(supply + more, demand)
    assert abundance(supply, demand) <= abundance(supply + more, demand)
    assert abundance(supply, demand) >= abundance(supply, demand + more)


@given(days=bucket_lists)
def test_windows_nest_for_every_figure(days: list[DayTotals]) -> None:
    totals = [window_totals(days, AS_OF, window) for window in WINDOWS]

    for shorter, longer in pairwise(totals):
        assert shorter.keys() <= longer.keys()
        for slug, small in shorter.items():
            large = longer[slug]
            assert small.supply <= large.supply
            assert small.demand <= large.demand
            assert small.listings <= large.listings
            assert small.requests <= large.requests
            assert small.contributors <= large.contributors


@given(data=st.data(), days=bucket_lists, policy=policies)
def test_bucket_order_never_changes_signals_summary_or_digest(
    data: st.DataObject, days: list[DayTotals], policy: SignalPolicy
) -> None:
    shuffled = data.draw(st.permutations(days))

    original = compute_signals(AREA, AS_OF, days, policy)
    reordered = compute_signals(AREA, AS_OF, shuffled, policy)

    assert reordered == original
    for before, after in zip(original.windows, reordered.windows, strict=True):
        assert after.summary.encode() == before.summary.encode()
        assert inputs_digest(after) == inputs_digest(before)


def _window(days: list[DayTotals], window: int) -> list[DayTotals]:
    return [b for b in days if AS_OF - timedelta(days=window) < b.day <= AS_OF]


@given(days=bucket_lists, policy=policies)
def test_every_crop_shown_carries_figures_meets_k_per_kind_and_per_window_segment(
    days: list[DayTotals], policy: SignalPolicy
) -> None:
    shown: dict[str, list[int]] = {}
    for window in compute_signals(AREA, AS_OF, days, policy).windows:
        inside = _window(days, window.days)
        for signal in window.crops:
            shown.setdefault(signal.crop, []).append(window.days)
            values = [getattr(signal, name) for name in FIGURES]
            users = sum(b.contributors for b in inside if b.crop == signal.crop)
            listings = sum(b.listings for b in inside if b.crop == signal.crop)
            requests = sum(b.requests for b in inside if b.crop == signal.crop)
            assert None not in values
            assert users >= policy.k
            assert listings + requests >= policy.min_observations
            assert region_safe(users, listings, requests, policy.k)
    for crop, windows in shown.items():
        for shorter, longer in pairwise(windows):
            segment = [
                b
                for b in _window(days, longer)
                if b.crop == crop and b not in _window(days, shorter)
            ]
            assert region_safe(
                sum(b.contributors for b in segment),
                sum(b.listings for b in segment),
                sum(b.requests for b in segment),
                policy.k,
            )


@given(days=bucket_lists, policy=policies)
def test_the_windows_a_crop_shows_are_always_the_longest_ones(
    days: list[DayTotals], policy: SignalPolicy
) -> None:
    # A prefix of 30, 14, 7 (domain.disclosure.released_windows): versions that an
    # attacker's own items choose between then never show more windows together than one
    # of them shows alone.
    shown: dict[str, list[int]] = {}
    for window in compute_signals(AREA, AS_OF, days, policy).windows:
        for signal in window.crops:
            shown.setdefault(signal.crop, []).append(window.days)
    chain = sorted(WINDOWS, reverse=True)
    for windows in shown.values():
        assert sorted(windows, reverse=True) == chain[: len(windows)]


@given(days=bucket_lists, policy=policies)
def test_all_crops_counts_are_the_sums_of_the_crops_shown(
    days: list[DayTotals], policy: SignalPolicy
) -> None:
    for window in compute_signals(AREA, AS_OF, days, policy).windows:
        assert window.all_crops == AllCrops(
            listings=sum(s.listings or 0 for s in window.crops),
            requests=sum(s.requests or 0 for s in window.crops),
            contributors=None,
            rounded=False,
        )


@given(
    n=st.integers(min_value=0, max_value=100_000),
    step=st.integers(min_value=0, max_value=1000),
    half_at=st.integers(min_value=1, max_value=50),
)
def test_confidence_stays_within_unit_interval_and_never_drops_with_more_data(
    n: int, step: int, half_at: int
) -> None:
    policy = SignalPolicy(confidence_half_at=half_at)

    assert Decimal(0) <= confidence(n, policy) <= Decimal(1)
    assert confidence(n, policy) <= confidence(n + step, policy)
