"""The nearby feed: in range by the published point, nearest first, complete at density."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from harvest.api import dependencies
from harvest.domain import geo
from harvest.domain.listing import Listing
from harvest.domain.request import Request
from harvest.services import feed as feed_module
from harvest.services.feed import FeedKind, FeedPage, FeedQuery
from support import feed_world, payloads
from support.apigw import Api

BERLIN = (52.52, 13.405)


def _post_listing_at(api: Api, lat: float, lon: float, user: str = "grower", **kw: object) -> str:
    created = api.post(
        "/listings", payloads.listing(location={"lat": lat, "lon": lon}, **kw), user=user
    )
    assert created.status == 201, created.body
    return str(created.body["listingId"])


def _feed_ids(api: Api, url: str) -> list[str]:
    response = api.get(url, user="searcher")
    assert response.status == 200, response.body
    return [item.get("listingId") or item.get("requestId") for item in response.body["items"]]


def _published_km(lat: float, lon: float, centre: tuple[float, float]) -> float:
    return geo.haversine_km(*centre, *geo.approximate(lat, lon, 5))


def test_an_item_across_a_geohash4_edge_is_in_range_by_its_published_point(api: Api) -> None:
    # Given a searcher 100 m inside the east edge of a precision-4 partition
    box = geo.bounds(geo.encode(52.52, 13.405, 4))
    here = (52.52, box.lon_max - 0.0015)
    # and a listing just across the edge (other partition) and one 6 km further east
    near = _post_listing_at(api, 52.52, box.lon_max + 0.0045)
    far = _post_listing_at(api, 52.52, box.lon_max + 0.09)
    assert geo.encode(*here, 4) != geo.encode(52.52, box.lon_max + 0.0045, 4)
    near_km = _published_km(52.52, box.lon_max + 0.0045, here)
    far_km = _published_km(52.52, box.lon_max + 0.09, here)
    assert near_km < 3 < far_km

    # When they search 3 km around them, Then only the near one is in range
    assert _feed_ids(api, f"/feed?lat={here[0]}&lon={here[1]}&radiusKm=3") == [near]
    # and a radius reaching the far one's published point finds both, nearest first
    assert _feed_ids(api, f"/feed?lat={here[0]}&lon={here[1]}&radiusKm={far_km + 0.5:.1f}") == [
        near,
        far,
    ]


def test_an_item_across_the_antimeridian_is_found(api: Api) -> None:
    listing = _post_listing_at(api, -16.5, -179.995)
    assert _published_km(-16.5, -179.995, (-16.5, 179.995)) < 3
    assert _feed_ids(api, "/feed?lat=-16.5&lon=179.995&radiusKm=3") == [listing]


def test_a_wide_radius_spans_many_partitions(api: Api) -> None:
    # 45 km north-east of the centre: several precision-4 partitions away
    listing = _post_listing_at(api, 52.52 + 0.3, 13.405 + 0.45)
    assert 40 < _published_km(52.82, 13.855, BERLIN) < 48
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=50") == [listing]
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=40") == []


def test_the_feed_is_sorted_filters_by_kind_and_crop_and_paginates(api: Api) -> None:
    ids = [_post_listing_at(api, 52.52 + 0.05 * i, 13.405) for i in range(5)]  # a cell apart
    carrot = _post_listing_at(api, 52.5201, 13.405, crop="carrot")
    request = api.post("/requests", payloads.request(), user="family").body["requestId"]

    everything = _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=30&limit=100")
    assert set(everything) == {*ids, carrot, request}
    assert [everything.index(i) for i in ids] == sorted(everything.index(i) for i in ids)

    base = "/feed?lat=52.52&lon=13.405&radiusKm=30"
    assert _feed_ids(api, base + "&crop=carrot") == [carrot]
    # One name per concept: the kind items carry; the plural stays as a deprecated alias.
    assert _feed_ids(api, base + "&kind=request") == [request]
    assert _feed_ids(api, base + "&kind=requests") == [request]
    assert _feed_ids(api, base + "&kind=listing") == _feed_ids(api, base + "&kind=listings")
    assert api.get(base + "&kind=claims", user="searcher").status == 422

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        url = base + "&kind=listing&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(url, user="searcher").body
        seen += [item["listingId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [i for i in everything if i != request]


def test_a_tiny_radius_is_read_as_the_floor(api: Api) -> None:
    # Given a listing whose published point is 0.5-1 km from the searcher
    listing = _post_listing_at(api, *BERLIN)
    point = geo.approximate(*BERLIN, 5)
    here = (point[0] + 0.006, point[1])  # ~670 m north of the published point
    assert 0.5 < geo.haversine_km(*here, *point) < 1.0
    # When they ask for 1 m, Then they get the 1 km floor, not a locating probe
    assert _feed_ids(api, f"/feed?lat={here[0]}&lon={here[1]}&radiusKm=0.001") == [listing]
    response = api.get(f"/feed?lat={here[0]}&lon={here[1]}&radiusKm=0.001", user="searcher")
    assert response.body["items"][0]["distanceKm"] == 1.0


def test_claimed_and_expired_listings_are_not_in_the_feed(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(quantity=1), user="grower").body
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=5") == [listing["listingId"]]
    claim = api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 1}, user="s")
    api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "confirmed"},
        user="grower",
        headers={"If-Match": claim.etag},
    )
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=5") == []


# ----------------------------------------------------------------- at density


def _dense_city(count: int) -> list[Listing | Request]:
    """`count` live items within ~7 km of the centre (a fifth of them requests, one in ten
    carrots), some expired, dense enough that partitions and cells exceed one read."""
    rng = random.Random(10)  # noqa: S311 - a reproducible layout, not a secret
    made: list[Listing | Request] = []
    for n in range(count):
        lat = BERLIN[0] + rng.uniform(-0.06, 0.06)
        lon = BERLIN[1] + rng.uniform(-0.1, 0.1)
        crop = "carrot" if n % 10 == 0 else "tomato"
        if n % 5 == 0:
            made.append(feed_world.request(f"req-{n:05d}", lat, lon, crop=crop))
        else:
            until = timedelta(days=-1 if n % 37 == 0 else 7)
            made.append(feed_world.listing(f"lst-{n:05d}", lat, lon, crop=crop, until=until))
    return made


def _page_through(query: FeedQuery, limit: int) -> tuple[list[str], list[FeedPage]]:
    feed = dependencies.services().feed
    ids: list[str] = []
    pages: list[FeedPage] = []
    cursor = None
    for _ in range(1000):
        page = feed.nearby(query, limit, cursor)
        pages.append(page)
        ids += [
            i.entity.listing_id if isinstance(i.entity, Listing) else i.entity.request_id
            for i in page.items
        ]
        cursor = page.next_cursor
        if cursor is None:
            return ids, pages
    raise AssertionError("the feed never ended")


@pytest.fixture
def dense(dynamodb: Any, table: str) -> list[Listing | Request]:
    city = _dense_city(600)
    feed_world.seed(dynamodb, table, city)
    return city


def test_a_dense_area_pages_through_every_live_item_in_range_in_order(
    dense: list[Listing | Request],
) -> None:
    expected = feed_world.expected_ids(dense, *BERLIN, 5.0)
    assert len(expected) > 250  # dense: many cells and partitions need more than one read

    ids, pages = _page_through(FeedQuery(*BERLIN, radius_km=5.0), 20)

    assert ids == expected
    assert all(len(page.items) == 20 for page in pages[:-1])
    # Bounded: a page reads a few dozen rows however deep it is (page 5 ~ page 1).
    assert max(page.rows_read for page in pages) <= 150, [p.rows_read for p in pages]


def test_a_rare_crop_in_a_dense_area_comes_in_short_pages_that_lose_nothing(
    dense: list[Listing | Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A crop without a kind reads the FeedIndex and filters after the read.
    monkeypatch.setattr(feed_module, "MAX_ROWS_PER_PAGE", 60)
    query = FeedQuery(*BERLIN, radius_km=5.0, crop="carrot")
    expected = feed_world.expected_ids(dense, *BERLIN, 5.0, crop="carrot")

    ids, pages = _page_through(query, 20)

    assert ids == expected
    assert any(len(page.items) < 20 and page.next_cursor for page in pages)  # budget hit
    assert max(page.rows_read for page in pages) <= 60 + 2 * feed_module.PROBE_ROWS


def test_a_crop_and_kind_read_only_their_rows_so_pages_come_full(
    dense: list[Listing | Request], monkeypatch: pytest.MonkeyPatch
) -> None:
    # With both, the read is of the CropIndex: the same row budget is spent on carrots only.
    monkeypatch.setattr(feed_module, "MAX_ROWS_PER_PAGE", 60)
    query = FeedQuery(*BERLIN, radius_km=5.0, crop="carrot", kind=FeedKind.LISTING)
    expected = feed_world.expected_ids(dense, *BERLIN, 5.0, crop="carrot", kind=FeedKind.LISTING)

    ids, pages = _page_through(query, 20)

    assert ids == expected
    assert all(len(page.items) == 20 for page in pages[:-1])
    assert sum(page.rows_read for page in pages) <= len(expected) + len(pages)


def test_the_openapi_documents_the_radius_floor_steps_and_the_kind_aliases(api: Api) -> None:
    spec = api.get("/openapi.json", user=None).body
    # shared headers are `$ref`s to components; the feed's own query parameters are inline
    parameters = {p["name"]: p for p in spec["paths"]["/feed"]["get"]["parameters"] if "name" in p}

    radius = parameters["radiusKm"]["description"]
    assert f"at least {feed_module.RADIUS_FLOOR_KM:g} km" in radius
    assert f"next {feed_module.RADIUS_STEP_KM:g} km" in radius
    assert "published" in radius
    assert "`listings` and `requests` are deprecated" in parameters["kind"]["description"]


@pytest.mark.parametrize(("lat", "lon"), [(89.9, 179.9), (-89.5, 0.0), (88.0, 10.0)])
def test_a_wide_radius_next_to_a_pole_is_refused_quickly_not_planned_for_seconds(
    api: Api, lat: float, lon: float
) -> None:
    response = api.get(f"/feed?lat={lat}&lon={lon}&radiusKm=50", user="seeker")

    assert response.status == 422
    assert response.body["errors"][0]["loc"] == "radiusKm"
    assert "pole" in response.body["detail"]


def test_a_smaller_radius_next_to_a_pole_and_a_wide_one_in_the_arctic_still_answer(
    api: Api,
) -> None:
    assert api.get("/feed?lat=89.9&lon=179.9&radiusKm=5", user="seeker").status == 200
    assert api.get("/feed?lat=78.22&lon=15.65&radiusKm=50", user="seeker").status == 200


def test_reading_one_kind_from_inside_a_cell_after_a_row_of_the_other_kind_skips_it(
    api: Api, dynamodb: Any, table: str
) -> None:
    # A span read without a kind in its key stops on a listing row; resuming that cell for
    # requests from there must not read the listings after it (the matching worker did).
    cell = geo.encode(*BERLIN, 7)
    listing = feed_world.listing("listing-aa", *BERLIN)
    later = feed_world.listing("listing-zz", *BERLIN)
    wanted = feed_world.request("request-01", *BERLIN)
    feed_world.seed(dynamodb, table, [listing, later, wanted])
    repository = dependencies.services().feed.repository

    page = repository.feed_rows(
        cell[:4], cell=cell[:5], kind="request", after=f"{cell[:5]}#listing#listing-aa", limit=10
    )

    assert [type(entity).__name__ for _, entity in page.rows] == ["Request"]


def test_resuming_a_cell_past_every_row_of_the_kind_reads_nothing(
    api: Api, dynamodb: Any, table: str
) -> None:
    # After a request row, no listing of that cell is left (listing < request in the key).
    cell = geo.encode(*BERLIN, 7)
    feed_world.seed(dynamodb, table, [feed_world.listing("listing-aa", *BERLIN)])
    repository = dependencies.services().feed.repository

    page = repository.feed_rows(
        cell[:4], cell=cell[:5], kind="listing", after=f"{cell[:5]}#request#r-1", limit=10
    )

    assert (page.rows, page.last_key, page.scanned) == ([], None, 0)
