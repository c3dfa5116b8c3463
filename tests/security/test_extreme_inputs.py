"""Hypothesis sends extremes to every route of the app's own OpenAPI document, through the real
handler: huge and tiny numbers (past Python's 4,300-digit int limit, under the smallest
float), dates at the ends of the calendar with +-14:00 offsets, unicode, booleans and numeric
strings where numbers belong, in path parameters, query parameters, headers and body fields.

Whatever arrives, the answer is 2xx/304 or a 4xx RFC 7807 problem (never 5xx), and a 4xx
wrote nothing. The operations come from the document, so a new route is fuzzed without
being listed here.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harvest.api.app import app
from security.helpers import HTTP_METHODS, Route, assert_answered_cleanly, table_snapshot
from support import payloads
from support.apigw import Api

EXAMPLES_PER_ROUTE = 25
FUZZER = "fuzzer"
DOCUMENT: dict[str, Any] = json.loads(app.get_openapi_json_schema())

# Raw JSON fragments: sent as they are, so the handler's own parser meets them.
HUGE_INT = "1" + "0" * 5000
EXTREME_NUMBERS = [
    HUGE_INT,
    "-" + HUGE_INT,
    "1e400",
    "-1e400",
    "1e-400",
    "4.9e-324",
    "-0",
    "0.0000001",
    "123456789012.123",
    "1" + "0" * 5000 + ".5",
    "true",
    "false",
    '"5"',
    '"1e3"',
    "null",
]
EXTREME_DATES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "2030-02-30T00:00:00Z",
    "2030-01-01T24:00:00Z",
    "2030-01-01T00:00:00+99:00",
    "2030-01-01T00:00:00.99999999999Z",
    "+002030-01-01T00:00:00Z",
    "2030-01-01",
]
UNICODE = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=0, max_size=40
)
EXTREME_TEXT = st.one_of(
    UNICODE,
    st.sampled_from(["", " ", "🍅" * 30, "x" * 5000, "a#b", "..", "%00", "\u202e", "ﬁ", "İ"]),
    st.sampled_from(EXTREME_NUMBERS).filter(lambda raw: not raw.startswith('"')),
    st.sampled_from(EXTREME_DATES),
)
FRAGMENTS = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.sampled_from(EXTREME_DATES).map(json.dumps),
    EXTREME_TEXT.map(json.dumps),
    st.sampled_from(
        [
            '{"lat": true, "lon": 1}',
            '{"lat": 1e400, "lon": -0}',
            '{"lat": 4.9e-324, "lon": 1}',
            "[]",
            "{}",
        ]
    ),
)
HEADER_VALUES = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
    st.sampled_from(['"1"', 'W/"1"', "*", '"' + "9" * 30 + '"', "x" * 4000, HUGE_INT[:300]]),
)
HEADERS = ("If-Match", "If-None-Match", "Idempotency-Key", "X-Correlation-Id", "Origin")

# A valid body per request schema: the fuzzer replaces some of its fields with extremes.
VALID: dict[str, dict[str, Any]] = {
    "ListingCreate": payloads.listing(),
    "ListingUpdate": {"quantity": 5, "notes": "still ripe"},
    "RequestCreate": payloads.request(),
    "RequestUpdate": {"quantity": 2},
    "ClaimCreate": {"quantity": 1},
    "ClaimUpdate": {"status": "cancelled"},
    "ProfilePut": {"displayName": "Fuzz", "homeLocation": dict(payloads.BERLIN)},
    "GuidanceCreate": {"area": "u33d", "crop": "tomato"},
}


def _operations() -> list[tuple[Route, dict[str, Any]]]:
    return [
        (Route(method.upper(), path), operation)
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    ]


OPERATIONS = _operations()


def _body_schema(operation: dict[str, Any]) -> tuple[str, list[str]] | None:
    """The request schema's name and field names, or None for a route without a body."""
    if "requestBody" not in operation:
        return None
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = ref.rsplit("/", 1)[-1]
    properties = DOCUMENT["components"]["schemas"][name].get("properties", {})
    return name, sorted(properties)


def _query_names(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


@st.composite
def raw_body(draw: st.DrawFn, schema: str, fields: list[str]) -> str:
    """A valid body of the schema with some fields (or unknown ones) replaced by raw
    extreme JSON fragments."""
    body: dict[str, Any] = dict(VALID[schema])
    replaced = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=3, unique=True))
    placeholders: dict[str, str] = {}
    for index, name in enumerate(replaced):
        marker = f"@@{index}@@"
        body[name] = marker
        placeholders[json.dumps(marker)] = draw(FRAGMENTS)
    text = json.dumps(body)
    for marker, fragment in placeholders.items():
        text = text.replace(marker, fragment)
    return text


def _resources(api: Api) -> dict[str, str]:
    listing = api.post("/listings", payloads.listing(), user="grower")
    request = api.post("/requests", payloads.request(), user=FUZZER, tier="pro")
    claim = api.post(
        f"/listings/{listing.body['listingId']}/claims", {"quantity": 1}, user=FUZZER, tier="pro"
    )
    guidance = api.post("/me/guidance", {"area": "u33d"}, user=FUZZER, tier="pro")
    for made in (listing, request, claim, guidance):
        assert made.status in (201, 202), made.body
    return {
        "listingId": listing.body["listingId"],
        "requestId": request.body["requestId"],
        "claimId": claim.body["claimId"],
        "guidanceId": guidance.body["guidanceId"],
        "geohash": "u33d",
    }


def test_every_operation_of_the_document_is_fuzzed() -> None:
    bodies = {found[0] for _, op in OPERATIONS if (found := _body_schema(op)) is not None}

    assert len(OPERATIONS) >= 20
    assert bodies == set(VALID)


@pytest.mark.parametrize(("route", "operation"), OPERATIONS, ids=[r.key for r, _ in OPERATIONS])
def test_extreme_values_anywhere_are_never_a_5xx_and_a_4xx_writes_nothing(
    api: Api, table: str, route: Route, operation: dict[str, Any]
) -> None:
    real = _resources(api)
    body = _body_schema(operation)
    queries = _query_names(operation) or ["unknown"]  # an undocumented one is ignored
    user = "grower" if route.path.startswith("/listings/{listingId}") else FUZZER
    seen: set[int] = set()

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=timedelta(seconds=5),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        values = {
            name: data.draw(st.just(real[name]) | EXTREME_TEXT.filter(_fits_a_path), label=name)
            for name in route.parameters
        }
        query = data.draw(st.dictionaries(st.sampled_from(queries), EXTREME_TEXT), "query")
        headers = data.draw(st.dictionaries(st.sampled_from(HEADERS), HEADER_VALUES), "headers")
        raw = data.draw(raw_body(*body), "body") if body else None
        url = route.url(values) + (f"?{urlencode(query)}" if query else "")
        before = table_snapshot(table)

        response = api.call(route.method, url, raw_body=raw, user=user, tier="pro", headers=headers)

        seen.add(response.status)
        assert_answered_cleanly(response, table, before)

    check()

    if body or route.parameters or _query_names(operation):  # something there to break
        assert any(400 <= status < 500 for status in seen), f"nothing refused: {sorted(seen)}"


def _fits_a_path(text: str) -> bool:
    # A path segment as API Gateway hands it over: no separators, no query, not empty.
    return bool(text.strip()) and not any(char in text for char in "/?#%\\") and text != ".."
