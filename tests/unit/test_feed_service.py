"""FeedService against the fake repository's FeedIndex: what is published within the
radius, nearest first, paged exactly; and the partition cells a radius reads."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvest.domain import geo
from harvest.domain.common import Location
from harvest.domain.errors import (
    InvalidCursor,
    ValidationFailed,
)
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.request import Request, RequestStatus
from harvest.services import feed
from harvest.services.feed import FeedKind, FeedQuery, partition_cells
from harvest.store import keys
from support.clock import NOW
from support.service_world import (
    BERLIN,
    GROWER,
    SEARCHER,
    World,
    make_world,
)


@pytest.fixture
def world() -> World:
    return make_world()


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along a bearing on geo's sphere."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), km / geo.EARTH_RADIUS_KM
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540.0) % 360.0 - 180.0


FEED_PLACE = Location(*BERLIN, geo.encode(*BERLIN, 7))
FEED_LISTING = Listing(
    "template", GROWER.user_id, "tomato", "kg", Decimal(5), Decimal(5), NOW,
    NOW + timedelta(days=2), FEED_PLACE, None, ListingStatus.ACTIVE, 1, NOW, NOW, "corr",
)  # fmt: skip
FEED_REQUEST = Request(
    "template", SEARCHER.user_id, "tomato", "kg", Decimal(2), NOW + timedelta(days=2),
    FEED_PLACE, None, RequestStatus.OPEN, 1, NOW, NOW, "corr",
)  # fmt: skip


def place(
    world: World,
    km: float,
    bearing: float = 45.0,
    *,
    kind: str = "listing",
    crop: str = "tomato",
    centre: tuple[float, float] = BERLIN,
    until: datetime = NOW + timedelta(days=2),
    status: str | None = None,
) -> str:
    """Store a listing or request `km` from `centre` straight into the fake; return its id."""
    lat, lon = destination(*centre, bearing, km)
    location = Location(lat, lon, geo.encode(lat, lon, 7))
    entity_id = f"{kind}-{len(world.repo.listings) + len(world.repo.requests):04d}"
    if kind == "listing":
        world.repo.listings[entity_id] = replace(
            FEED_LISTING,
            listing_id=entity_id,
            crop=crop,
            available_until=until,
            location=location,
            status=ListingStatus(status or "active"),
        )
    else:
        world.repo.requests[entity_id] = replace(
            FEED_REQUEST,
            request_id=entity_id,
            crop=crop,
            needed_by=until,
            location=location,
            status=RequestStatus(status or "open"),
        )
    return entity_id


def entity_ids(items: list[feed.FeedItem]) -> list[str]:
    return [
        i.entity.listing_id if isinstance(i.entity, Listing) else i.entity.request_id for i in items
    ]


def published_km(world: World, entity_id: str, centre: tuple[float, float] = BERLIN) -> float:
    entity = world.repo.listings.get(entity_id) or world.repo.requests[entity_id]
    return geo.haversine_km(*centre, *geo.approximate(entity.location.lat, entity.location.lon))


def test_feed_keeps_what_is_published_within_the_radius_nearest_first(world: World) -> None:
    # Exact points 2, 6 and 9 km away; what counts is the centre of the published cell.
    far = place(world, 9.0, 10)
    near = place(world, 2.0, 200)
    request = place(world, 6.0, 300, kind="request")
    outside = place(world, 16.0, 90)
    place(world, 40.0, 0)  # far outside
    assert published_km(world, far) < 12.0 < published_km(world, outside)

    page = world.feed.nearby(FeedQuery(*BERLIN, radius_km=12.0), None, None)

    assert entity_ids(page.items) == [near, request, far]
    assert [i.kind for i in page.items] == ["listing", "request", "listing"]
    assert [i.distance_km for i in page.items] == [
        published_km(world, near),
        published_km(world, request),
        published_km(world, far),
    ]
    assert page.next_cursor is None


def test_feed_filters_by_crop_and_kind(world: World) -> None:
    tomato = place(world, 1.0)
    place(world, 1.5, crop="apple")
    tomato_request = place(world, 2.0, kind="request")

    crop_only = world.feed.nearby(FeedQuery(*BERLIN, crop="tomato"), None, None)
    listings_only = world.feed.nearby(FeedQuery(*BERLIN, kind=FeedKind.LISTING), None, None)
    world.repo.cells_read.clear()
    requests_only = world.feed.nearby(FeedQuery(*BERLIN, kind=FeedKind.REQUEST), None, None)

    assert entity_ids(crop_only.items) == [tomato, tomato_request]
    assert all(i.kind == "listing" for i in listings_only.items)
    assert len(listings_only.items) == 2
    assert entity_ids(requests_only.items) == [tomato_request]
    assert {kind for kind, _ in world.repo.cells_read} == {"request"}


def test_feed_leaves_out_expired_and_not_live_entities(world: World) -> None:
    live = place(world, 1.0)
    place(world, 1.0, 90, until=NOW - timedelta(minutes=1))  # still indexed, but over
    place(world, 1.0, 180, kind="request", until=NOW)
    place(world, 1.0, 270, status="claimed")
    place(world, 2.0, 270, kind="request", status="matched")

    page = world.feed.nearby(FeedQuery(*BERLIN), None, None)

    assert entity_ids(page.items) == [live]


def test_feed_pages_continue_exactly_after_the_last_item(world: World) -> None:
    placed = {
        place(world, km, bearing)
        for km, bearing in [
            (0.5, 0),
            (1.0, 90),
            (1.0, 270),
            (2.0, 10),
            (3.0, 20),
            (4.0, 30),
            (4.5, 40),
        ]
    }
    placed.add(place(world, 1.0, 90, kind="request"))  # same distance as a listing

    seen: list[str] = []
    cursor: str | None = None
    distances: list[float] = []
    for _ in range(10):
        page = world.feed.nearby(FeedQuery(*BERLIN), 3, cursor)
        assert len(page.items) <= 3
        seen += entity_ids(page.items)
        distances += [i.distance_km for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(placed)
    assert len(seen) == len(set(seen))
    assert distances == sorted(distances)


def test_feed_cursor_is_bound_to_the_query(world: World) -> None:
    for km in (1.0, 2.0, 3.0):
        place(world, km)
    cursor = world.feed.nearby(FeedQuery(*BERLIN), 1, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        world.feed.nearby(FeedQuery(*BERLIN, radius_km=6.0), 1, cursor)
    with pytest.raises(InvalidCursor):
        world.feed.nearby(FeedQuery(*BERLIN, crop="tomato"), 1, cursor)


@pytest.mark.parametrize("radius", [0.0, -1.0, 50.0001, 500.0])
def test_feed_radius_must_be_in_zero_to_fifty(world: World, radius: float) -> None:
    with pytest.raises(ValidationFailed, match="radiusKm"):
        world.feed.nearby(FeedQuery(*BERLIN, radius_km=radius), None, None)


def test_feed_rejects_an_invalid_centre(world: World) -> None:
    with pytest.raises(ValidationFailed, match="invalid location"):
        world.feed.nearby(FeedQuery(100.0, 0.0), None, None)


def test_feed_with_fifty_km_radius_finds_items_far_out_in_every_direction(world: World) -> None:
    # 46 km: a published cell centre is at most ~3.5 km from the exact point
    placed = {place(world, 46.0, bearing) for bearing in range(0, 360, 30)}

    page = world.feed.nearby(FeedQuery(*BERLIN, radius_km=50.0), 100, None)

    assert set(entity_ids(page.items)) == placed
    assert all(len(cell) == 4 for _, cell in world.repo.cells_read)


# Centre chosen so that the precision-4 row starting at exactly 45.0 deg begins just beyond
# the feed's flat-earth box (radius / 111.32 km per degree) but inside the true circle.
EDGE_CENTRE = (45.0 - 0.4494, 10.0)


def test_feed_radius_decides_by_the_published_point_to_the_half_kilometre(world: World) -> None:
    listing = place(world, 20.0, 33.0)
    distance = published_km(world, listing)
    just_enough = math.ceil(distance * 2) / 2  # radii are read in 0.5 km steps

    found = world.feed.nearby(FeedQuery(*BERLIN, radius_km=just_enough), None, None)
    short = world.feed.nearby(FeedQuery(*BERLIN, radius_km=just_enough - 0.5), None, None)

    assert entity_ids(found.items) == [listing]
    assert short.items == []


@pytest.mark.parametrize(
    ("asked", "searched"), [(0.001, 1.0), (1.0, 1.0), (1.01, 1.5), (4.9, 5.0), (50.0, 50.0)]
)
def test_radius_has_a_floor_and_half_kilometre_steps(asked: float, searched: float) -> None:
    assert feed.effective_radius(asked) == searched


# The partition cells a radius reads.


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(52.52, 13.405, 1.0), (0.0, 0.0, 5.0), (-33.9, 151.2, 10.0), (0.0, 179.99, 2.0)],
)
def test_small_radius_uses_the_geo_cover_unchanged(lat: float, lon: float, radius: float) -> None:
    precision, cells = geo.covering_cells(lat, lon, radius)

    assert precision >= keys.GEO_PARTITION_PRECISION
    assert partition_cells(lat, lon, radius) == cells


def test_fifty_km_radius_expands_to_sorted_distinct_precision_four_cells() -> None:
    cells = partition_cells(*BERLIN, 50.0)

    assert geo.covering_cells(*BERLIN, 50.0)[0] < keys.GEO_PARTITION_PRECISION
    assert all(len(cell) == keys.GEO_PARTITION_PRECISION for cell in cells)
    assert cells == sorted(set(cells))
    assert geo.encode(*BERLIN, 4) in cells
    assert len(cells) <= 64  # "a few dozen queries at most"


def test_fifty_km_radius_across_the_antimeridian_covers_both_sides() -> None:
    cells = partition_cells(0.0, 179.9, 50.0)
    west_lat, west_lon = destination(0.0, 179.9, 90.0, 45.0)

    assert west_lon < 0
    assert geo.encode(west_lat, west_lon, 4) in cells
    assert geo.encode(0.0, 179.9, 4) in cells


@given(
    lat=st.floats(min_value=-89.0, max_value=89.0),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    radius=st.floats(min_value=0.5, max_value=50.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=0.9999),
)
def test_every_point_well_inside_the_radius_lies_in_a_returned_cell(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    point = destination(lat, lon, bearing, radius * fraction)
    fine = geo.encode(*point, 12)

    cells = partition_cells(lat, lon, radius)

    assert any(fine.startswith(cell) for cell in cells)
    assert all(len(cell) >= keys.GEO_PARTITION_PRECISION for cell in cells)


@pytest.mark.parametrize(
    ("centre", "bearing", "km"),
    [(EDGE_CENTRE, 0.0, 49.99), ((89.5, 0.0), 30.0, 49.0), ((70.0, 19.7797), 88.76, 49.99)],
    ids=["mid-latitude-edge", "near-pole", "high-latitude-edge"],
)
def test_every_point_within_the_radius_lies_in_a_returned_cell(
    centre: tuple[float, float], bearing: float, km: float
) -> None:
    point = destination(*centre, bearing, km)
    assert geo.haversine_km(*centre, *point) < 50.0

    assert geo.encode(*point, 4) in partition_cells(*centre, 50.0)


def test_the_range_plan_is_cached_but_each_caller_gets_its_own_copy() -> None:
    first = feed.cells_in_range(52.52, 13.405, 50.0)
    expected = feed._plan(52.52, 13.405, 50.0)
    assert first == expected
    first.clear()  # a caller's copy: nothing it does reaches the cache
    again = feed.cells_in_range(52.52, 13.405, 50.0)
    assert again == expected
    assert feed._planned.cache_info().hits >= 1
