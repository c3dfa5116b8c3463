"""What one listing or request contributes to the Aggregator's day buckets (DESIGN §5).

Pure: a stored core item -> its Contribution; two contributions (the one last applied and
the new one) -> the deltas to ADD to each bucket. Deltas telescope, so applying the deltas
of any chain of states s0 -> s1 -> ... -> sn equals the buckets of sn alone.

A bucket is addressed by (cell, crop, day, kind) and carries quantities in the crop's
canonical unit and counts of *live* items (active listings, open requests). There are no
all-crops counters: no signal reads them (an area's all-crops figures are the sums of the
crops it shows). What the read side needs to find a cell's crops is the crops index of a
(cell, day), `crops_to_index`: the crops that became live there, written apart from the
buckets (store.derived). Buckets exist only at the
published precision (``BUCKET_PRECISION``, the contribution's geohash-5 cell): a coarser
area publishes the sums of its published cells' figures and a finer one publishes nothing
(domain.disclosure rule 1), so buckets of other precisions would be written and never read.
Distinct contributors are not
a sum of deltas: domain.disclosure moves each bucket's `contributors` counter, and
`with_contributor_moves` merges those moves into the deltas of one source change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, NamedTuple

from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.disclosure import PUBLISHED_PRECISION, ContributorMove
from harvest.domain.listing import ListingStatus
from harvest.domain.request import RequestStatus

__all__ = [
    "ALL_CROPS",
    "BUCKET_PRECISION",
    "CELL_PRECISIONS",
    "BucketDelta",
    "Contribution",
    "ContributionSource",
    "Kind",
    "bucket_deltas",
    "contribution_of",
    "crops_to_index",
    "with_contributor_moves",
]

type Kind = Literal["supply", "demand"]

# The "crop" of a cell's crops index (`AGG#{cell}#all`, one per day): a String Set of crops.
ALL_CROPS: Final = "all"
CELL_PRECISIONS: Final = (4, 5, 6)
# The one precision with day buckets: the published one (cells[1] of a contribution).
BUCKET_PRECISION: Final = PUBLISHED_PRECISION
_BUCKET_CELL: Final = CELL_PRECISIONS.index(BUCKET_PRECISION)
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Contribution:
    """A source item's share of the buckets; quantity is 0 and live False when not live."""

    kind: Kind
    owner: str
    crop: str
    day: date
    cells: tuple[str, str, str]
    quantity: Decimal
    live: bool

    def to_json(self) -> dict[str, Any]:
        """A JSON-able (and DynamoDB-able: Decimal, no floats) form, kept in the marker."""
        return {
            "kind": self.kind,
            "owner": self.owner,
            "crop": self.crop,
            "day": self.day.isoformat(),
            "cells": list(self.cells),
            "quantity": self.quantity,
            "live": self.live,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Contribution:
        cells = tuple(str(c) for c in data["cells"])
        if len(cells) != len(CELL_PRECISIONS):
            raise ValueError(f"a contribution has {len(CELL_PRECISIONS)} cells, not {cells}")
        kind = str(data["kind"])
        if kind not in ("supply", "demand"):
            raise ValueError(f"unknown contribution kind {kind!r}")
        return cls(
            kind="supply" if kind == "supply" else "demand",
            owner=str(data["owner"]),
            crop=str(data["crop"]),
            day=date.fromisoformat(str(data["day"])),
            cells=(cells[0], cells[1], cells[2]),
            quantity=Decimal(str(data["quantity"])),
            live=bool(data["live"]),
        )


class BucketDelta(NamedTuple):
    """What to ADD to one bucket; contributors_delta moves its `contributors` counter (the
    users whose latest live day in the bucket's cell and crop is its day: domain.disclosure).
    A NamedTuple (immutable) rather than a frozen dataclass: a few are built per record on the
    Aggregator's hot path, at a third of the cost."""

    cell: str
    crop: str
    day: date
    kind: Kind
    quantity_delta: Decimal
    count_delta: int
    contributors_delta: int = 0


class ContributionSource(NamedTuple):
    """What a listing's or request's contribution is made of (the store reads it from the
    item: harvest.store.items.contribution_source). `amount`: the listing's remaining or the
    request's quantity, in `unit`."""

    kind: Kind
    owner: str
    crop: str
    unit: str
    geohash: str
    created_at: datetime
    status: str
    amount: Decimal | None


def contribution_of(
    source: ContributionSource | None, catalog: CropCatalog | None = None
) -> Contribution | None:
    """The contribution of a listing or request; None for no source (any other item)."""
    if source is None:
        return None
    if source.kind == "supply":
        live = source.status == ListingStatus.ACTIVE
    else:
        live = source.status == RequestStatus.OPEN
    quantity = _ZERO
    if live:
        crops = catalog if catalog is not None else load_catalog()
        quantity = crops.to_canonical(source.crop, Decimal(str(source.amount)), source.unit)
    geohash = source.geohash
    return Contribution(
        kind=source.kind,
        owner=source.owner,
        crop=source.crop,
        day=source.created_at.date(),
        cells=(geohash[:4], geohash[:5], geohash[:6]),
        quantity=quantity,
        live=live,
    )


def _sums_of(contribution: Contribution | None) -> dict[tuple[str, str, date, Kind], Decimal]:
    """(cell, crop, day, kind) -> quantity of a live contribution's one bucket (count 1): its
    crop's, in its published cell. Plain tuples: this runs per record on the hot path
    (bench/record_overhead.py)."""
    if contribution is None or not contribution.live:
        return {}
    cell = contribution.cells[_BUCKET_CELL]
    return {(cell, contribution.crop, contribution.day, contribution.kind): contribution.quantity}


def bucket_deltas(old: Contribution | None, new: Contribution | None) -> list[BucketDelta]:
    """The deltas that turn the buckets of `old` into those of `new`; no zero deltas.

    One delta per bucket (a transaction may touch an item once), in a deterministic order.
    """
    before, after = _sums_of(old), _sums_of(new)
    deltas: list[BucketDelta] = []
    for address in sorted(before.keys() | after.keys()):
        was, now = before.get(address), after.get(address)
        quantity = (now if now is not None else _ZERO) - (was if was is not None else _ZERO)
        count = (now is not None) - (was is not None)
        if quantity == 0 and count == 0:
            continue
        cell, crop, day, kind = address
        deltas.append(BucketDelta(cell, crop, day, kind, quantity, count))
    return deltas


def with_contributor_moves(
    deltas: Iterable[BucketDelta], moves: Iterable[ContributorMove], kind: Kind
) -> list[BucketDelta]:
    """The deltas of one source change with its contributor moves merged in: still one
    delta per bucket, none empty, in a deterministic order. `kind` is the source's."""
    merged: dict[tuple[str, str, date], BucketDelta] = {}
    for delta in deltas:
        merged[(delta.cell, delta.crop, delta.day)] = delta
    for move in moves:
        key = (move.cell, move.crop, move.day)
        base = merged.get(key) or BucketDelta(move.cell, move.crop, move.day, kind, _ZERO, 0)
        merged[key] = base._replace(contributors_delta=base.contributors_delta + move.change)
    return [
        merged[key]
        for key in sorted(merged)
        if merged[key].quantity_delta or merged[key].count_delta or merged[key].contributors_delta
    ]


def crops_to_index(deltas: Iterable[BucketDelta]) -> list[tuple[str, date, str]]:
    """(cell, day, crop) of each bucket the deltas make one item more live in: the crops
    index of that cell and day must name the crop. Only ever added to, never removed (a
    crop named without live items reads as an empty crop), so that writing it is
    idempotent and needs no read."""
    return sorted({(d.cell, d.day, d.crop) for d in deltas if d.count_delta > 0})
