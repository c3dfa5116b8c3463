"""The nearby feed: live listings and open requests within a radius, nearest first.

Private by construction: everything the feed decides about an item (whether it is in range,
its order, its `distanceKm`, the cursor) is computed from the item's *published* cell (the
geohash-5 cell a non-owner sees, and that cell's centre as its point), never from its exact
point. The FeedIndex sorts each geohash-4 partition by published cell, kind and id, which is
the feed's order among items at the same distance, so the read can stop early:

- a best-first search over a heap of partitions (bound: their nearest published cell in
  range), published cells (bound: their centre's distance) and rows already read (key:
  distance, kind, id). Items leave the heap in exactly the feed's order.
- a partition starts as one *span* of cells, read in key order from its nearest cell on:
  in a dense area that first read is the nearest cell's first rows and fills the page; in a
  sparse one it runs through many cells in one request. A read that stops early turns the
  rest into single cells (read nearest first, each only as far as the page needs); the cells
  before the nearest one stay a span. That is how the starting precision (geohash-4 or -5)
  is chosen in sparse and dense areas alike, without a counter to maintain.
- every request reads at most MAX_ROWS_PER_PAGE rows in MAX_QUERIES_PER_PAGE queries. A page
  that hits the bound (a rare crop in a dense area) comes back short, with a cursor that
  continues where the read stopped: never a silent cap.

The cursor is the sort key (distance to the published point, kind, id) of the last position
covered; it too depends on the published cell only.
"""

from __future__ import annotations

import functools
import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from harvest.domain import geo
from harvest.domain.errors import FieldError, ValidationFailed
from harvest.domain.listing import Listing
from harvest.domain.request import Request
from harvest.services.support import ServiceContext, page_size
from harvest.store.feed_index import FeedRows
from harvest.store.keys import GEO_PARTITION_PRECISION

RADIUS_FLOOR_KM = 1.0  # smaller radii are read as 1 km
RADIUS_STEP_KM = 0.5  # radii are rounded up to the next half kilometre
RADIUS_MAX_KM = 50.0
PROBE_ROWS = 24  # rows a first look at a partition reads: a sparse one ends here
MAX_ROWS_PER_PAGE = 400  # ~0.4 KB each: <= ~20 RCU (eventually consistent) per request
MAX_QUERIES_PER_PAGE = 48
# Geohash cells narrow towards the poles: a 50 km circle meets ~30 index partitions at 52°N,
# ~210 at 85° and 4,096 at 89.9°, where planning the read alone took ~30 s of CPU. Past this
# many the request is refused with a clear error instead of being slow for everyone.
MAX_PARTITIONS = 256


class FeedKind(StrEnum):
    """One name per concept: the kind a feed item carries (`kind: "listing"`)."""

    LISTING = "listing"
    REQUEST = "request"


@dataclass(frozen=True, slots=True)
class FeedQuery:
    lat: float
    lon: float
    radius_km: float = 5.0
    crop: str | None = None
    kind: FeedKind | None = None


@dataclass(frozen=True, slots=True)
class FeedItem:
    kind: str  # "listing" | "request"
    distance_km: float  # to the centre of the published cell, unrounded
    entity: Listing | Request


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None
    rows_read: int = 0  # what the page cost: rows read and queries made (bench and tests)
    queries: int = 0


SortKey = tuple[float, str, str]  # (distance to the published point, kind, id)


def effective_radius(radius_km: float) -> float:
    """The radius the feed searches: at least the floor, rounded up to the next step."""
    if not (math.isfinite(radius_km) and 0 < radius_km <= RADIUS_MAX_KM):
        raise ValidationFailed(f"radiusKm must be greater than 0 and at most {RADIUS_MAX_KM:g}")
    steps = math.ceil(round(radius_km / RADIUS_STEP_KM, 9))
    return min(RADIUS_MAX_KM, max(RADIUS_FLOOR_KM, steps * RADIUS_STEP_KM))


def published_point(cell: str) -> tuple[float, float]:
    """The point a non-owner is shown for an item of published cell `cell`."""
    lat, lon = geo.decode(cell)
    return round(lat, 4), round(lon, 4)


def partition_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """Geo-index cells (precision >= 4) whose union covers the circle."""
    precision, cells = geo.covering_cells(lat, lon, radius_km)
    if precision >= GEO_PARTITION_PRECISION:
        return cells
    # Coarser than the partitions: expand to the precision-4 children that touch the
    # circle's bounding box (a few dozen queries at most for a 50 km radius).
    dlat, half_width = geo.extent_deg(lat, radius_km)
    dlon = 180.0 if half_width is None else half_width
    frontier = cells
    for _ in range(GEO_PARTITION_PRECISION - precision):
        frontier = [cell + char for cell in frontier for char in geo.BASE32]
        frontier = [c for c in frontier if _touches(geo.bounds(c), lat, lon, dlat, dlon)]
    return sorted(frontier)


def _touches(box: geo.Box, lat: float, lon: float, dlat: float, dlon: float) -> bool:
    if box.lat_max < lat - dlat or box.lat_min > lat + dlat:
        return False
    # Compare longitudes modulo 360 so a circle across the antimeridian still matches.
    return any(
        box.lon_max >= lon - dlon + shift and box.lon_min <= lon + dlon + shift
        for shift in (-360.0, 0.0, 360.0)
    )


def cells_in_range(lat: float, lon: float, radius_km: float) -> dict[str, dict[str, float]]:
    """{partition: {published cell: distance}} of every published cell whose point is within
    the radius. Such a point lies in the circle, so its partition is among the covering
    cells' geohash-4 prefixes. A fresh copy of a cached plan: the plan is pure geometry, and
    at the matching worker's 50 km it took 135 ms (~1,000 geohash decodes; 2 loaded cores)
    on every change, even in a cell a warm worker had planned before (the push latency)."""
    return {partition: dict(cells) for partition, cells in _planned(lat, lon, radius_km)}


@functools.lru_cache(maxsize=4096)  # ~25 partitions x 32 cells each at most: a few MB
def _planned(
    lat: float, lon: float, radius_km: float
) -> tuple[tuple[str, tuple[tuple[str, float], ...]], ...]:
    found = _plan(lat, lon, radius_km)
    return tuple((partition, tuple(cells.items())) for partition, cells in found.items())


def _plan(lat: float, lon: float, radius_km: float) -> dict[str, dict[str, float]]:
    partitions = {cell[:GEO_PARTITION_PRECISION] for cell in partition_cells(lat, lon, radius_km)}
    if len(partitions) > MAX_PARTITIONS:
        raise ValidationFailed(
            "this radius covers too many cells this close to a pole; use a smaller radiusKm",
            [FieldError("radiusKm", "too large at this latitude", "radius_too_large")],
        )
    found: dict[str, dict[str, float]] = {}
    for partition in sorted(partitions):
        children = {
            child: geo.haversine_km(lat, lon, *published_point(child))
            for child in (partition + char for char in geo.BASE32)
        }
        inside = {cell: d for cell, d in children.items() if d <= radius_km}
        if inside:
            found[partition] = inside
    return found


@dataclass(order=True, slots=True)
class _Entry:
    key: SortKey
    rank: int  # 0: an item, 1: something still to read (items first at an equal key)
    seq: int
    partition: str = field(compare=False)
    cell: str | None = field(compare=False, default=None)  # one cell, read from `key` on
    span: tuple[str, ...] = field(compare=False, default=())  # cells still unread, key order
    whole: bool = field(compare=False, default=False)  # read the span from its start
    item: FeedItem | None = field(compare=False, default=None)


class FeedStore(Protocol):
    """What FeedService reads: the FeedIndex (harvest.store.repository.Repository)."""

    def feed_rows(
        self,
        partition: str,
        *,
        cell: str | None = None,
        kind: str | None = None,
        crop: str | None = None,
        after: str | None = None,
        until: str | None = None,
        limit: int,
    ) -> FeedRows: ...


class _Search:
    """One page of the best-first search (see the module docstring)."""

    def __init__(
        self,
        repository: FeedStore,
        query: FeedQuery,
        radius_km: float,
        after: SortKey | None,
    ) -> None:
        self.repository = repository
        self.query = query
        self.after = after
        self.heap: list[_Entry] = []
        self.seq = 0
        self.rows = self.queries = 0
        self.in_range = cells_in_range(query.lat, query.lon, radius_km)
        floor = after[0] if after else -1.0
        for partition, cells in self.in_range.items():
            span = tuple(sorted(cell for cell, d in cells.items() if d >= floor))
            if span:
                self._push((min(cells[c] for c in span), "", ""), 1, partition, span=span)

    def _push(
        self,
        key: SortKey,
        rank: int,
        partition: str,
        *,
        cell: str | None = None,
        span: tuple[str, ...] = (),
        whole: bool = False,
        item: FeedItem | None = None,
    ) -> None:
        if self.after is not None and key <= self.after:
            if rank == 0:
                return  # served on an earlier page
            key = self.after  # still to read, but only past the cursor
        self.seq += 1
        entry = _Entry(key, rank, self.seq, partition, cell, span, whole, item)
        heapq.heappush(self.heap, entry)

    def _spent(self) -> bool:
        return self.rows >= MAX_ROWS_PER_PAGE or self.queries >= MAX_QUERIES_PER_PAGE

    def run(self, size: int, now: datetime) -> tuple[list[FeedItem], SortKey | None]:
        """Up to `size` items and the position to continue from (None: nothing after)."""
        found: list[tuple[SortKey, FeedItem]] = []
        while self.heap:
            top = self.heap[0]
            if top.item is not None:
                heapq.heappop(self.heap)
                if top.item.entity.is_live(now):
                    found.append((top.key, top.item))
                    if len(found) > size:
                        return [item for _, item in found[:size]], found[size - 1][0]
                continue
            if self._spent() and (self.after is None or top.key > self.after):
                # Everything before this entry's key has been read and served or dropped.
                # (An entry still at the cursor is read regardless, so every page moves on:
                # there are at most a few dozen of them, one per partition.)
                return [item for _, item in found], top.key
            heapq.heappop(self.heap)
            self._read(top, size + 1 - len(found))
        return [item for _, item in found], None

    def _read(self, entry: _Entry, need: int) -> None:
        cells = self.in_range[entry.partition]
        wanted = need if self.query.crop is None else 4 * need + 16
        distance, kind, entity_id = entry.key
        if entry.cell is not None:  # one cell, from where an earlier read stopped
            limit = max(1, min(wanted, MAX_ROWS_PER_PAGE - self.rows))
            resume = kind and cells[entry.cell] == distance  # a key inside this cell
            after = f"{entry.cell}#{kind}#{entity_id}" if resume else None
            page = self._query(entry.partition, entry.cell, after, None, limit)
            self._take(page, entry.partition, {entry.cell})
            if page.last_key is not None:
                last_cell, last_kind, last_id = page.last_key.split("#", 2)
                key = (cells[last_cell], last_kind, last_id)
                self._push(key, 1, entry.partition, cell=last_cell)
            return
        # A span of cells: read in key order from its nearest cell on (in a dense area, that
        # cell alone fills the page; in a sparse one, one read covers many cells). The cells
        # before the nearest one stay a span, read later from its start (the area proved
        # sparse, or it would not be reached soon); after a read that stopped early (dense),
        # the cells after it are read one by one, nearest first.
        span = entry.span
        first = span[0] if entry.whole else min(span, key=lambda cell: (cells[cell], cell))
        # Past the cursor inside `first` only when the cursor is at `first`'s distance.
        start = f"{first}#{kind}#{entity_id}" if kind and cells[first] == distance else first
        limit = max(1, min(max(wanted, PROBE_ROWS), MAX_ROWS_PER_PAGE - self.rows))
        page = self._query(entry.partition, None, start, f"{span[-1]}#\uffff", limit)
        self._take(page, entry.partition, set(span))
        before = tuple(cell for cell in span if cell < first)
        if before:
            bound = (min(cells[c] for c in before), "", "")
            self._push(bound, 1, entry.partition, span=before, whole=True)
        if page.last_key is None:
            return
        last_cell, last_kind, last_id = page.last_key.split("#", 2)
        for cell in span:
            if cell == last_cell:
                self._push((cells[cell], last_kind, last_id), 1, entry.partition, cell=cell)
            elif cell > last_cell:
                self._push((cells[cell], "", ""), 1, entry.partition, cell=cell)

    def _take(self, page: FeedRows, partition: str, members: set[str]) -> None:
        cells = self.in_range[partition]
        for sort_key, entity in page.rows:
            cell, kind, entity_id = sort_key.split("#", 2)
            if cell in members:
                item = FeedItem(kind, cells[cell], entity)
                self._push((cells[cell], kind, entity_id), 0, partition, item=item)

    def _query(
        self, partition: str, cell: str | None, after: str | None, until: str | None, limit: int
    ) -> FeedRows:
        kind = self.query.kind.value if self.query.kind else None
        page = self.repository.feed_rows(
            partition,
            cell=cell,
            kind=kind,
            crop=self.query.crop,
            after=after,
            until=until,
            limit=limit,
        )
        self.queries += 1
        self.rows += page.scanned
        return page


def nearest_live(
    repository: FeedStore, query: FeedQuery, size: int, now: datetime
) -> tuple[list[FeedItem], int]:
    """The `size` nearest live items for `query` (no cursor), and the rows read: the same
    bounded best-first search as a feed page (the matching worker's candidates)."""
    search = _Search(repository, query, effective_radius(query.radius_km), None)
    items, _ = search.run(size, now)
    return items, search.rows


class FeedService:
    def __init__(self, repository: FeedStore, context: ServiceContext) -> None:
        self.repository = repository
        self.context = context

    def nearby(self, query: FeedQuery, limit: int | None, cursor: str | None) -> FeedPage:
        geo.validate_point(query.lat, query.lon)
        radius = effective_radius(query.radius_km)
        scope = f"feed:{query.lat:.6f}:{query.lon:.6f}:{radius}:{query.crop}:{query.kind}"
        after: SortKey | None = None
        if cursor:
            position = self.context.cursors.decode(scope, cursor)
            after = (float(position["d"]), str(position["k"]), str(position["id"]))
        search = _Search(self.repository, query, radius, after)
        items, stop = search.run(page_size(limit), self.context.clock())
        token = None
        if stop is not None:
            token = self.context.cursors.encode(scope, {"d": stop[0], "k": stop[1], "id": stop[2]})
        return FeedPage(items, token, search.rows, search.queries)
