"""The nearby feed: live listings and open requests within a radius, nearest first.

The search covers the centre's geohash cell and its neighbours at a precision chosen from
the radius (so the circle always fits), reads those cells from the sparse geo index, then
keeps only what lies within the true great-circle distance. Nothing inside the radius is
missed at a cell edge, and nothing outside it is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from harvest.domain import geo
from harvest.domain.errors import ValidationFailed
from harvest.domain.listing import Listing
from harvest.domain.request import Request
from harvest.services.support import ServiceContext, page_size
from harvest.store.keys import GEO_PARTITION_PRECISION
from harvest.store.repository import Repository


class FeedKind(StrEnum):
    LISTINGS = "listings"
    REQUESTS = "requests"


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
    distance_km: float
    entity: Listing | Request


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


def partition_cells(lat: float, lon: float, radius_km: float) -> list[str]:
    """Geo-index cells (precision >= 4) whose union covers the circle."""
    precision, cells = geo.covering_cells(lat, lon, radius_km)
    if precision >= GEO_PARTITION_PRECISION:
        return cells
    # Coarser than the partitions: expand to the precision-4 children that touch the
    # circle's bounding box (a few dozen queries at most for a 50 km radius).
    dlat, half_width = geo.extent_deg(lat, radius_km)
    dlon = 180.0 if half_width is None else half_width
    wanted: set[str] = set()
    frontier = cells
    for _ in range(GEO_PARTITION_PRECISION - precision):
        frontier = [cell + char for cell in frontier for char in geo.BASE32]
        frontier = [c for c in frontier if _touches(geo.bounds(c), lat, lon, dlat, dlon)]
    wanted.update(frontier)
    return sorted(wanted)


def _touches(box: geo.Box, lat: float, lon: float, dlat: float, dlon: float) -> bool:
    if box.lat_max < lat - dlat or box.lat_min > lat + dlat:
        return False
    # Compare longitudes modulo 360 so a circle across the antimeridian still matches.
    return any(
        box.lon_max >= lon - dlon + shift and box.lon_min <= lon + dlon + shift
        for shift in (-360.0, 0.0, 360.0)
    )


class FeedService:
    def __init__(self, repository: Repository, context: ServiceContext) -> None:
        self.repository = repository
        self.context = context

    def nearby(self, query: FeedQuery, limit: int | None, cursor: str | None) -> FeedPage:
        geo.validate_point(query.lat, query.lon)
        if not 0 < query.radius_km <= 50:
            raise ValidationFailed("radiusKm must be greater than 0 and at most 50")
        scope = f"feed:{query.lat:.6f}:{query.lon:.6f}:{query.radius_km}:{query.crop}:{query.kind}"
        after = self.context.cursors.decode(scope, cursor) if cursor else None
        found = self._candidates(query)
        found.sort(key=_order)
        if after is not None:
            mark = (float(after["d"]), str(after["k"]), str(after["id"]))
            found = [item for item in found if _order(item) > mark]
        size = page_size(limit)
        items = found[:size]
        token = None
        if len(found) > size:
            last = _order(items[-1])
            token = self.context.cursors.encode(scope, {"d": last[0], "k": last[1], "id": last[2]})
        return FeedPage(items, token)

    def _candidates(self, query: FeedQuery) -> list[FeedItem]:
        now = self.context.clock()
        cells = partition_cells(query.lat, query.lon, query.radius_km)
        entities: list[Listing | Request] = []
        for cell in cells:
            if query.kind in (None, FeedKind.LISTINGS):
                entities.extend(self.repository.live_listings_in_cell(cell))
            if query.kind in (None, FeedKind.REQUESTS):
                entities.extend(self.repository.open_requests_in_cell(cell))
        items: list[FeedItem] = []
        for entity in entities:
            if query.crop is not None and entity.crop != query.crop:
                continue
            if not entity.is_live(now):
                continue
            distance = geo.haversine_km(
                query.lat, query.lon, entity.location.lat, entity.location.lon
            )
            if distance <= query.radius_km:
                kind = "listing" if isinstance(entity, Listing) else "request"
                items.append(FeedItem(kind, round(distance, 3), entity))
        return items


def _order(item: FeedItem) -> tuple[float, str, str]:
    """Nearest first by the distance a stranger is shown (rounded up to 0.5 km), then kind
    and id. The cursor carries this key, so it must say no more than the page does: with
    the exact distance in it, three `limit=1` queries would trilaterate the point."""
    entity = item.entity
    entity_id = entity.listing_id if isinstance(entity, Listing) else entity.request_id
    return (math.ceil(item.distance_km * 2) / 2, item.kind, entity_id)
