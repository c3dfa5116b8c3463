"""schemathesis against the local runtime's own /openapi.json (the checked-in
schemas/openapi.json: tests/unit/test_openapi_document.py fails when the two differ): no 5xx,
and every response that the document describes matches the schema it gives for it (checks
`not_a_server_error` and `response_schema_conformance`).

Calls go over HTTP through the API Gateway + Cognito emulator with a pro user's token, so
every route (the AI ones too) reaches its handler. Two parts, on one runtime (valid requests
first, while the resources they need are as made):
- one valid request per documented operation, built as a schemathesis Case, so the success
  responses are checked against their schemas (generated bodies rarely pass the business
  rules: an unknown crop is a 422, a write without If-Match a 428); a new operation fails the
  test until it has one;
- generated requests per operation, valid ones and ones that break the schema on purpose,
  bounded for CI: a fixed number of examples per operation and mode, derandomized (the same
  cases on every run), no example database, a deadline per example, a timeout per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from support import payloads
from support.runtime import HttpClient, running_runtime

EXAMPLES_PER_OPERATION = 6
USER, TIER = "fuzzer", "pro"
AREA = "u33d"
CHECKS = [not_a_server_error, response_schema_conformance]
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=5),
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
    report_multiple_bugs=False,
)
Operation = APIOperation[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Live:
    base_url: str
    http: HttpClient
    operations: dict[str, Operation]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.http.issuer.issue(USER, TIER)}"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with running_runtime(tmp_path / "data") as (runtime, http):
        schema: BaseSchema = schemathesis.openapi.from_url(
            f"{runtime.api_url}/openapi.json", timeout=10
        )
        results = list(schema.get_all_operations())
        assert not [result.err() for result in results if isinstance(result, Err)]
        operations = {r.ok().label: r.ok() for r in results if not isinstance(r, Err)}
        assert len(operations) >= 20, sorted(operations)
        yield Live(runtime.api_url, http, operations)


@dataclass(frozen=True, slots=True)
class Valid:
    """One valid request of an operation and the success statuses it may get."""

    label: str
    statuses: frozenset[int]
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] | None = None
    body: Any = None
    if_match: bool = False


def _valid_requests(http: HttpClient) -> list[Valid]:
    """In an order that works: reads and edits first, cancellations last. The fuzzer claims a
    listing of someone else's and edits one of its own."""
    theirs = http.call("POST", "/listings", payloads.listing(), user="grower")
    own = http.call("POST", "/listings", payloads.listing(), user=USER, tier=TIER)
    request = http.call("POST", "/requests", payloads.request(), user=USER, tier=TIER)
    claim_url = f"/listings/{theirs.body['listingId']}/claims"
    claim = http.call("POST", claim_url, {"quantity": 1}, user=USER, tier=TIER)
    guidance = http.call("POST", "/me/guidance", {"area": AREA}, user=USER, tier=TIER)
    for made in (theirs, own, request, claim, guidance):
        assert made.status in (201, 202), made.body
    their_listing = {"listingId": theirs.body["listingId"]}
    own_listing = {"listingId": own.body["listingId"]}
    own_request = {"requestId": request.body["requestId"]}
    own_claim = {"claimId": claim.body["claimId"]}
    own_guidance = {"guidanceId": guidance.body["guidanceId"]}
    cancel = {"status": "cancelled"}
    ok, created, accepted = frozenset({200}), frozenset({201}), frozenset({202})
    return [
        Valid("GET /health", ok),
        Valid("GET /crops", ok),
        Valid("PUT /me", ok, body={"displayName": "Fuzzer", "homeLocation": payloads.BERLIN}),
        Valid("GET /me", ok),
        Valid("POST /listings", created, body=payloads.listing()),
        Valid("GET /listings/{listingId}", ok, their_listing),
        Valid("PATCH /listings/{listingId}", ok, own_listing, body={"notes": "x"}, if_match=True),
        Valid("GET /me/listings", ok, query={"limit": 5}),
        Valid("POST /requests", created, body=payloads.request()),
        Valid("GET /requests/{requestId}", ok, own_request),
        Valid("PATCH /requests/{requestId}", ok, own_request, body={"quantity": 2}, if_match=True),
        Valid("GET /me/requests", ok),
        Valid("POST /listings/{listingId}/claims", created, their_listing, body={"quantity": 1}),
        Valid("GET /claims/{claimId}", ok, own_claim),
        Valid("GET /me/claims", ok, query={"role": "made"}),
        Valid("GET /me/matches", ok, query={"side": "listing", "limit": 5}),
        Valid("GET /feed", ok, query={"lat": 52.52, "lon": 13.405, "radiusKm": 10}),
        Valid("GET /communities/{geohash}/signals", ok, {"geohash": AREA}),
        Valid("GET /communities/{geohash}/explanation", ok, {"geohash": AREA}, {"days": 14}),
        Valid("POST /me/guidance", accepted, body={"geohash": AREA, "crop": "tomato"}),
        Valid("GET /me/guidance", ok, query={"limit": 5}),
        # 202 while pending, 200 once the runtime's AI worker has answered (fallback advice).
        Valid("GET /me/guidance/{guidanceId}", ok | accepted, own_guidance),
        Valid("PATCH /claims/{claimId}", ok, own_claim, body=cancel, if_match=True),
        Valid("DELETE /requests/{requestId}", ok, own_request),
        Valid("DELETE /listings/{listingId}", ok, own_listing),
    ]  # fmt: skip


def _check_valid_requests(live: Live) -> list[str]:
    requests = _valid_requests(live.http)
    assert {valid.label for valid in requests} == set(live.operations), "a valid request each"
    failures: list[str] = []
    for valid in requests:
        extra: dict[str, Any] = {} if valid.body is None else {"body": valid.body}
        case = live.operations[valid.label].Case(
            path_parameters=valid.path,
            query=valid.query,
            headers={"If-Match": "*"} if valid.if_match else None,
            **extra,
        )
        try:
            response = case.call_and_validate(
                base_url=live.base_url, headers=live.auth, checks=CHECKS, timeout=10
            )
        except (Exception, BaseExceptionGroup) as error:  # failed checks come as a group
            failures.append(f"{valid.label}: {error}")
            continue
        if response.status_code not in valid.statuses:
            failures.append(f"{valid.label}: {response.status_code} {response.text[:300]}")
    return failures


def _fuzz(operation: Operation, mode: GenerationMode, base_url: str, auth: dict[str, str]) -> None:
    @BOUNDED
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Case[Operation]) -> None:
        case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS, timeout=10)

    check()


def _check_generated_requests(live: Live) -> list[str]:
    auth = live.auth
    failures: list[str] = []
    for operation in live.operations.values():
        modes = [GenerationMode.POSITIVE]
        if operation.path_parameters or operation.query or operation.body:
            modes.append(GenerationMode.NEGATIVE)  # nothing to break otherwise
        for mode in modes:
            try:
                _fuzz(operation, mode, live.base_url, auth)
            except (Exception, BaseExceptionGroup) as error:  # failed checks come as a group
                failures.append(f"{operation.label} ({mode.value}): {error}")
    return failures


def test_no_5xx_and_every_documented_response_matches_its_schema(live: Live) -> None:
    # One runtime for both parts: starting one costs more than either part.
    valid = _check_valid_requests(live)
    generated = _check_generated_requests(live)

    assert not valid, "valid requests:\n" + "\n\n".join(valid)
    assert not generated, "generated requests:\n" + "\n\n".join(generated)
