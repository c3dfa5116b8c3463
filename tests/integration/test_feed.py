"""The nearby feed at cell edges: nothing inside the radius is missed, nothing outside shown."""

from __future__ import annotations

from harvest.domain import geo
from support import payloads
from support.apigw import Api


def _post_listing_at(api: Api, lat: float, lon: float, user: str = "grower", **kw: object) -> str:
    created = api.post(
        "/listings", payloads.listing(location={"lat": lat, "lon": lon}, **kw), user=user
    )
    assert created.status == 201, created.body
    return str(created.body["listingId"])


def _feed_ids(api: Api, url: str) -> list[str]:
    items = api.get(url, user="searcher").body["items"]
    return [item.get("listingId") or item.get("requestId") for item in items]


def test_listing_across_a_geohash4_edge_is_found(api: Api) -> None:
    # Given a searcher standing 100 m inside the east edge of a precision-4 cell
    box = geo.bounds(geo.encode(52.52, 13.405, 4))
    lat, lon = 52.52, box.lon_max - 0.0015
    # and listings 400 m east (other cell, other GSI partition) and 3 km east
    near = _post_listing_at(api, lat, box.lon_max + 0.0045)
    far = _post_listing_at(api, lat, box.lon_max + 0.045)
    assert geo.encode(lat, lon, 4) != geo.encode(lat, box.lon_max + 0.0045, 4)

    # When they search 1 km around them
    found = _feed_ids(api, f"/feed?lat={lat}&lon={lon}&radiusKm=1")

    # Then the near listing is found and the far one is not
    assert found == [near]
    assert far in _feed_ids(api, f"/feed?lat={lat}&lon={lon}&radiusKm=5")


def test_listing_across_the_antimeridian_is_found(api: Api) -> None:
    listing = _post_listing_at(api, -16.5, -179.995)
    assert _feed_ids(api, "/feed?lat=-16.5&lon=179.995&radiusKm=2") == [listing]


def test_wide_radius_spans_many_partitions(api: Api) -> None:
    # 45 km north-east of the centre: several precision-4 partitions away
    listing = _post_listing_at(api, 52.52 + 0.3, 13.405 + 0.45)
    assert geo.haversine_km(52.52, 13.405, 52.82, 13.855) < 48
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=50") == [listing]
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=40") == []


def test_feed_is_sorted_by_distance_filters_and_paginates(api: Api) -> None:
    ids = [_post_listing_at(api, 52.52 + 0.005 * i, 13.405) for i in range(5)]
    carrot = _post_listing_at(api, 52.5201, 13.405, crop="carrot")
    request = api.post("/requests", payloads.request(), user="family").body["requestId"]

    everything = _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=5&limit=100")
    assert set(everything) == {*ids, carrot, request}
    assert everything.index(ids[0]) < everything.index(ids[4])

    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=5&crop=carrot") == [carrot]
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=5&kind=requests") == [request]

    seen: list[str] = []
    url = "/feed?lat=52.52&lon=13.405&radiusKm=5&kind=listings&limit=2"
    cursor = None
    for _ in range(10):
        page = api.get(url + (f"&cursor={cursor}" if cursor else ""), user="searcher").body
        seen += [item["listingId"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted([*ids, carrot])
    assert len(seen) == len(set(seen))


def test_claimed_and_expired_listings_are_not_in_the_feed(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(quantity=1), user="grower").body
    claim = api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 1}, user="s")
    api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "confirmed"},
        user="grower",
        headers={"If-Match": claim.etag},
    )
    assert _feed_ids(api, "/feed?lat=52.52&lon=13.405&radiusKm=2") == []
