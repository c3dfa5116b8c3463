"""Reads of the FeedIndex: live listings and open requests by geohash-4 partition, sorted by
published geohash-5 cell, kind and id (see keys.feed_pk / keys.feed_sk), and of the
CropIndex, the same rows of one kind and crop per partition (keys.crop_pk), which a read
given both a kind and a crop uses: it then reads no row of another crop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harvest.domain.listing import Listing
from harvest.domain.request import Request
from harvest.store import keys
from harvest.store.items import feed_row_to_entity
from harvest.store.table import Table


@dataclass(frozen=True, slots=True)
class FeedRows:
    """One FeedIndex read: live entities in sort-key order, where to go on, what it cost."""

    rows: list[tuple[str, Listing | Request]]  # (GSI3SK, entity)
    last_key: str | None  # GSI3SK of the last row read when more may follow, else None
    scanned: int  # rows read (and paid for), before the crop/kind filter


def feed_rows(
    table: Table,
    partition: str,
    *,
    cell: str | None = None,
    kind: str | None = None,
    crop: str | None = None,
    after: str | None = None,
    until: str | None = None,
    limit: int,
) -> FeedRows:
    """One page of the FeedIndex partition of geohash-4 `partition`: of published cell `cell`
    only (else the whole partition), of one kind and crop when given, strictly after sort key
    `after` and up to sort key `until` (with `after` only), reading at most `limit` rows
    (filters apply after the read, as DynamoDB bills them; with both a kind and a crop the
    read is of the CropIndex and nothing is filtered)."""
    prefix = keys.feed_cell_prefix(cell, kind) if cell else ""
    # Kind and crop known: the CropIndex partition holds exactly those rows, in the same
    # sort-key order, so the key condition does the filtering (exact, and billed only for
    # what is returned). Otherwise the FeedIndex, filtered after the read.
    by_crop = kind is not None and crop is not None
    names = {"#pk": "GSI4PK" if by_crop else "GSI3PK"}
    bound: dict[str, Any] = {
        "pk": keys.crop_pk(partition, kind, crop) if kind and crop else keys.feed_pk(partition)
    }
    if after is not None or prefix:
        names["#sk"] = "GSI3SK"
    if after is not None:  # BETWEEN is inclusive: `after` itself comes back, dropped below
        high = until or prefix + "\uffff"
        if high < after:  # resumed past this kind's rows of the cell: nothing is left
            return FeedRows([], None, 0)
        condition = "#pk = :pk AND #sk BETWEEN :low AND :high"
        bound |= {"low": after, "high": high}
        limit += 1
    elif prefix:
        condition = "#pk = :pk AND begins_with(#sk, :prefix)"
        bound["prefix"] = prefix
    else:
        condition = "#pk = :pk"
    filters: list[str] = []
    # A cell's prefix pins the kind, but not a BETWEEN from `after`: resuming inside a cell
    # from a row of the other kind (the last key of an unfiltered span read) would read it.
    if kind is not None and not by_crop and (cell is None or after is not None):
        filters.append("#type = :type")
        names["#type"], bound["type"] = "type", kind
    if crop is not None and not by_crop:
        filters.append("#crop = :crop")
        names["#crop"], bound["crop"] = "crop", crop
    page = table.query(
        index=keys.CROP_INDEX if by_crop else keys.FEED_INDEX,
        key_condition=condition,
        names=names,
        bound=bound,
        limit=limit,
        newest_first=False,
        filter_expression=" AND ".join(filters) or None,
    )
    rows = [
        (str(item["GSI3SK"]), feed_row_to_entity(item))
        for item in page.items
        if item["GSI3SK"] != after
    ]
    last = page.next_key["GSI3SK"] if page.next_key else None
    return FeedRows(rows, last, page.scanned)


def live_in_cell(table: Table, entity: str, cell: str) -> list[Listing | Request]:
    """Every live item of a kind in a geohash-4 partition or published geohash-5 cell,
    following pagination to the end (for data engineers; the feed reads page by page)."""
    if len(cell) not in (keys.GEO_PARTITION_PRECISION, keys.FEED_CELL_PRECISION):
        raise ValueError(f"cell '{cell}' must be a geohash of precision 4 or 5")
    found: list[Listing | Request] = []
    after: str | None = None
    while True:
        page = feed_rows(
            table,
            cell[: keys.GEO_PARTITION_PRECISION],
            cell=cell if len(cell) == keys.FEED_CELL_PRECISION else None,
            kind=entity,
            after=after,
            limit=500,
        )
        found += [row for _, row in page.rows]
        if page.last_key is None:
            return found
        after = page.last_key
