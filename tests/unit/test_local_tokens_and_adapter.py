"""Dev tokens and the API Gateway event the adapter builds."""

from __future__ import annotations

import base64
import os
import secrets
import stat
import threading
import time
from pathlib import Path

import pytest

from harvest.local.adapter import (
    ApiGatewayEmulator,
    build_event,
    gateway_response_headers,
    preflight_is_public,
    public_routes,
)
from harvest.local.tokens import InvalidToken, TokenIssuer, bearer, signing_key
from harvest.tools.template import load_template


def test_token_round_trip_carries_subject_and_tier(tmp_path: Path) -> None:
    issuer = TokenIssuer(signing_key(tmp_path))
    claims = issuer.verify(issuer.issue("alice", "pro"))
    assert (claims["sub"], claims["custom:tier"], claims["iss"]) == (
        "alice",
        "pro",
        "harvest-local",
    )


def test_signing_key_is_created_once_and_private(tmp_path: Path) -> None:
    first = signing_key(tmp_path)
    assert signing_key(tmp_path) == first
    mode = stat.S_IMODE(os.stat(tmp_path / "dev-signing-key").st_mode)
    assert mode == 0o600


def test_callers_racing_to_create_the_signing_key_all_read_the_same_whole_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two test workers (or the runtime and a CLI) asking at once: each must get the key the
    # other uses, never an empty file read between its creation and its write. A slow key
    # generation widens the window a busy machine opens by chance.
    generate = secrets.token_urlsafe

    def slowly(length: int) -> str:
        time.sleep(0.2)
        return generate(length)

    monkeypatch.setattr(secrets, "token_urlsafe", slowly)
    start = threading.Barrier(8)
    keys: list[bytes] = []
    errors: list[BaseException] = []

    def race() -> None:
        start.wait()
        try:
            keys.append(signing_key(tmp_path))
        except BaseException as error:
            errors.append(error)

    racers = [threading.Thread(target=race) for _ in range(8)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert errors == []
    assert len(keys) == 8
    assert set(keys) == {signing_key(tmp_path)}
    assert len(keys[0]) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["dev-signing-key"]


def test_token_from_another_key_is_refused(tmp_path: Path) -> None:
    token = TokenIssuer(b"k" * 32).issue("alice", "free")
    with pytest.raises(InvalidToken, match="signature"):
        TokenIssuer(b"x" * 32).verify(token)


def test_expired_token_is_refused() -> None:
    issuer = TokenIssuer(b"k" * 32)
    token = issuer.issue("alice", "free", ttl_seconds=60)
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(token, now=10**12)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "x" * 40, "....."])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        TokenIssuer(b"k" * 32).verify(token)


def test_tampered_claims_are_refused() -> None:
    issuer = TokenIssuer(b"k" * 32)
    header, _, signature = issuer.issue("alice", "free").split(".")
    forged = (
        base64.urlsafe_b64encode(
            b'{"sub":"alice","custom:tier":"pro","iss":"harvest-local","exp":99999999999}'
        )
        .decode()
        .rstrip("=")
    )
    with pytest.raises(InvalidToken):
        issuer.verify(f"{header}.{forged}.{signature}")


def test_bearer_header_parsing() -> None:
    assert bearer("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer("bearer  abc.def.ghi ") == "abc.def.ghi"
    assert bearer("abc.def.ghi") == "abc.def.ghi"  # Cognito authorizer accepts a raw token
    assert bearer("Basic dXNlcjpwdw==") is None
    assert bearer(None) is None


def test_public_routes_come_from_the_template() -> None:
    assert public_routes(load_template()) == {"/health", "/openapi.json", "/crops"}


def test_preflight_and_gateway_cors_headers_come_from_the_template() -> None:
    template = load_template()

    assert preflight_is_public(template)
    assert gateway_response_headers(template)["Access-Control-Allow-Origin"] == "*"
    assert "WWW-Authenticate" in gateway_response_headers(template)["Access-Control-Expose-Headers"]


def test_emulator_lets_preflights_through_only_when_the_template_opens_them() -> None:
    issuer = TokenIssuer(b"k" * 32)
    open_gateway = ApiGatewayEmulator(lambda e, c: {}, issuer, set(), open_preflight=True)
    closed_gateway = ApiGatewayEmulator(lambda e, c: {}, issuer, set())

    assert open_gateway.authorize("/listings", None, "OPTIONS") is None
    with pytest.raises(InvalidToken):
        open_gateway.authorize("/listings", None, "POST")
    with pytest.raises(InvalidToken):
        closed_gateway.authorize("/listings", None, "OPTIONS")


def test_emulator_lets_public_routes_through_and_guards_the_rest() -> None:
    issuer = TokenIssuer(b"k" * 32)
    gateway = ApiGatewayEmulator(lambda e, c: {}, issuer, {"/health"})
    assert gateway.authorize("/health", None) is None
    with pytest.raises(InvalidToken):
        gateway.authorize("/me", None)
    claims = gateway.authorize("/me", f"Bearer {issuer.issue('bob', 'free')}")
    assert claims is not None
    assert claims["sub"] == "bob"


def test_event_has_the_rest_proxy_shape() -> None:
    event = build_event(
        "GET",
        "/feed?lat=1&lon=2&crop=a&crop=b",
        [("Accept", "application/json"), ("X-Multi", "1"), ("X-Multi", "2")],
        b"",
        {"sub": "alice", "custom:tier": "free"},
        "127.0.0.1",
    )
    assert event["path"] == "/feed"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"lat": "1", "lon": "2", "crop": "b"}
    assert event["multiValueQueryStringParameters"]["crop"] == ["a", "b"]
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["requestContext"]["authorizer"]["claims"]["sub"] == "alice"
    assert event["requestContext"]["requestId"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64_encoded() -> None:
    event = build_event("POST", "/x", [], b"\xff\xfe\x00", None, "127.0.0.1")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"
    assert event["requestContext"]["authorizer"] == {}
