"""Privacy by construction: what the feed tells another user about an item (whether it
appears, where in the order, its distanceKm, the cursors) depends only on the item's
published cell. Moving the exact point anywhere inside that cell changes no answer, for any
centre, radius, crop, kind, page size, cursor and read budget.

The world is dense enough that the feed's every path runs: partitions probed and then read
cell by cell, cells read in several pieces, pages cut short by the read budget."""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvest.api import dependencies, views
from harvest.domain import geo
from harvest.domain.listing import Listing
from harvest.domain.request import Request
from harvest.services import feed
from harvest.services.feed import FeedKind, FeedQuery
from support import feed_world

STRANGER = "mallory"
CELL = geo.encode(52.52, 13.405, 5)  # the target's published cell (Berlin Mitte)
BOX = geo.bounds(CELL)
TARGET = "lst-olive-target"


def _inside(fx: float, fy: float) -> tuple[float, float]:
    """A point at fractions (fx, fy) of the published cell, edges included where the cell
    includes them (its south and west edges)."""
    lat = BOX.lat_min + fy * (BOX.lat_max - BOX.lat_min)
    lon = BOX.lon_min + fx * (BOX.lon_max - BOX.lon_min)
    assert geo.encode(lat, lon, 5) == CELL
    return lat, lon


@pytest.fixture(scope="module")
def world(module_table: str, module_dynamodb: Any) -> str:
    rng = random.Random(3)  # noqa: S311 - a reproducible layout, not a secret
    others: list[Listing | Request] = []
    for n in range(90):
        lat = 52.52 + rng.uniform(-0.05, 0.05)
        lon = 13.405 + rng.uniform(-0.08, 0.08)
        crop = "carrot" if n % 4 == 0 else "tomato"
        if n % 3 == 0:
            others.append(feed_world.request(f"req-{n:04d}", lat, lon, crop=crop))
        else:
            others.append(feed_world.listing(f"lst-{n:04d}", lat, lon, crop=crop))
    # Neighbours in the target's own cell, on both sides of its id, so ties are ordered.
    for n, fraction in enumerate((0.1, 0.5, 0.9)):
        lat, lon = _inside(fraction, 1 - fraction)
        others.append(feed_world.listing(f"lst-olive-t{n}", lat, lon))
        others.append(feed_world.listing(f"lst-olive-{'a' if n else 'z'}{n}", lat, lon))
    feed_world.seed(module_dynamodb, module_table, others)
    return module_table


def _answers(query: FeedQuery, limit: int, pages: int) -> list[Any]:
    """Every page a stranger sees (items as rendered, and the cursor), up to `pages`."""
    service = dependencies.services().feed
    seen: list[Any] = []
    cursor = None
    for _ in range(pages):
        page = service.nearby(query, limit, cursor)
        seen.append(([views.feed_item(i, STRANGER).model_dump() for i in page.items], cursor))
        cursor = page.next_cursor
        if cursor is None:
            break
    seen.append(cursor)
    return seen


def _place_target(client: Any, table: str, lat: float, lon: float, crop: str) -> None:
    target = feed_world.listing(TARGET, lat, lon, crop=crop, owner="olive")
    feed_world.seed(client, table, [target])


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.tuples(st.floats(0, 0.999), st.floats(0, 0.999)),
    end=st.tuples(st.floats(0, 0.999), st.floats(0, 0.999)),
    centre=st.tuples(st.floats(-0.03, 0.03), st.floats(-0.05, 0.05)),
    radius=st.one_of(st.sampled_from([0.001, 1.0, 2.5]), st.floats(0.001, 12.0)),
    crop=st.sampled_from([None, "tomato", "carrot"]),
    kind=st.sampled_from([None, FeedKind.LISTING, FeedKind.REQUEST]),
    limit=st.integers(2, 12),
    budget=st.sampled_from([feed.MAX_ROWS_PER_PAGE, 30]),
)
def test_moving_the_exact_point_inside_its_cell_changes_no_answer(
    world: str,
    module_dynamodb: Any,
    start: tuple[float, float],
    end: tuple[float, float],
    centre: tuple[float, float],
    radius: float,
    crop: str | None,
    kind: FeedKind | None,
    limit: int,
    budget: int,
) -> None:
    query = FeedQuery(52.52 + centre[0], 13.405 + centre[1], radius, crop, kind)
    target_crop = crop or "tomato"
    with mock.patch.object(feed, "MAX_ROWS_PER_PAGE", budget):
        # Given the target at one exact point of its published cell
        _place_target(module_dynamodb, world, *_inside(*start), target_crop)
        before = _answers(query, limit, pages=6)
        # When its owner's exact point moves anywhere else inside that cell
        _place_target(module_dynamodb, world, *_inside(*end), target_crop)
        after = _answers(query, limit, pages=6)

    # Then a stranger sees exactly the same pages and cursors
    assert after == before


def test_the_issue_probe_no_longer_locates_a_listing(world: str, module_dynamodb: Any) -> None:
    # Given a listing near its cell's corner, far from the published centre
    lat, lon = _inside(0.02, 0.02)
    _place_target(module_dynamodb, world, lat, lon, "tomato")
    at_exact = FeedQuery(lat, lon, 0.001, kind=FeedKind.LISTING)
    centre_km = geo.haversine_km(lat, lon, *geo.approximate(lat, lon, 5))
    assert centre_km > 1.0

    # When a stranger asks for 1 m around the exact point, Then the floor (1 km) around it
    # does not reach the published point, so the listing is not there, at distance 0 or any
    page = dependencies.services().feed.nearby(at_exact, 100, None)
    assert TARGET not in {i.entity.listing_id for i in page.items if isinstance(i.entity, Listing)}
