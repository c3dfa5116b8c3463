"""The authorization matrix: every route the app serves x every kind of caller.

The routes come from the app's own OpenAPI document (plus template.yaml's public routes), so a
new route is in the matrix automatically and fails here until it has an expectation. Each cell
runs against fresh resources made through the API, and a refused call must write nothing.

Callers, with the identity API Gateway's authorizer hands over after verifying a token
(bad tokens themselves are refused by the authorizer: test_token_refusals.py):
- anonymous: no claims at all (the handler's own gate answers 401);
- owner: the owner of the resource in the path (the listing's owner for claims), tier pro;
- other: another user, tier pro, so only ownership can refuse them;
- free / supporter / pro: the user the route is for (owner, or the claimer on claim routes)
  with that tier, so only the entitlement can refuse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from security.helpers import Route, assert_problem, routes_of, table_snapshot
from support import payloads
from support.apigw import Api, ApiResponse

PERSONAS = ("anonymous", "owner", "other", "free", "supporter", "pro")
AREA = "u33d"  # payloads.BERLIN lies in it


@dataclass(frozen=True, slots=True)
class Needs:
    """403 entitlement-required, naming the lowest tier that would do."""

    tier: str


Expected = int | Needs
SUPPORTER, PRO = Needs("supporter"), Needs("pro")


def row(*statuses: Expected) -> dict[str, Expected]:
    assert len(statuses) == len(PERSONAS)
    return dict(zip(PERSONAS, statuses, strict=True))


@dataclass(frozen=True, slots=True)
class Call:
    expect: Mapping[str, Expected]
    body: dict[str, Any] | None = None
    query: str = ""
    if_match: bool = False  # send the ETag of the path's resource (of GET /me for PUT /me)
    as_claimer: bool = False  # the tier personas act as the claimer instead of the owner


#                         anonymous owner other free supporter pro
MATRIX: dict[str, Call] = {
    "GET /health": Call(row(200, 200, 200, 200, 200, 200)),
    "GET /openapi.json": Call(row(200, 200, 200, 200, 200, 200)),
    "GET /crops": Call(row(200, 200, 200, 200, 200, 200)),
    "GET /me": Call(row(401, 200, 200, 200, 200, 200)),
    "PUT /me": Call(row(401, 200, 200, 200, 200, 200), {"displayName": "Sec"}, if_match=True),
    "GET /me/listings": Call(row(401, 200, 200, 200, 200, 200)),
    "GET /me/requests": Call(row(401, 200, 200, 200, 200, 200)),
    "GET /me/claims": Call(row(401, 200, 200, 200, 200, 200)),
    # Each caller reads the matches of their own requests or listings only.
    "GET /me/matches": Call(row(401, 200, 200, 200, 200, 200)),
    "POST /listings": Call(row(401, 201, 201, 201, 201, 201), payloads.listing()),
    "POST /requests": Call(row(401, 201, 201, 201, 201, 201), payloads.request()),
    # Listings and requests are public (approximate place); only their owner changes them.
    "GET /listings/{listingId}": Call(row(401, 200, 200, 200, 200, 200)),
    "PATCH /listings/{listingId}": Call(
        row(401, 200, 403, 200, 200, 200), {"notes": "changed"}, if_match=True
    ),
    "DELETE /listings/{listingId}": Call(row(401, 200, 403, 200, 200, 200)),
    "GET /requests/{requestId}": Call(row(401, 200, 200, 200, 200, 200)),
    "PATCH /requests/{requestId}": Call(
        row(401, 200, 403, 200, 200, 200), {"notes": "changed"}, if_match=True
    ),
    "DELETE /requests/{requestId}": Call(row(401, 200, 403, 200, 200, 200)),
    # Nobody claims their own listing; anyone else may.
    "POST /listings/{listingId}/claims": Call(
        row(401, 403, 201, 201, 201, 201), {"quantity": 1}, as_claimer=True
    ),
    # A claim belongs to its two parties (claimer and listing owner): 403 for anyone else.
    "GET /claims/{claimId}": Call(row(401, 200, 403, 200, 200, 200), as_claimer=True),
    "PATCH /claims/{claimId}": Call(
        row(401, 200, 403, 200, 200, 200), {"status": "cancelled"}, if_match=True, as_claimer=True
    ),
    "GET /feed": Call(row(401, 200, 200, 200, 200, 200), query="?lat=52.52&lon=13.405"),
    "GET /communities/{geohash}/signals": Call(row(401, 200, 200, 200, 200, 200)),
    "GET /communities/{geohash}/explanation": Call(row(401, 200, 200, SUPPORTER, 200, 200)),
    "POST /me/guidance": Call(row(401, 202, 202, PRO, PRO, 202), {"geohash": AREA}),
    # Each caller lists their own guidance requests only.
    "GET /me/guidance": Call(row(401, 200, 200, PRO, PRO, 200)),
    # Someone else's guidance request is as absent as a missing one (ids are not enumerable).
    "GET /me/guidance/{guidanceId}": Call(row(401, 202, 404, PRO, PRO, 202)),
}


@dataclass
class World:
    """The resources one cell needs, made through the API by their owners."""

    owner: str
    claimer: str
    stranger: str
    ids: dict[str, str] = field(default_factory=dict)
    etag: str | None = None


def _created(response: ApiResponse, what: str) -> ApiResponse:
    assert response.status in (201, 202), (what, response.status, response.body)
    return response


def build_world(api: Api, route: Route, tag: str) -> World:
    world = World(owner=f"owner-{tag}", claimer=f"claimer-{tag}", stranger=f"other-{tag}")
    for name in route.parameters:
        if name == "geohash":
            world.ids[name] = AREA
        elif name == "listingId":
            made = _created(api.post("/listings", payloads.listing(), user=world.owner), name)
            world.ids[name], world.etag = made.body["listingId"], made.etag
        elif name == "requestId":
            made = _created(api.post("/requests", payloads.request(), user=world.owner), name)
            world.ids[name], world.etag = made.body["requestId"], made.etag
        elif name == "claimId":
            listing = _created(api.post("/listings", payloads.listing(), user=world.owner), name)
            url = f"/listings/{listing.body['listingId']}/claims"
            made = _created(api.post(url, {"quantity": 1}, user=world.claimer), name)
            world.ids[name], world.etag = made.body["claimId"], made.etag
        elif name == "guidanceId":
            asked = api.post("/me/guidance", {"area": AREA}, user=world.owner, tier="pro")
            world.ids[name] = _created(asked, name).body["guidanceId"]
        else:
            pytest.fail(f"{route.key}: no resource known for path parameter {name!r}")
    return world


def caller(persona: str, call: Call, world: World) -> tuple[str | None, str]:
    """(user, tier) of a persona in a world."""
    if persona == "anonymous":
        return None, "free"
    if persona == "owner":
        return world.owner, "pro"
    if persona == "other":
        return world.stranger, "pro"
    return (world.claimer if call.as_claimer else world.owner), persona


def check_outcome(response: ApiResponse, expected: Expected) -> None:
    if isinstance(expected, Needs):
        assert_problem(response, 403)
        assert response.body["requiredTier"] == expected.tier, response.body
        assert response.body["type"].endswith("/entitlement-required"), response.body
        return
    if expected >= 400:
        assert_problem(response, expected)
        if expected == 401:
            assert response.header("WWW-Authenticate") == 'Bearer realm="harvest"'
        return
    assert response.status == expected, (expected, response.status, response.body)


def run_cell(api: Api, table: str, route: Route, persona: str) -> None:
    call = MATRIX[route.key]
    world = build_world(api, route, persona)
    user, tier = caller(persona, call, world)
    headers: dict[str, str] = {}
    if call.if_match:
        etag = world.etag or api.get("/me", user=user or "nobody", tier=tier).etag
        headers["If-Match"] = etag
    url = route.url(world.ids) + call.query
    before = table_snapshot(table)

    response = api.call(route.method, url, body=call.body, user=user, tier=tier, headers=headers)

    check_outcome(response, call.expect[persona])
    if response.status >= 400:
        assert table_snapshot(table) == before, "a refused call wrote something"


def test_every_served_route_has_an_expectation_for_every_caller(api: Api) -> None:
    document = api.get("/openapi.json", user=None)
    assert document.status == 200

    served = {route.key for route in routes_of(document.body)}

    assert served == set(MATRIX), (
        f"routes without an expectation: {sorted(served - set(MATRIX))}; "
        f"expectations for no route: {sorted(set(MATRIX) - served)}"
    )
    assert all(set(call.expect) == set(PERSONAS) for call in MATRIX.values())


@pytest.mark.parametrize("route_key", sorted(MATRIX))
def test_each_caller_gets_the_documented_status(api: Api, table: str, route_key: str) -> None:
    method, path = route_key.split(" ", 1)
    route = Route(method, path)
    failures: list[str] = []
    for persona in PERSONAS:
        try:
            run_cell(api, table, route, persona)
        except AssertionError as error:
            failures.append(f"{persona}: {error}")
    assert not failures, f"{route_key}:\n" + "\n".join(failures)
