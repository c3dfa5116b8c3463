"""An area's published signals at any precision 4-6, from its published cells' buckets.

domain.disclosure rule 1: only cells of ``PUBLISHED_PRECISION`` publish figures of their
own. A coarser area shows, per window and crop, the sums of the figures its published cells
show (no figure that is not already public goes into it, so nothing is left to subtract); a
finer area shows nothing, exactly like an area where nobody listed. Which cells an area
needs is ``cells_needed``; the caller reads their buckets and passes them in.

Since a coarser area's figures are sums of already published ones, they can also be made
from its cells' published windows alone (``published_figures``, ``swap_figures``,
``signals_of_figures``): the insight worker keeps a precision-4 insight as that sum and, when
a batch changes some cells, swaps their old published figures for the new ones instead of
reading 32 cells of buckets. Same figures as ``area_signals`` (tests/unit/test_release.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from harvest.domain.common import quantity
from harvest.domain.crops import CropCatalog
from harvest.domain.disclosure import PUBLISHED_PRECISION, published_cells
from harvest.domain.geo import BASE32, validate_geohash
from harvest.domain.signals import (
    WINDOWS,
    AreaSignals,
    CropFigures,
    DayTotals,
    SignalPolicy,
    WindowSignals,
    published_window,
    released_figures,
)

__all__ = [
    "AreaFigures",
    "area_signals",
    "cells_needed",
    "published_figures",
    "signals_of_figures",
    "swap_figures",
    "with_crops_released",
]

# (window days, crop) -> the published figures of that crop in that window.
type AreaFigures = dict[tuple[int, str], CropFigures]


def cells_needed(area: str) -> list[str]:
    """The published cells whose buckets make up `area`'s signals: itself at the published
    precision, its 32 children one level coarser, none for a finer area."""
    geohash = validate_geohash(area, min_precision=4, max_precision=6)
    if len(geohash) > PUBLISHED_PRECISION:
        return []
    cells = [geohash]
    while len(cells[0]) < PUBLISHED_PRECISION:
        cells = [cell + char for cell in cells for char in BASE32]
    return cells


def _sum(figures: Sequence[CropFigures]) -> CropFigures:
    """Published figures of one crop and window in several disjoint cells, added up. The
    contributor sum may count a user of two cells twice, but each cell alone has k."""
    first = figures[0]
    return CropFigures(
        crop=first.crop,
        unit=first.unit,
        supply=quantity(sum((f.supply for f in figures), start=Decimal(0))),
        demand=quantity(sum((f.demand for f in figures), start=Decimal(0))),
        listings=sum(f.listings for f in figures),
        requests=sum(f.requests for f in figures),
        contributors=sum(f.contributors for f in figures),
    )


def area_signals(
    area: str,
    as_of: date,
    buckets: Mapping[str, Iterable[DayTotals]],
    policy: SignalPolicy | None = None,
    *,
    catalog: CropCatalog | None = None,
) -> AreaSignals:
    """The 7, 14 and 30 days up to ``as_of`` of ``area`` (precision 4-6), given the buckets
    of (at least) the cells ``cells_needed(area)`` names; other cells' are ignored.

    Raises InvalidGeohash for a bad area and UnknownCrop for a bucket of an unknown crop.
    """
    geohash = validate_geohash(area, min_precision=4, max_precision=6)
    per_window: dict[int, dict[str, list[CropFigures]]] = {w: {} for w in WINDOWS}
    for cell in published_cells(geohash, buckets):
        for window, figures in released_figures(
            as_of, buckets[cell], policy, catalog=catalog, cell=cell
        ).items():
            for figure in figures:
                per_window[window].setdefault(figure.crop, []).append(figure)
    windows = tuple(
        published_window(
            geohash,
            window,
            [_sum(per_window[window][crop]) for crop in sorted(per_window[window])],
            policy,
            catalog=catalog,
        )
        for window in WINDOWS
    )
    return AreaSignals(geohash=geohash, as_of=as_of, windows=windows)


def published_figures(windows: Iterable[WindowSignals], k: int) -> AreaFigures:
    """The figures an area's published windows show, per (window, crop). Contributors are
    not published: each shown crop had at least k, so k stands for them (a sum of such
    figures then passes the k gate exactly when one of its terms was shown)."""
    found: AreaFigures = {}
    for window in windows:
        for signal in window.crops:
            if (
                signal.supply is None
                or signal.demand is None
                or signal.listings is None
                or signal.requests is None
            ):
                continue  # not published (CropSignal: all figures None together)
            found[(window.days, signal.crop)] = CropFigures(
                crop=signal.crop,
                unit=signal.unit,
                supply=signal.supply,
                demand=signal.demand,
                listings=signal.listings,
                requests=signal.requests,
                contributors=k,
            )
    return found


def swap_figures(total: AreaFigures, old: AreaFigures, new: AreaFigures, k: int) -> AreaFigures:
    """`total` (a sum of cells' published figures that includes `old`) with `old` replaced
    by `new`. A crop none of the remaining terms shows is dropped: every shown crop has a
    live item (k >= 1 contributors each with one), so its sum of listings and requests is 0
    exactly when no term is left."""
    sums: dict[tuple[int, str], list[Any]] = {
        key: [f.unit, f.supply, f.demand, f.listings, f.requests] for key, f in total.items()
    }
    for figures, sign in ((old, -1), (new, 1)):
        for key, f in figures.items():
            entry = sums.setdefault(key, [f.unit, Decimal(0), Decimal(0), 0, 0])
            entry[1] += sign * f.supply
            entry[2] += sign * f.demand
            entry[3] += sign * f.listings
            entry[4] += sign * f.requests
    return {
        key: CropFigures(key[1], unit, quantity(supply), quantity(demand), listings, requests, k)
        for key, (unit, supply, demand, listings, requests) in sums.items()
        if listings + requests > 0
    }


def signals_of_figures(
    area: str,
    as_of: date,
    figures: AreaFigures,
    policy: SignalPolicy | None = None,
    *,
    catalog: CropCatalog | None = None,
) -> AreaSignals:
    """An area's signals from the sums of its published cells' figures (as area_signals
    makes them from the cells' buckets)."""
    geohash = validate_geohash(area, min_precision=4, max_precision=6)
    windows = tuple(
        published_window(
            geohash,
            window,
            [figures[key] for key in sorted(figures) if key[0] == window],
            policy,
            catalog=catalog,
        )
        for window in WINDOWS
    )
    return AreaSignals(geohash=geohash, as_of=as_of, windows=windows)


def with_crops_released(
    cell: str,
    as_of: date,
    shown: Iterable[WindowSignals],
    crops: Collection[str],
    days: Iterable[DayTotals],
    policy: SignalPolicy | None = None,
    *,
    catalog: CropCatalog | None = None,
) -> AreaSignals:
    """A published cell's signals as of `as_of` from windows it showed that still hold then
    (`shown`), with `crops` released again from their buckets `days` (no other crop's):
    each crop is released on its own (domain.signals.released_figures), so the other
    crops show what they showed."""
    policy = policy or SignalPolicy()
    figures = {
        key: figure
        for key, figure in published_figures(shown, policy.k).items()
        if key[1] not in crops
    }
    mine = [day for day in days if day.crop in crops]
    released_now = released_figures(as_of, mine, policy, catalog=catalog, cell=cell)
    for window, released in released_now.items():
        figures.update(((window, figure.crop), figure) for figure in released)
    return signals_of_figures(cell, as_of, figures, policy, catalog=catalog)
