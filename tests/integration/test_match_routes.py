"""GET /me/matches and claims made from a match (matchId), through the API on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harvest.consumers import matching
from harvest.domain.matching import Side
from harvest.settings import get_settings
from support import payloads
from support.apigw import Api

NEAR = {"lat": 52.529, "lon": 13.405}  # ~1 km north of payloads.BERLIN


@pytest.fixture(autouse=True)
def fresh_worker(table: str) -> Iterator[None]:
    get_settings.cache_clear()
    matching.matching_service.cache_clear()
    yield
    matching.matching_service.cache_clear()


def _request(api: Api, user: str = "sam") -> str:
    made = api.post("/requests", payloads.request(location=dict(payloads.BERLIN)), user=user)
    assert made.status == 201, made.body
    matching.matching_service().refresh(Side.REQUEST, made.body["requestId"], "c-r")
    return str(made.body["requestId"])


def _listing(api: Api, location: dict[str, float], user: str = "gia") -> str:
    made = api.post("/listings", payloads.listing(location=location), user=user)
    assert made.status == 201, made.body
    matching.matching_service().refresh(Side.LISTING, made.body["listingId"], "c-l")
    return str(made.body["listingId"])


def _claims(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = dynamodb.scan(TableName=table)["Items"]
    return [i for i in items if i["PK"]["S"].startswith("CLAIM#")]


def test_each_side_sees_its_matches_and_the_other_side_only_as_a_non_owner(api: Api) -> None:
    request_id = _request(api)
    listing_id = _listing(api, NEAR)

    mine = api.get("/me/matches", user="sam")
    assert mine.status == 200, mine.body
    [item] = mine.body["items"]
    assert item["matchId"] == f"{request_id}.{listing_id}"
    assert item["side"] == "request"
    shown = item["listing"]["location"]
    assert shown["exact"] is False
    assert len(shown["geohash"]) == 5
    assert (shown["lat"], shown["lon"]) != (NEAR["lat"], NEAR["lon"])
    assert item["cell"] == shown["geohash"]
    assert item["request"] is None

    grower = api.get("/me/matches?side=listing", user="gia")
    [seen] = grower.body["items"]
    assert seen["request"]["location"]["exact"] is False
    assert seen["request"]["requestId"] == request_id
    # Nobody else sees them, whichever side they ask for.
    for side in ("request", "listing"):
        assert api.get(f"/me/matches?side={side}", user="eve").body["items"] == []
    assert api.get("/me/matches?side=listing", user="sam").body["items"] == []


def test_matches_come_in_pages_with_a_cursor_only_their_owner_can_use(api: Api) -> None:
    _request(api)
    for step in range(3):
        _listing(api, {"lat": 52.529 + step * 0.01, "lon": 13.405}, user=f"grower-{step}")

    first = api.get("/me/matches?limit=2", user="sam")
    assert len(first.body["items"]) == 2
    cursor = first.body["nextCursor"]
    assert cursor
    second = api.get(f"/me/matches?limit=2&cursor={cursor}", user="sam")
    assert len(second.body["items"]) == 1
    assert second.body["nextCursor"] is None
    ids = [i["listingId"] for i in first.body["items"] + second.body["items"]]
    assert len(set(ids)) == 3
    stolen = api.get(f"/me/matches?cursor={cursor}", user="eve")
    assert stolen.status == 400


def test_a_claim_from_a_match_records_it_and_its_request(
    api: Api, dynamodb: Any, table: str
) -> None:
    request_id = _request(api)
    listing_id = _listing(api, NEAR)
    match_id = f"{request_id}.{listing_id}"

    made = api.post(
        f"/listings/{listing_id}/claims", {"quantity": 2, "matchId": match_id}, user="sam"
    )

    assert made.status == 201, made.body
    assert made.body["matchId"] == match_id
    assert made.body["requestId"] == request_id
    read = api.get(f"/claims/{made.body['claimId']}", user="gia")
    assert read.body["matchId"] == match_id


@pytest.mark.parametrize(
    "case", ["someone_elses_match", "other_listing", "not_suggested", "other_request"]
)
def test_a_claim_naming_a_match_that_is_not_the_claimers_is_refused_and_writes_nothing(
    api: Api, dynamodb: Any, table: str, case: str
) -> None:
    request_id = _request(api)
    listing_id = _listing(api, NEAR)
    claimer, body = "sam", {"quantity": 2, "matchId": f"{request_id}.{listing_id}"}
    target = listing_id
    if case == "someone_elses_match":
        claimer = "eve"
    elif case == "other_listing":
        target = _listing(api, NEAR, user="gus")
        body["matchId"] = f"{request_id}.{listing_id}"
    elif case == "not_suggested":
        far = _listing(api, {"lat": 53.5, "lon": 10.0}, user="gus")  # Hamburg
        target, body["matchId"] = far, f"{request_id}.{far}"
    else:
        body["requestId"] = _request(api, user="sam")

    refused = api.post(f"/listings/{target}/claims", body, user=claimer)

    assert refused.status == 422, refused.body
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert _claims(dynamodb, table) == []


def test_a_malformed_match_id_is_a_validation_error(api: Api) -> None:
    listing_id = _listing(api, NEAR)
    refused = api.post(
        f"/listings/{listing_id}/claims", {"quantity": 1, "matchId": "no-dot-here"}, user="sam"
    )
    assert refused.status == 422
