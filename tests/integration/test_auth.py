"""Every protected route refuses a missing identity (401) and another user's resources (403)."""

from __future__ import annotations

import pytest

from support import payloads
from support.apigw import Api

PROTECTED = [
    ("GET", "/me"),
    ("PUT", "/me"),
    ("POST", "/listings"),
    ("GET", "/listings/listing-0001-xyz"),
    ("PATCH", "/listings/listing-0001-xyz"),
    ("DELETE", "/listings/listing-0001-xyz"),
    ("GET", "/me/listings"),
    ("POST", "/requests"),
    ("GET", "/requests/request-0001-xyz"),
    ("PATCH", "/requests/request-0001-xyz"),
    ("DELETE", "/requests/request-0001-xyz"),
    ("GET", "/me/requests"),
    ("POST", "/listings/listing-0001-xyz/claims"),
    ("GET", "/claims/claim-0001-xyz"),
    ("PATCH", "/claims/claim-0001-xyz"),
    ("GET", "/me/claims"),
    ("GET", "/feed?lat=52.5&lon=13.4"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_route_without_claims_is_401_problem(api: Api, method: str, url: str) -> None:
    body = {"displayName": "x"} if method in {"PUT", "POST", "PATCH"} else None
    response = api.call(method, url, body=body, user=None)
    assert response.status == 401
    assert response.header("Content-Type") == "application/problem+json"
    assert response.body["status"] == 401


def test_route_with_a_malformed_subject_is_401(api: Api) -> None:
    assert api.get("/me", user="bad#subject").status == 401


def test_public_routes_need_no_token(api: Api) -> None:
    assert api.get("/health", user=None).status == 200
    spec = api.get("/openapi.json", user=None)
    assert spec.status == 200
    assert spec.body["openapi"].startswith("3.1")
    assert "/listings/{listingId}" in spec.body["paths"]


def test_another_user_cannot_change_or_cancel_a_listing(api: Api) -> None:
    created = api.post("/listings", payloads.listing(), user="owner")
    url = f"/listings/{created.body['listingId']}"
    headers = {"If-Match": created.etag}
    assert api.patch(url, {"notes": "mine now"}, user="mallory", headers=headers).status == 403
    assert api.delete(url, user="mallory").status == 403
    assert api.get(url).body["status"] == "active"


def test_another_user_cannot_change_or_cancel_a_request(api: Api) -> None:
    created = api.post("/requests", payloads.request(), user="owner")
    url = f"/requests/{created.body['requestId']}"
    headers = {"If-Match": created.etag}
    assert api.patch(url, {"notes": "x"}, user="mallory", headers=headers).status == 403
    assert api.delete(url, user="mallory").status == 403


def test_claims_are_visible_and_changeable_by_their_parties_only(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="owner").body
    claim = api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 1}, user="ann")
    url = f"/claims/{claim.body['claimId']}"
    assert api.get(url, user="mallory").status == 403
    mallory = api.patch(url, {"status": "cancelled"}, user="mallory", headers={"If-Match": '"1"'})
    assert mallory.status == 403
    # the claimer may not confirm their own claim: only the listing owner can
    self_confirm = api.patch(url, {"status": "confirmed"}, user="ann", headers={"If-Match": '"1"'})
    assert self_confirm.status == 403
    assert api.get(url, user="owner").status == 200
    assert api.get(url, user="ann").status == 200


def test_owner_cannot_claim_their_own_listing(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="owner").body
    response = api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 1}, user="owner")
    assert response.status == 403


def test_non_owners_never_see_exact_coordinates(api: Api) -> None:
    body = payloads.listing(location={"lat": 52.520008, "lon": 13.404954})
    created = api.post("/listings", body, user="owner")
    url = f"/listings/{created.body['listingId']}"
    public = api.get(url, user="stranger").body["location"]
    assert public["exact"] is False
    assert (public["lat"], public["lon"]) != (52.520008, 13.404954)
    assert len(public["geohash"]) == 5
    feed = api.get("/feed?lat=52.52&lon=13.40&radiusKm=3", user="stranger").body["items"][0]
    assert feed["location"]["exact"] is False
    assert feed["location"]["lat"] == public["lat"]
    assert feed["distanceKm"] * 2 == int(feed["distanceKm"] * 2)  # half-km steps only
    own = api.get(url, user="owner").body["location"]
    assert (own["lat"], own["lon"], own["exact"]) == (52.520008, 13.404954, True)
