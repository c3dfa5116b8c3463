"""Bad tokens never reach the handler: on the local runtime, whose Cognito emulator verifies
the HS256 dev tokens as API Gateway's authorizer verifies Cognito's, every protected route
answers API Gateway's own 401 for a missing, expired, forged, re-signed, unsigned (`alg:
none`), foreign-issuer or malformed token. The routes are read from the running API's
/openapi.json, so a new route is covered without touching this file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harvest.local.tokens import ISSUER, TokenIssuer
from security.helpers import Route, public_paths, routes_of
from support.runtime import HttpClient, HttpResult, running_runtime

USER, TIER = "tess", "pro"
SAMPLE_ID = "abcdefgh123"  # a well-formed id: only the token may decide the answer
GATEWAY_401 = {"message": "Unauthorized"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jwt(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if key is None:
        return signing_input + "."
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": USER, "custom:tier": TIER, "iss": ISSUER, "token_use": "id"}
    return {**claims, "iat": now, "exp": now + 3600, **overrides}


def _tampered(issuer: TokenIssuer) -> str:
    """A valid token whose payload was swapped for another user's: the signature no longer
    matches."""
    header, _, signature = issuer.issue(USER, "free").split(".")
    return f"{header}.{_b64(json.dumps(_claims(sub='admin')).encode())}.{signature}"


HS256 = {"alg": "HS256", "typ": "JWT"}
# Each kind: the Authorization header value, given the runtime's real issuer (None: absent).
BAD_TOKENS: dict[str, Callable[[TokenIssuer], str | None]] = {
    "missing": lambda issuer: None,
    "empty bearer": lambda issuer: "Bearer ",
    "not a jwt": lambda issuer: "Bearer not-a-token",
    "garbage segments": lambda issuer: "Bearer a.b.c",
    "expired": lambda issuer: f"Bearer {issuer.issue(USER, TIER, ttl_seconds=-1)}",
    "forged signature (other key)": lambda issuer: (
        f"Bearer {TokenIssuer(b'not-the-local-signing-key').issue(USER, TIER)}"
    ),
    "tampered payload": lambda issuer: f"Bearer {_tampered(issuer)}",
    "alg none, unsigned": lambda issuer: (
        f"Bearer {_jwt({'alg': 'none', 'typ': 'JWT'}, _claims(), None)}"
    ),
    "alg none, signed anyway": lambda issuer: (
        f"Bearer {_jwt({'alg': 'none', 'typ': 'JWT'}, _claims(), issuer.key)}"
    ),
    "foreign issuer": lambda issuer: f"Bearer {_jwt(HS256, _claims(iss='evil'), issuer.key)}",
    "no expiry": lambda issuer: (
        f"Bearer {_jwt(HS256, {k: v for k, v in _claims().items() if k != 'exp'}, issuer.key)}"
    ),
    "raw token, expired": lambda issuer: issuer.issue(USER, TIER, ttl_seconds=-1),
    "basic scheme": lambda issuer: "Basic dGVzczpwYXNzd29yZA==",
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[HttpClient, list[Route]]]:
    with running_runtime(tmp_path / "data") as (_, http):
        document = http.call("GET", "/openapi.json", user=None)
        assert document.status == 200, document.body
        yield http, routes_of(document.body)


def _send(http: HttpClient, route: Route, authorization: str | None) -> HttpResult:
    url = route.url(dict.fromkeys(route.parameters, SAMPLE_ID))
    headers = {} if authorization is None else {"Authorization": authorization}
    body: dict[str, Any] | None = {} if route.method in {"POST", "PUT", "PATCH"} else None
    return http.call(route.method, url, body=body, user=None, headers=headers)


def _refused_by_gateway(result: HttpResult) -> bool:
    # The handler stamps X-Correlation-Id on every answer; the gateway's 401 has none.
    stamped = any(name.lower() == "x-correlation-id" for name in result.headers)
    return result.status == 401 and result.body == GATEWAY_401 and not stamped


def test_every_protected_route_refuses_every_bad_token_before_the_handler(
    live: tuple[HttpClient, list[Route]],
) -> None:
    http, routes = live
    protected = [route for route in routes if route.path not in public_paths()]
    assert len(protected) >= 20, [r.key for r in routes]
    # Control: a valid token passes the authorizer on the same runtime.
    valid = http.call("GET", "/me", user=USER, tier=TIER)
    assert valid.status == 200, valid.body
    assert valid.body["userId"] == USER

    let_through = [
        f"{route.key} with {kind}: {result.status} {result.body}"
        for route in protected
        for kind, token in BAD_TOKENS.items()
        if not _refused_by_gateway(result := _send(http, route, token(http.issuer)))
    ]

    assert not let_through, "\n".join(let_through)


def test_public_routes_answer_without_a_token_and_ignore_a_bad_one(
    live: tuple[HttpClient, list[Route]],
) -> None:
    http, routes = live
    public = [route for route in routes if route.path in public_paths()]
    assert {route.key for route in public} == {"GET /health", "GET /openapi.json", "GET /crops"}

    for route in public:
        result = _send(http, route, None)
        assert result.status == 200, (route.key, result.status, result.body)
    # API Gateway runs no authorizer on an `Authorizer: NONE` route, so a bad token there is
    # ignored, as the emulator does (adapter.authorize).
    for route in public:
        for kind, token in BAD_TOKENS.items():
            result = _send(http, route, token(http.issuer))
            assert result.status == 200, (route.key, kind, result.status, result.body)
