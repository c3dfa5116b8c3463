"""No exact coordinates reach anyone but their owner: not through GET /listings/{id},
GET /requests/{id}, /feed or a claim, and not through the domain events the publisher puts on
the bus (built from the stored items exactly as the publisher builds them).

Each exact point has digits no cell centre has, so "the response text does not contain them"
is a real check; the owner's own view (which must show them) proves the probe can see them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from harvest.domain import geo
from harvest.domain.common import PUBLIC_GEOHASH_PRECISION
from harvest.domain.events import public_view
from harvest.store import keys
from harvest.store.dynamo import deserialize
from harvest.store.stream import events_from_record
from security.helpers import stream_record
from support import payloads
from support.apigw import Api

OWNER, STRANGER, CLAIMER = "olive", "mallory", "clara"
LISTING_AT = {"lat": 52.5200073, "lon": 13.4049561}
REQUEST_AT = {"lat": 52.5107319, "lon": 13.3902687}
HOME_AT = {"lat": 52.5301927, "lon": 13.4108843}
POINTS = (LISTING_AT, REQUEST_AT, HOME_AT)


def _digits(point: Mapping[str, float]) -> list[str]:
    """What would give a point away in any text: its coordinates, also cut to 5 decimals
    (~1 m), and its geohash beyond the public precision."""
    lat, lon = point["lat"], point["lon"]
    return [
        repr(lat),
        repr(lon),
        f"{lat:.5f}",
        f"{lon:.5f}",
        geo.encode(lat, lon, PUBLIC_GEOHASH_PRECISION + 1),
    ]


def _leaks(document: Any) -> list[str]:
    text = json.dumps(document, default=str)
    return [digits for point in POINTS for digits in _digits(point) if digits in text]


def _keys_named(document: Any, names: set[str]) -> list[str]:
    if isinstance(document, Mapping):
        own = [str(key) for key in document if key in names]
        return own + [k for value in document.values() for k in _keys_named(value, names)]
    if isinstance(document, list):
        return [k for value in document for k in _keys_named(value, names)]
    return []


def _assert_public_location(location: Mapping[str, Any], exact: Mapping[str, float]) -> None:
    assert location["exact"] is False
    assert len(location["geohash"]) == PUBLIC_GEOHASH_PRECISION
    centre = geo.approximate(exact["lat"], exact["lon"], PUBLIC_GEOHASH_PRECISION)
    assert (location["lat"], location["lon"]) == centre


def _seed(api: Api) -> dict[str, str]:
    home = api.put("/me", {"displayName": "Olive", "homeLocation": HOME_AT}, user=OWNER)
    listing = api.post("/listings", payloads.listing(location=LISTING_AT), user=OWNER)
    request = api.post("/requests", payloads.request(location=REQUEST_AT), user=OWNER)
    claim = api.post(f"/listings/{listing.body['listingId']}/claims", {"quantity": 2}, user=CLAIMER)
    assert home.status == 200, home.body
    for made in (listing, request, claim):
        assert made.status == 201, made.body
    return {
        "listing": listing.body["listingId"],
        "request": request.body["requestId"],
        "claim": claim.body["claimId"],
    }


def test_the_owner_sees_the_exact_points_so_the_probe_can_see_a_leak(api: Api) -> None:
    ids = _seed(api)

    listing = api.get(f"/listings/{ids['listing']}", user=OWNER).body
    request = api.get(f"/requests/{ids['request']}", user=OWNER).body
    me = api.get("/me", user=OWNER).body

    assert listing["location"]["exact"] is True
    assert (listing["location"]["lat"], listing["location"]["lon"]) == tuple(LISTING_AT.values())
    assert request["location"]["exact"] is True
    assert _leaks(listing)
    assert _leaks(request)
    assert _leaks(me)


def test_other_users_read_only_the_public_cell_centre(api: Api) -> None:
    ids = _seed(api)

    for reader in (STRANGER, CLAIMER):
        listing = api.get(f"/listings/{ids['listing']}", user=reader)
        request = api.get(f"/requests/{ids['request']}", user=reader)
        claim = api.get(f"/claims/{ids['claim']}", user=reader)

        assert listing.status == request.status == 200
        _assert_public_location(listing.body["location"], LISTING_AT)
        _assert_public_location(request.body["location"], REQUEST_AT)
        assert not _leaks(listing.body), listing.body
        assert not _leaks(request.body), request.body
        assert claim.status == (200 if reader == CLAIMER else 403)
        assert not _leaks(claim.body), claim.body


def test_the_feed_gives_others_cell_centres_and_coarse_distances(api: Api) -> None:
    _seed(api)
    near = f"lat={LISTING_AT['lat']}&lon={LISTING_AT['lon']}&radiusKm=10"

    for query in (near, near + "&kind=listing", near + "&kind=request"):
        feed = api.get(f"/feed?{query}", user=STRANGER)

        assert feed.status == 200, feed.body
        assert feed.body["items"], query
        for item in feed.body["items"]:
            exact = LISTING_AT if item["kind"] == "listing" else REQUEST_AT
            _assert_public_location(item["location"], exact)
            # Exact distances from several points would trilaterate the place.
            assert item["distanceKm"] * 2 == int(item["distanceKm"] * 2), item
        assert not _leaks(feed.body), feed.body


def test_a_feed_cursor_reveals_no_more_distance_than_the_page(api: Api) -> None:
    ids = _seed(api)
    farther = payloads.listing(location={"lat": 52.55, "lon": 13.45})
    assert api.post("/listings", farther, user="another-grower").status == 201
    here = {"lat": 52.51, "lon": 13.40}

    page = api.get(
        f"/feed?lat={here['lat']}&lon={here['lon']}&kind=listing&radiusKm=10&limit=1",
        user=STRANGER,
    )

    assert page.status == 200, page.body
    [item] = page.body["items"]
    assert item["listingId"] == ids["listing"]
    exact = round(
        geo.haversine_km(here["lat"], here["lon"], LISTING_AT["lat"], LISTING_AT["lon"]), 3
    )
    assert item["distanceKm"] != exact, "the page itself shows only the rounded distance"
    cursor = page.body["nextCursor"]
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    assert str(exact).encode() not in decoded, decoded


def _stored(dynamodb: Any, table: str, key: dict[str, str]) -> Any:
    return dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()})["Item"]


def test_published_events_carry_no_exact_point(api: Api, dynamodb: Any, table: str) -> None:
    ids = _seed(api)
    item_keys = [
        keys.listing_key(ids["listing"]),
        keys.request_key(ids["request"]),
        keys.claim_key(ids["claim"]),
        keys.profile_key(OWNER),
    ]
    records = [stream_record(dynamodb, table, key, n) for n, key in enumerate(item_keys)]
    # The same items once more after a change (MODIFY records with both images).
    old_listing = _stored(dynamodb, table, item_keys[0])
    old_profile = _stored(dynamodb, table, item_keys[3])
    listing_url = f"/listings/{ids['listing']}"
    etag = api.get(listing_url, user=OWNER).etag
    patched = api.patch(listing_url, {"notes": "moved"}, user=OWNER, headers={"If-Match": etag})
    assert patched.status == 200, patched.body
    me = api.get("/me", user=OWNER)
    moved = {"displayName": "Olive", "homeLocation": HOME_AT, "shareRadiusKm": 3}
    assert api.put("/me", moved, user=OWNER, headers={"If-Match": me.etag}).status == 200
    records.append(stream_record(dynamodb, table, item_keys[0], 10, old_listing))
    records.append(stream_record(dynamodb, table, item_keys[3], 11, old_profile))

    envelopes = [event.envelope() for record in records for event in events_from_record(record)]

    assert {e["detailType"] for e in envelopes} == {
        "listing.created",
        "listing.updated",
        "request.created",
        "claim.created",
        "profile.updated",
    }
    assert _leaks([deserialize(r["dynamodb"]["NewImage"]) for r in records]), "probe is blind"
    for envelope in envelopes:
        assert not _leaks(envelope), envelope
        assert not _keys_named(envelope, {"lat", "lon", "geohash", "GSI2SK", "PK"}), envelope
        areas = [v for k, v in _flatten(envelope) if k == "area"]
        assert all(len(area) <= PUBLIC_GEOHASH_PRECISION for area in areas), envelope


def _flatten(document: Any) -> list[tuple[str, Any]]:
    if isinstance(document, Mapping):
        return [(str(k), v) for k, v in document.items()] + [
            pair for value in document.values() for pair in _flatten(value)
        ]
    if isinstance(document, list):
        return [pair for value in document for pair in _flatten(value)]
    return []


def test_public_view_drops_coordinates_at_any_depth() -> None:
    item = {
        "PK": "LISTING#x",
        "GSI2SK": "u33dc0c#x",
        "location": {"lat": 52.5200073, "lon": 13.4049561, "geohash": "u33dc0c"},
        "nested": [{"point": {"lat": 1.2345678, "lon": 2.3456789, "geohash": "s00twy0"}}],
        "lat": 52.5200073,
        "geohash": "u33dc0c",
    }

    # Even an event model that listed every attribute would publish no key and no coordinate
    view = public_view(item, published={*item, "area"})

    assert not _keys_named(view, {"lat", "lon", "geohash", "PK", "GSI2SK"})
    assert "52.5200073" not in json.dumps(view)
    assert view["area"] == "u33dc"
    assert view["location"] == {"area": "u33dc"}
