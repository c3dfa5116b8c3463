"""The $connect authorizer verifies Cognito id tokens (RS256, issuer, audience, token_use,
expiry) with PyJWT; keys made here with `cryptography` sign, by hand (not with the library
under test), the tokens it must accept or refuse."""

from __future__ import annotations

import base64
import io
import json
import time
import urllib.request
from typing import Any

import jwt
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


def _jwk(key: rsa.RSAPrivateKey, kid: str = "k1") -> dict[str, str]:
    """The key as a Cognito JWKS lists it."""
    numbers = key.public_key().public_numbers()
    modulus, exponent = numbers.n.to_bytes(256, "big"), numbers.e.to_bytes(3, "big")
    return {"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": _b64(modulus), "e": _b64(exponent)}  # fmt: skip


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
    keys = ws_authorizer.signing_keys({"keys": [_jwk(KEY)]})
    return verify(token, expected_issuer=ISSUER, audience=AUDIENCE, keys=keys)


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


def test_a_tampered_signature_is_refused() -> None:
    header, body, signature = _token().split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01  # one bit, in the middle
    with pytest.raises(Unauthorized):
        _verify(f"{header}.{body}.{_b64(bytes(raw))}")
    # The signature of another token (same key, other claims) does not fit either.
    other = _token(sub="mallory").split(".")[2]
    with pytest.raises(Unauthorized):
        _verify(f"{header}.{body}.{other}")


def test_an_expired_token_is_refused_and_one_without_expiry_too() -> None:
    assert _verify(_token(exp=time.time() + 30))["sub"] == "alice"
    with pytest.raises(Unauthorized):
        _verify(_token(exp=time.time() - 5))
    with pytest.raises(Unauthorized):
        _verify(_token(exp=None))


def test_the_jwks_keeps_rsa_keys_only() -> None:
    keys = ws_authorizer.signing_keys(
        {"keys": [_jwk(KEY), {"kty": "oct", "kid": "h1", "k": _b64(b"s" * 32)}]}
    )
    assert set(keys) == {"k1"}
    assert isinstance(keys["k1"], jwt.PyJWK)


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
    jwks = {"keys": [_jwk(KEY)]}
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
