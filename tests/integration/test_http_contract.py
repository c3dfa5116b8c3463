"""HTTP as clients expect it: 415 for bodies that are not JSON, 405 with Allow for a wrong
method, 304 for a GET whose If-None-Match names the current ETag, CORS (preflight without a
token), and strict JSON (objects only, numbers that are numbers, dates with a UTC form, whole
numbers for count units). Every refusal is a problem+json that wrote nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harvest.api.app import cors_config
from support import payloads
from support.apigw import Api, ApiResponse

ORIGIN = "https://app.example.org"


def _count(dynamodb: Any, table: str) -> int:
    return int(dynamodb.scan(TableName=table, Select="COUNT")["Count"])


def _assert_problem(response: ApiResponse, status: int) -> None:
    assert response.status == status, (response.status, response.raw[:300])
    assert response.header("Content-Type") == "application/problem+json"
    assert response.body["status"] == status


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_declared_json_is_415_and_writes_nothing(
    api: Api, dynamodb: Any, table: str, content_type: str
) -> None:
    response = api.post(
        "/listings", payloads.listing(), user="grower", headers={"Content-Type": content_type}
    )

    _assert_problem(response, 415)
    assert response.body["type"].endswith("/unsupported-media-type")
    assert _count(dynamodb, table) == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "application/x+json"]
)
def test_json_media_types_with_parameters_or_suffixes_are_accepted(
    api: Api, content_type: str
) -> None:
    response = api.post(
        "/listings", payloads.listing(), user="grower", headers={"Content-Type": content_type}
    )

    assert response.status == 201, response.body


def test_a_patch_with_a_text_body_is_415(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="grower")

    response = api.patch(
        f"/listings/{listing.body['listingId']}",
        {"notes": "x"},
        user="grower",
        headers={"If-Match": listing.etag, "Content-Type": "text/plain"},
    )

    _assert_problem(response, 415)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/listings", "OPTIONS, POST"),
        ("POST", "/listings/abc123", "DELETE, GET, OPTIONS, PATCH"),
        ("DELETE", "/me", "GET, OPTIONS, PUT"),
        ("POST", "/health", "GET, OPTIONS"),
    ],
)
def test_a_known_path_with_a_wrong_method_is_405_with_allow(
    api: Api, method: str, path: str, allowed: str
) -> None:
    response = api.call(method, path, body={}, user="grower")

    _assert_problem(response, 405)
    assert response.header("Allow") == allowed


def test_an_unknown_path_is_still_404(api: Api) -> None:
    _assert_problem(api.get("/nothing/here", user="grower"), 404)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("array holding a valid listing", json.dumps([payloads.listing()])),
        ("string", '"tomato"'),
        ("number", "12"),
        ("null", "null"),
        ("NaN", '{"quantity": NaN}'),
        ("nested too deeply", "[" * 5000 + "]" * 5000),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400_and_writes_nothing(
    api: Api, dynamodb: Any, table: str, name: str, raw: str
) -> None:
    response = api.post("/listings", raw_body=raw, user="grower")

    _assert_problem(response, 400)
    assert response.body["errors"][0]["loc"] == "body", name
    assert _count(dynamodb, table) == 0


HOSTILE_LISTINGS: list[tuple[str, str, str]] = [
    ("5,000-digit quantity", '"quantity": 1' + "0" * 5000, "quantity"),
    ("5,000-digit latitude", '"location": {"lat": 1' + "0" * 5000 + ', "lon": 1}', "location.lat"),
    ("float overflow", '"quantity": 1e400', "quantity"),
    ("boolean latitude", '"location": {"lat": true, "lon": 1}', "location.lat"),
    ("numeric string quantity", '"quantity": "5"', "quantity"),
    ("numeric string longitude", '"location": {"lat": 1, "lon": "13.4"}', "location.lon"),
    ("far past with +14:00", '"availableFrom": "0001-01-01T00:00:00+14:00"', "availableFrom"),
    ("far future with -14:00", '"availableUntil": "9999-12-31T23:59:59-14:00"', "availableUntil"),
    ("year 2300", '"availableUntil": "2300-01-01T00:00:00Z"', "availableUntil"),
]


@pytest.mark.parametrize(
    ("name", "field", "loc"), HOSTILE_LISTINGS, ids=[case[0] for case in HOSTILE_LISTINGS]
)
def test_hostile_but_well_formed_values_are_422_and_write_nothing(
    api: Api, dynamodb: Any, table: str, name: str, field: str, loc: str
) -> None:
    body = payloads.listing()
    key = field.split(":", 1)[0].strip('"')
    body.pop(key)
    raw = json.dumps(body)[:-1] + ", " + field + "}"

    response = api.post("/listings", raw_body=raw, user="grower")

    _assert_problem(response, 422)
    assert loc in [error["loc"] for error in response.body["errors"]], response.body
    assert _count(dynamodb, table) == 0


def test_a_request_needed_by_year_9999_with_an_offset_is_422(api: Api) -> None:
    body = payloads.request(neededBy="9999-12-31T23:59:59-14:00")

    response = api.post("/requests", body, user="searcher")

    _assert_problem(response, 422)
    assert response.body["errors"][0]["loc"] == "neededBy"


def test_a_profile_radius_must_be_a_number_not_a_string(api: Api) -> None:
    response = api.put("/me", {"displayName": "Ann", "shareRadiusKm": "5"}, user="ann")

    _assert_problem(response, 422)
    assert response.body["errors"][0]["loc"] == "shareRadiusKm"


def test_count_units_take_whole_numbers_only(api: Api, dynamodb: Any, table: str) -> None:
    fraction = payloads.listing(crop="apple", unit="each", quantity=0.001)
    whole = payloads.listing(crop="apple", unit="each", quantity=12)

    refused = api.post("/listings", fraction, user="grower")
    written_by_refusal = _count(dynamodb, table)
    created = api.post("/listings", whole, user="grower")

    _assert_problem(refused, 422)
    assert refused.body["errors"][0]["type"] == "whole_number_required"
    assert written_by_refusal == 0
    assert created.status == 201


def test_measured_units_take_decimals(api: Api) -> None:
    response = api.post("/listings", payloads.listing(quantity=2.5), user="grower")

    assert response.status == 201
    assert response.body["quantityTotal"] == 2.5


def test_claims_and_edits_in_count_units_take_whole_numbers_only(api: Api) -> None:
    listing = api.post(
        "/listings", payloads.listing(crop="apple", unit="each", quantity=12), user="grower"
    )
    url = f"/listings/{listing.body['listingId']}"

    claim = api.post(f"{url}/claims", {"quantity": 1.5}, user="searcher")
    edit = api.patch(url, {"quantity": 2.5}, user="grower", headers={"If-Match": listing.etag})

    _assert_problem(claim, 422)
    _assert_problem(edit, 422)
    assert api.post(f"{url}/claims", {"quantity": 2}, user="searcher").status == 201


def test_header_errors_name_the_header(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="grower")
    url = f"/listings/{listing.body['listingId']}"

    bad_etag = api.patch(url, {"notes": "x"}, user="grower", headers={"If-Match": "nope"})
    bad_key = api.post(
        "/listings", payloads.listing(), user="grower", headers={"Idempotency-Key": "short"}
    )

    assert bad_etag.body["errors"][0]["loc"] == "header.If-Match"
    assert bad_key.body["errors"][0]["loc"] == "header.Idempotency-Key"


def test_if_none_match_with_the_current_etag_is_304_without_a_body(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="grower")
    url = f"/listings/{listing.body['listingId']}"

    for tag in (listing.etag, f"W/{listing.etag}", f'"99", {listing.etag}', "*"):
        response = api.get(url, user="searcher", headers={"If-None-Match": tag})
        assert response.status == 304, tag
        assert response.raw == ""
        assert response.header("ETag") == listing.etag
    assert api.get(url, user="searcher", headers={"If-None-Match": '"99"'}).status == 200


def test_an_edit_makes_the_old_etag_stale(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="grower")
    url = f"/listings/{listing.body['listingId']}"
    api.patch(url, {"notes": "new"}, user="grower", headers={"If-Match": listing.etag})

    response = api.get(url, user="searcher", headers={"If-None-Match": listing.etag})

    assert response.status == 200
    assert response.body["notes"] == "new"


def test_collections_get_a_content_etag_that_changes_with_the_content(api: Api) -> None:
    api.post("/listings", payloads.listing(), user="grower")
    first = api.get("/me/listings", user="grower")
    tag = first.header("ETag")
    assert tag is not None
    assert tag.startswith('W/"')

    unchanged = api.get("/me/listings", user="grower", headers={"If-None-Match": tag})
    api.post("/listings", payloads.listing(), user="grower")
    changed = api.get("/me/listings", user="grower", headers={"If-None-Match": tag})

    assert unchanged.status == 304
    assert changed.status == 200
    assert len(changed.body["items"]) == len(first.body["items"]) + 1


def test_a_preflight_needs_no_token_and_allows_the_api_headers(api: Api) -> None:
    response = api.call(
        "OPTIONS",
        "/listings",
        user=None,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
        },
    )

    assert response.status == 204
    assert response.header("Access-Control-Allow-Origin") in {ORIGIN, "*"}  # "*" configured
    allowed_methods = str(response.header("Access-Control-Allow-Methods")).split(",")
    assert {"GET", "POST", "PATCH", "PUT", "DELETE"} <= set(allowed_methods)
    allowed_headers = str(response.header("Access-Control-Allow-Headers")).split(",")
    assert {"Authorization", "Content-Type", "If-Match", "Idempotency-Key"} <= set(allowed_headers)


def test_responses_and_refusals_carry_cors_headers_for_a_browser(api: Api) -> None:
    ok = api.post("/listings", payloads.listing(), user="grower", headers={"Origin": ORIGIN})
    refused = api.get("/me", user=None, headers={"Origin": ORIGIN})

    assert ok.header("Access-Control-Allow-Origin") in {ORIGIN, "*"}
    assert "ETag" in str(ok.header("Access-Control-Expose-Headers")).split(",")
    assert refused.status == 401
    assert refused.header("Access-Control-Allow-Origin") in {ORIGIN, "*"}


def test_without_an_origin_no_cors_headers_are_sent(api: Api) -> None:
    response = api.get("/health", user=None)

    assert not [name for name in response.headers if name.lower().startswith("access-control")]


def test_restricted_origins_leave_other_origins_without_cors_headers() -> None:
    config = cors_config(["https://a.example.org", "https://b.example.org"])
    assert config is not None

    assert config.to_dict("https://b.example.org")["Access-Control-Allow-Origin"] == (
        "https://b.example.org"
    )
    assert config.to_dict("https://evil.example.com") == {}
    assert cors_config([]) is None


def test_subnormal_numbers_are_refused_or_rounded_never_a_500(api: Api) -> None:
    # Found by test_extreme_inputs: 4.9e-324 passed gt=0 and DynamoDB's Decimal context
    # raised Underflow while storing it.
    radius = api.put("/me", {"displayName": "Ann", "shareRadiusKm": 4.9e-324}, user="ann")
    home = {"lat": 4.9e-324, "lon": -4.9e-324}
    profile = api.put("/me", {"displayName": "Ann", "homeLocation": home}, user="ann")
    listing = api.post("/listings", payloads.listing(location=home), user="grower")

    _assert_problem(radius, 422)
    assert profile.status == 200, profile.body
    assert (profile.body["homeLocation"]["lat"], profile.body["homeLocation"]["lon"]) == (0, 0)
    assert listing.status == 201, listing.body
