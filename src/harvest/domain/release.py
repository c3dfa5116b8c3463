"""An area's published signals at any precision 4-6, from its published cells' buckets.

domain.disclosure rule 1: only cells of ``PUBLISHED_PRECISION`` publish figures of their
own. A coarser area shows, per window and crop, the sums of the figures its published cells
show (no figure that is not already public goes into it, so nothing is left to subtract); a
finer area shows nothing, exactly like an area where nobody listed. Which cells an area
needs is ``cells_needed``; the caller reads their buckets and passes them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

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
    published_window,
    released_figures,
)

__all__ = ["area_signals", "cells_needed"]


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
            as_of, buckets[cell], policy, catalog=catalog
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
