"""Bad input is a 4xx problem+json and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support import payloads
from support.apigw import Api


def _count_items(dynamodb: Any, table: str) -> int:
    return int(dynamodb.scan(TableName=table, Select="COUNT")["Count"])


BAD_LISTINGS: list[tuple[str, str | None, dict[str, Any] | None, int]] = [
    ("malformed json", '{"crop": "tomato",', None, 400),
    ("json array instead of object", "[1, 2, 3]", None, 400),
    ("unknown field", None, payloads.listing(colour="red"), 422),
    ("quantity as text", None, payloads.listing(quantity="lots"), 422),
    ("zero quantity", None, payloads.listing(quantity=0), 422),
    ("negative quantity", None, payloads.listing(quantity=-3), 422),
    ("absurd quantity", None, payloads.listing(quantity=10**9), 422),
    ("too many decimals", None, payloads.listing(quantity=1.23456), 422),
    ("latitude out of range", None, payloads.listing(location={"lat": 91, "lon": 0}), 422),
    ("longitude out of range", None, payloads.listing(location={"lat": 0, "lon": 181}), 422),
    (
        "missing location",
        None,
        {k: v for k, v in payloads.listing().items() if k != "location"},
        422,
    ),
    ("unknown crop", None, payloads.listing(crop="tomatoe"), 422),
    ("unit not used for crop", None, payloads.listing(unit="dozen"), 422),
    ("date without timezone", None, payloads.listing(availableUntil="2030-01-01T00:00:00"), 422),
    ("not a date", None, payloads.listing(availableFrom="tomorrow"), 422),
    (
        "window reversed",
        None,
        payloads.listing(availableFrom=payloads.at(3), availableUntil=payloads.at(2)),
        422,
    ),
    (
        "window already over",
        None,
        payloads.listing(availableFrom=payloads.at(-3), availableUntil=payloads.at(-2)),
        422,
    ),
    ("id with key separator", None, payloads.listing(listingId="abc#LISTING#x"), 422),
    ("notes too long", None, payloads.listing(notes="x" * 1001), 422),
    ("crop of wrong type", None, payloads.listing(crop=["tomato"]), 422),
]


@pytest.mark.parametrize(
    ("name", "raw", "body", "status"), BAD_LISTINGS, ids=[case[0] for case in BAD_LISTINGS]
)
def test_bad_listing_is_a_problem_and_writes_nothing(
    api: Api, dynamodb: Any, table: str, name: str, raw: str | None, body: Any, status: int
) -> None:
    response = api.post("/listings", body, raw_body=raw, user="grower")
    assert response.status == status, (name, response.body)
    assert response.header("Content-Type") == "application/problem+json"
    assert {"type", "title", "status", "detail"} <= set(response.body)
    assert response.body["status"] == status
    assert response.body.get("errors"), name
    assert _count_items(dynamodb, table) == 0


def test_unknown_crop_suggests_close_matches(api: Api) -> None:
    response = api.post("/listings", payloads.listing(crop="tomatos"), user="grower")
    assert response.status == 422
    assert "tomato" in response.body["suggestions"]
    assert "did you mean" in response.body["detail"]


def test_unit_not_allowed_lists_the_allowed_units(api: Api) -> None:
    response = api.post("/listings", payloads.listing(unit="dozen"), user="grower")
    assert "kg" in response.body["allowedUnits"]


def test_oversized_body_is_413_before_parsing(api: Api, dynamodb: Any, table: str) -> None:
    raw = json.dumps(payloads.listing(notes="x" * 17_000))
    response = api.post("/listings", raw_body=raw, user="grower")
    assert response.status == 413
    assert response.header("Content-Type") == "application/problem+json"
    assert _count_items(dynamodb, table) == 0


@pytest.mark.parametrize(
    "cursor",
    ["not-a-cursor", "eyJQSyI6IlVTRVIjbWFsbG9yeSJ9", "A" * 3000, "%%%"],
    ids=["garbage", "unsigned forged key", "too long", "bad alphabet"],
)
def test_tampered_cursor_is_400_never_500(api: Api, cursor: str) -> None:
    for url in (
        f"/me/listings?cursor={cursor}",
        f"/me/claims?cursor={cursor}",
        f"/feed?lat=1&lon=1&cursor={cursor}",
    ):
        response = api.get(url, user="alice")
        assert response.status == 400, (url, response.body)
        assert response.header("Content-Type") == "application/problem+json"


def test_cursor_of_another_user_is_rejected(api: Api) -> None:
    for _ in range(3):
        api.post("/listings", payloads.listing(), user="alice")
    page = api.get("/me/listings?limit=2", user="alice").body
    assert page["nextCursor"]
    stolen = api.get(f"/me/listings?cursor={page['nextCursor']}", user="mallory")
    assert stolen.status == 400
    assert stolen.body["type"].endswith("invalid-cursor")


@pytest.mark.parametrize(
    "query",
    [
        "lat=100&lon=0",
        "lat=1",
        "lat=1&lon=1&radiusKm=51",
        "lat=1&lon=1&radiusKm=0",
        "lat=x&lon=1",
        "lat=1&lon=1&kind=plants",
        "lat=1&lon=1&limit=0",
    ],
)
def test_bad_feed_queries_are_422(api: Api, query: str) -> None:
    response = api.get(f"/feed?{query}", user="alice")
    assert response.status == 422, response.body
    assert response.body["errors"]


def test_bad_claim_bodies(api: Api, dynamodb: Any, table: str) -> None:
    listing = api.post("/listings", payloads.listing(quantity=2), user="g").body
    url = f"/listings/{listing['listingId']}/claims"
    before = _count_items(dynamodb, table)
    assert api.post(url, {"quantity": 3}, user="a").status == 409  # more than remains
    assert api.post(url, {"quantity": -1}, user="a").status == 422
    assert api.post(url, {"quantity": 1, "requestId": "not-mine-123"}, user="a").status == 422
    assert api.post("/listings/missing-listing-1/claims", {"quantity": 1}, user="a").status == 404
    claim = api.post(url, {"quantity": 1}, user="a")
    bad_status = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "shipped"},
        user="g",
        headers={"If-Match": claim.etag},
    )
    assert bad_status.status == 422
    skip = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "completed"},
        user="g",
        headers={"If-Match": claim.etag},
    )
    assert skip.status == 409  # pending -> completed is not a transition
    bad_etag = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "confirmed"},
        user="g",
        headers={"If-Match": "banana"},
    )
    assert bad_etag.status == 422
    assert _count_items(dynamodb, table) == before + 1


def test_unknown_route_is_a_404_problem(api: Api) -> None:
    response = api.get("/nothing-here", user="alice")
    assert response.status == 404
    assert response.header("Content-Type") == "application/problem+json"
