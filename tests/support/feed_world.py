"""Live listings and requests written straight to a table (thousands in a second), and the
feed's answer computed the slow, obvious way to compare the real one with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from harvest.domain import geo
from harvest.domain.common import PUBLIC_GEOHASH_PRECISION, Location
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.request import Request, RequestStatus
from harvest.services.feed import FeedKind
from harvest.store.dynamo import serialize
from harvest.store.items import ListingItem, RequestItem

NOW = datetime.now(UTC).replace(microsecond=0)


def place(lat: float, lon: float) -> Location:
    return Location(lat, lon, geo.encode(lat, lon, 7))


def listing(
    listing_id: str,
    lat: float,
    lon: float,
    *,
    crop: str = "tomato",
    owner: str = "grower",
    until: timedelta = timedelta(days=7),
) -> Listing:
    return Listing(
        listing_id=listing_id,
        owner_id=owner,
        crop=crop,
        unit="kg",
        quantity_total=Decimal(5),
        quantity_remaining=Decimal(5),
        available_from=NOW - timedelta(days=1),
        available_until=NOW + until,
        location=place(lat, lon),
        notes=None,
        status=ListingStatus.ACTIVE,
        version=1,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        correlation_id="seed",
    )


def request(request_id: str, lat: float, lon: float, *, crop: str = "tomato") -> Request:
    return Request(
        request_id=request_id,
        owner_id="searcher",
        crop=crop,
        unit="kg",
        quantity=Decimal(2),
        needed_by=NOW + timedelta(days=5),
        location=place(lat, lon),
        notes=None,
        status=RequestStatus.OPEN,
        version=1,
        created_at=NOW - timedelta(days=1),
        updated_at=NOW - timedelta(days=1),
        correlation_id="seed",
    )


def moved(entity: Listing | Request, lat: float, lon: float) -> Listing | Request:
    return replace(entity, location=place(lat, lon))


def seed(client: Any, table: str, entities: list[Listing | Request]) -> None:
    items = [
        ListingItem.encode(e) if isinstance(e, Listing) else RequestItem.encode(e) for e in entities
    ]
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": serialize(i)}} for i in items[start : start + 25]]
        pending: dict[str, Any] = {table: batch}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})


def published_distance(entity: Listing | Request, lat: float, lon: float) -> float:
    centre = geo.approximate(entity.location.lat, entity.location.lon, PUBLIC_GEOHASH_PRECISION)
    return geo.haversine_km(lat, lon, *centre)


def expected_ids(
    entities: list[Listing | Request],
    lat: float,
    lon: float,
    radius_km: float,
    *,
    crop: str | None = None,
    kind: FeedKind | None = None,
    now: datetime = NOW,
) -> list[str]:
    """Every live item whose published point is in range, by (distance, kind, id)."""
    keyed = []
    for e in entities:
        entity_kind = "listing" if isinstance(e, Listing) else "request"
        entity_id = e.listing_id if isinstance(e, Listing) else e.request_id
        distance = published_distance(e, lat, lon)
        if distance > radius_km or not e.is_live(now):
            continue
        if (crop is not None and e.crop != crop) or (kind is not None and kind != entity_kind):
            continue
        keyed.append(((distance, entity_kind, entity_id), entity_id))
    return [entity_id for _, entity_id in sorted(keyed)]
