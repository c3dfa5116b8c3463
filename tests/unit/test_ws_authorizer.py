"""The $connect authorizer verifies Cognito id tokens (RS256, issuer, audience, token_use,
expiry) with the standard library only; keys made here with `cryptography` (a test-only
dependency) sign the tokens it must accept or refuse."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.request
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from harvest.api import ws_authorizer
from harvest.api.ws_authorizer import Unauthorized, issuer, verify

ISSUER = issuer("us-east-1", "us-east-1_pool")
AUDIENCE = "client-1"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _public(key: rsa.RSAPrivateKey) -> tuple[int, int]:
    numbers = key.public_key().public_numbers()
    return numbers.n, numbers.e


def _token(key: rsa.RSAPrivateKey = KEY, kid: str = "k1", **overrides: Any) -> str:
    claims = {
        "sub": "alice",
        "custom:tier": "pro",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "exp": time.time() + 600,
        **overrides,
    }
    header = _b64(json.dumps({"alg": "RS256", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{_b64(signature)}"


def _verify(token: str) -> dict[str, Any]:
    return verify(
        token, expected_issuer=ISSUER, audience=AUDIENCE, keys={"k1": _public(KEY)}, now=time.time()
    )


def test_a_valid_id_token_is_accepted() -> None:
    assert _verify(_token())["sub"] == "alice"


@pytest.mark.parametrize(
    "token",
    [
        _token(key=OTHER),  # signed by another key
        _token(kid="k2"),  # a key the pool does not have
        _token(exp=time.time() - 1),
        _token(aud="another-client"),
        _token(iss=issuer("us-east-1", "another_pool")),
        _token(token_use="access"),
        _token(sub=None),
        _token()[:-4] + "AAAA",  # tampered signature
        _token().split(".")[0] + "." + _b64(b'{"sub":"mallory"}') + "." + _token().split(".")[2],
        "not.a.jwt.at.all",
        "a.b",
        "",
    ],
)
def test_anything_else_is_refused(token: str) -> None:
    with pytest.raises(Unauthorized):
        _verify(token)


def test_an_hs256_token_is_refused_whatever_its_signature() -> None:
    header = _b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    body = _b64(json.dumps({"sub": "alice", "iss": ISSUER}).encode())
    with pytest.raises(Unauthorized):
        _verify(f"{header}.{body}.{_b64(b'x' * 32)}")


def test_the_handler_allows_with_the_user_in_the_context_and_refuses_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USER_POOL_ID", "us-east-1_pool")
    monkeypatch.setenv("USER_POOL_CLIENT_ID", AUDIENCE)
    ws_authorizer.authorizer_settings.reset()
    ws_authorizer._jwks.cache_clear()
    n, e = _public(KEY)
    jwks = {"keys": [{"kty": "RSA", "kid": "k1", "n": _b64(n.to_bytes(256, "big")),
                      "e": _b64(e.to_bytes(3, "big"))}]}  # fmt: skip
    fetched: list[str] = []

    def urlopen(url: str, timeout: float) -> io.BytesIO:
        fetched.append(url)
        return io.BytesIO(json.dumps(jwks).encode())

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    arn = "arn:aws:execute-api:us-east-1:1:api/dev/$connect"
    allowed = ws_authorizer.handler(
        {"queryStringParameters": {"token": _token()}, "methodArn": arn}, None
    )
    assert allowed["principalId"] == "alice"
    assert allowed["context"] == {"sub": "alice", "tier": "pro"}
    assert allowed["policyDocument"]["Statement"][0]["Resource"] == arn
    assert fetched == [f"{ISSUER}/.well-known/jwks.json"]
    for event in ({"methodArn": arn}, {"queryStringParameters": {"token": _token(key=OTHER)}}):
        with pytest.raises(Unauthorized):
            ws_authorizer.handler(event, None)
    # A bad signature does not make it fetch the keys again; an unknown key id does, once
    assert len(fetched) == 1
    with pytest.raises(Unauthorized):
        ws_authorizer.handler({"queryStringParameters": {"token": _token(kid="k9")}}, None)
    assert len(fetched) == 2
    ws_authorizer.authorizer_settings.reset()
