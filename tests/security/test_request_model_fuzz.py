"""Hypothesis fuzzing of every request model, through the real handler in-process.

Every model deriving `Inbound` is found in the code and matched to the route whose OpenAPI
request body it is; each gets arbitrary JSON, text that is not JSON, and near-valid bodies (a
valid one with fields dropped, replaced by arbitrary or edge values, or unknown fields added).
Whatever arrives, the answer is 2xx or a 4xx RFC 7807 problem (never 5xx), and a 4xx wrote
nothing (the table holds exactly the items it held before, unchanged).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from harvest.api import models
from harvest.api.app import app, handler
from security.helpers import (
    HTTP_METHODS,
    Route,
    assert_answered_cleanly,
    assert_problem,
    table_snapshot,
)
from support import payloads
from support.apigw import Api, ApiResponse, FakeLambdaContext, event

EXAMPLES_PER_MODEL = 30
FUZZER = "fuzzer"


def _inbound_models() -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    pending: list[type[BaseModel]] = [models.Inbound]
    while pending:
        for sub in pending.pop().__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


def _body_routes() -> dict[str, Route]:
    """Model name -> the route that takes it as its JSON body, from the app's OpenAPI."""
    document = json.loads(app.get_openapi_json_schema())
    routes: dict[str, Route] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS or "requestBody" not in operation:
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            routes[ref.rsplit("/", 1)[-1]] = Route(method.upper(), path)
    return routes


INBOUND = _inbound_models()
BODY_ROUTES = _body_routes()

# A valid body per request model: the seed of the near-valid variants.
VALID: dict[str, dict[str, Any]] = {
    "ListingCreate": payloads.listing(),
    "ListingUpdate": {"quantity": 5, "notes": "still ripe"},
    "RequestCreate": payloads.request(notes="for the food bank"),
    "RequestUpdate": {"quantity": 2, "notes": "fewer"},
    "ClaimCreate": {"quantity": 1, "note": "after 5pm"},
    "ClaimUpdate": {"status": "cancelled"},
    "ProfilePut": {"displayName": "Fuzz", "homeLocation": dict(payloads.BERLIN)},
    "GuidanceCreate": {"area": "u33d", "crop": "tomato"},
}

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "",
            " ",
            "\u0000",
            "x" * 2100,
            "🍅",
            "tomato",
            "kg",
            "a#b",
            "../../etc",
            "u33d",
            "2030-01-01T00:00:00",
            payloads.at(2),
            -1,
            0,
            0.0001,
            1e308,
            10**30,
        ]
    )
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def near_valid(draw: st.DrawFn, model: type[BaseModel], base: dict[str, Any]) -> dict[str, Any]:
    body = dict(base)
    fields = sorted({field.alias or name for name, field in model.model_fields.items()} | set(base))
    for name in fields:
        action = draw(st.sampled_from(["keep", "keep", "keep", "drop", "replace"]))
        if action == "drop":
            body.pop(name, None)
        elif action == "replace":
            body[name] = draw(JSON_VALUES)
    body.update(draw(st.dictionaries(st.text(min_size=1, max_size=12), JSON_VALUES, max_size=2)))
    return body


def bodies(model_name: str) -> st.SearchStrategy[tuple[str, Any]]:
    """("json", value) to send as JSON, ("raw", text) to send as it is, ("bytes", data) to
    send base64-encoded as API Gateway delivers a body that is not text."""
    model = INBOUND[model_name]
    valid_bytes = st.just(json.dumps(VALID[model_name]).encode())
    return st.one_of(
        near_valid(model, VALID[model_name]).map(lambda body: ("json", body)),
        JSON_VALUES.map(lambda value: ("json", value)),
        st.text(max_size=200).map(lambda text: ("raw", text)),
        (st.binary(max_size=64) | valid_bytes).map(lambda data: ("bytes", data)),
    )


def send_bytes(
    route: Route, url: str, data: bytes, user: str, headers: dict[str, str]
) -> ApiResponse:
    raw = base64.b64encode(data).decode()
    sent = event(route.method, url, raw_body=raw, user=user, tier="pro", headers=headers)
    sent["isBase64Encoded"] = True
    result = handler(sent, FakeLambdaContext())
    headers = dict(result.get("headers") or {})
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, values[-1])
    text = result.get("body") or ""
    return ApiResponse(result["statusCode"], headers, json.loads(text) if text else None, text)


def test_every_request_model_is_a_routes_body_or_part_of_one() -> None:
    nested = {
        name
        for body in BODY_ROUTES
        for name in INBOUND[body].model_json_schema(by_alias=True).get("$defs", {})
    }

    assert set(INBOUND) <= set(BODY_ROUTES) | nested, set(INBOUND) - set(BODY_ROUTES) - nested
    assert set(BODY_ROUTES) <= set(INBOUND), "a route takes a body that is not an Inbound model"
    assert set(VALID) == set(BODY_ROUTES), "every fuzzed model needs a valid seed body"


def _prepare(api: Api, route: Route) -> tuple[str, str, dict[str, str]]:
    """The url, the acting user and headers: real resources the actor may act on."""
    listing = api.post("/listings", payloads.listing(), user="grower")
    request = api.post("/requests", payloads.request(), user=FUZZER)
    claim = api.post(f"/listings/{listing.body['listingId']}/claims", {"quantity": 1}, user=FUZZER)
    for made in (listing, request, claim):
        assert made.status == 201, made.body
    ids = {
        "listingId": listing.body["listingId"],
        "requestId": request.body["requestId"],
        "claimId": claim.body["claimId"],
    }
    unknown = set(route.parameters) - set(ids)
    assert not unknown, f"{route.key}: no resource known for {unknown}"
    # The listing's owner edits it; the fuzzer claims it and owns the request and the claim.
    user = "grower" if route.path == "/listings/{listingId}" else FUZZER
    headers = {"If-Match": "*"} if route.method == "PATCH" else {}
    return route.url(ids), user, headers


@pytest.mark.parametrize("model_name", sorted(BODY_ROUTES))
def test_any_body_is_2xx_or_a_4xx_problem_that_writes_nothing(
    api: Api, table: str, model_name: str
) -> None:
    route = BODY_ROUTES[model_name]
    url, user, headers = _prepare(api, route)
    seen: set[int] = set()

    @settings(
        max_examples=EXAMPLES_PER_MODEL,
        deadline=timedelta(seconds=5),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(sent=bodies(model_name))
    @example(sent=("json", VALID[model_name]))
    @example(sent=("raw", '{"crop": "tomato",'))
    def check(sent: tuple[str, Any]) -> None:
        kind, value = sent
        before = table_snapshot(table)

        if kind == "bytes":
            response = send_bytes(route, url, value, user, headers)
        else:
            body, raw = (value, None) if kind == "json" else (None, value)
            response = api.call(
                route.method, url, body=body, raw_body=raw, user=user, tier="pro", headers=headers
            )

        seen.add(response.status)
        assert_answered_cleanly(response, table, before)

    check()

    assert any(status < 300 for status in seen), f"no valid body got through: {sorted(seen)}"
    assert any(400 <= status < 500 for status in seen), f"nothing was refused: {sorted(seen)}"


def test_a_body_that_is_not_utf8_is_a_400_problem_not_a_crash(table: str) -> None:
    # Found by schemathesis: such a body (API Gateway base64-encodes it) was a 500.
    route = Route("POST", "/listings")

    response = send_bytes(route, "/listings", b"\xff\x17n~\xfe", "grower", {})

    assert_problem(response, 400)
    assert response.body["type"].endswith("/malformed-request")
    assert table_snapshot(table) == []
