"""A precision-4 area summed from its cells' published insights equals the area computed
from the cells' buckets (services.insights keeps the sum; domain.release defines both), also
after swapping one cell's old published figures for new ones; and a cell whose touched crops
alone are released again equals the cell computed again from all its buckets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from harvest.domain.release import (
    AreaFigures,
    area_signals,
    published_figures,
    signals_of_figures,
    swap_figures,
    with_crops_released,
)
from harvest.domain.signals import DayTotals, SignalPolicy, compute_signals, inputs_digest

AS_OF = date(2025, 6, 10)
AREA = "u33d"
CELLS = ("u33d0", "u33db", "u33dz")
CROPS = ("tomato", "zucchini", "egg")

amounts = st.decimals(
    min_value=Decimal(0), max_value=Decimal(500), places=3, allow_nan=False, allow_infinity=False
)


@st.composite
def rows(draw: st.DrawFn) -> DayTotals:
    listings = draw(st.integers(min_value=0, max_value=3))
    requests = draw(st.integers(min_value=0, max_value=3))
    return DayTotals(
        day=AS_OF - timedelta(days=draw(st.integers(min_value=0, max_value=33))),
        crop=draw(st.sampled_from(CROPS)),
        supply=draw(amounts) if listings else Decimal(0),
        demand=draw(amounts) if requests else Decimal(0),
        listings=listings,
        requests=requests,
        # A contributor has a live item (each bucket's users are among its items' owners).
        contributors=draw(st.integers(min_value=0, max_value=listings + requests)),
    )


cell_buckets = st.dictionaries(
    st.sampled_from(CELLS), st.lists(rows(), max_size=12), min_size=0, max_size=len(CELLS)
)
policies = st.builds(
    SignalPolicy,
    k=st.integers(min_value=1, max_value=4),
    min_observations=st.integers(min_value=0, max_value=4),
)


def _digests(windows: Sequence[object]) -> list[str]:
    return [inputs_digest(window) for window in windows]  # type: ignore[arg-type]


def _figures(buckets: Mapping[str, Sequence[DayTotals]], policy: SignalPolicy) -> AreaFigures:
    total: AreaFigures = {}
    for cell, days in buckets.items():
        shown = compute_signals(cell, AS_OF, days, policy).windows
        total = swap_figures(total, {}, published_figures(shown, policy.k), policy.k)
    return total


@settings(max_examples=200, deadline=None)
@given(buckets=cell_buckets, policy=policies)
def test_the_sum_of_published_cells_is_the_area_computed_from_buckets(
    buckets: dict[str, list[DayTotals]], policy: SignalPolicy
) -> None:
    from_buckets = area_signals(AREA, AS_OF, buckets, policy)
    summed = signals_of_figures(AREA, AS_OF, _figures(buckets, policy), policy)
    assert summed == from_buckets
    assert _digests(summed.windows) == _digests(from_buckets.windows)


@settings(max_examples=200, deadline=None)
@given(before=cell_buckets, changed=st.sampled_from(CELLS), rows=st.lists(rows(), max_size=12),
       policy=policies)  # fmt: skip
def test_swapping_one_cells_figures_equals_summing_again(
    before: dict[str, list[DayTotals]], changed: str, rows: list[DayTotals], policy: SignalPolicy
) -> None:
    after = {**before, changed: rows}
    old = published_figures(
        compute_signals(changed, AS_OF, before.get(changed, ()), policy).windows, policy.k
    )
    new = published_figures(compute_signals(changed, AS_OF, rows, policy).windows, policy.k)
    swapped = swap_figures(_figures(before, policy), old, new, policy.k)
    assert swapped == _figures(after, policy)
    assert signals_of_figures(AREA, AS_OF, swapped, policy) == area_signals(
        AREA, AS_OF, after, policy
    )


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(rows(), max_size=16),
    crops=st.sets(st.sampled_from(CROPS), min_size=1),
    changed=st.lists(rows(), max_size=10),
    policy=policies,
)
def test_releasing_only_the_changed_crops_again_equals_computing_the_cell_again(
    before: list[DayTotals], crops: set[str], changed: list[DayTotals], policy: SignalPolicy
) -> None:
    """The insight worker reads only the crops a batch touched (services.insights): the
    other crops' buckets are as they were, the touched ones' are replaced."""
    cell = CELLS[1]
    after = [row for row in before if row.crop not in crops]
    after += [row for row in changed if row.crop in crops]
    shown = compute_signals(cell, AS_OF, before, policy).windows
    partial = with_crops_released(cell, AS_OF, shown, crops, after, policy)
    assert partial == compute_signals(cell, AS_OF, after, policy)
