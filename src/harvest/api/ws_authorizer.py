"""The WebSocket API's `$connect` authorizer (a Lambda REQUEST authorizer: API Gateway has
no Cognito authorizer for WebSocket APIs, and browsers cannot set an Authorization header on
a WebSocket, so the id token comes in the `token` query parameter).

Verifies a Cognito id token as the REST API's Cognito authorizer does: RS256 signature
against the user pool's JWKS, issuer, audience (the app client), `token_use` = id, expiry.
RS256 is checked with the standard library (PKCS#1 v1.5: the signature raised to the public
exponent must be exactly the padded SHA-256 DigestInfo), so the function ships no crypto
package. A refusal raises "Unauthorized": API Gateway answers 401 and opens no connection.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from harvest.once import Once
from harvest.settings import WebSocketSettings

logger = Logger(service="harvest-live-authorizer")

# DER prefix of a SHA-256 DigestInfo (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_JWKS_TIMEOUT_S = 3


class Unauthorized(Exception):
    """Any refusal: the message is what API Gateway needs to answer 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class UnknownKey(Unauthorized):
    """The token names a key id the cached JWKS does not hold (the pool rotated its keys)."""


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def rs256_valid(signing_input: bytes, signature: bytes, modulus: int, exponent: int) -> bool:
    size = (modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= modulus:
        return False
    encoded = pow(value, exponent, modulus).to_bytes(size, "big")
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    padding = b"\xff" * (size - len(digest_info) - 3)
    return hmac.compare_digest(encoded, b"\x00\x01" + padding + b"\x00" + digest_info)


authorizer_settings = Once(lambda: WebSocketSettings.from_environ(os.environ))


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@cache
def _jwks(url: str) -> dict[str, tuple[int, int]]:
    """kid -> (modulus, exponent), fetched once per container (keys rotate rarely; an unknown
    kid refreshes the cache once, see verify)."""
    if not url.startswith("https://"):
        raise Unauthorized
    # https only (checked above): no file:// or custom scheme can reach urlopen.
    with urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT_S) as response:  # noqa: S310  # nosec B310
        document = json.loads(response.read())
    return {
        str(key["kid"]): (
            int.from_bytes(_unb64(key["n"]), "big"),
            int.from_bytes(_unb64(key["e"]), "big"),
        )
        for key in document.get("keys", [])
        if key.get("kty") == "RSA"
    }


def verify(
    token: str,
    *,
    expected_issuer: str,
    audience: str,
    keys: Mapping[str, tuple[int, int]],
    now: float,
) -> dict[str, Any]:
    """The claims of a valid Cognito id token; Unauthorized otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized
    try:
        header = json.loads(_unb64(parts[0]))
        claims = json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except ValueError as error:
        raise Unauthorized from error
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthorized
    if header.get("alg") != "RS256":
        raise Unauthorized
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise UnknownKey
    if not rs256_valid(f"{parts[0]}.{parts[1]}".encode(), signature, *key):
        raise Unauthorized
    if claims.get("iss") != expected_issuer or claims.get("token_use") != "id":
        raise Unauthorized
    if claims.get("aud") != audience or float(claims.get("exp", 0)) <= now:
        raise Unauthorized
    if not isinstance(claims.get("sub"), str):
        raise Unauthorized
    return claims


def policy(principal: str, effect: str, resource: str, claims: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        # What the route handlers read in requestContext.authorizer.
        "context": {"sub": principal, "tier": str(claims.get("custom:tier") or "free")},
    }


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    settings = authorizer_settings()
    token = (event.get("queryStringParameters") or {}).get("token")
    if not isinstance(token, str) or not settings.user_pool_id or not settings.user_pool_client_id:
        raise Unauthorized
    expected = issuer(settings.aws_region, settings.user_pool_id)
    url = f"{expected}/.well-known/jwks.json"
    options = {"expected_issuer": expected, "audience": settings.user_pool_client_id}
    try:
        try:
            claims = verify(token, keys=_jwks(url), now=time.time(), **options)
        except UnknownKey:
            _jwks.cache_clear()  # a rotated key: one fresh look at the JWKS, then a verdict
            claims = verify(token, keys=_jwks(url), now=time.time(), **options)
    except Unauthorized:
        logger.info("token refused")  # never the token itself
        raise
    return policy(str(claims["sub"]), "Allow", str(event["methodArn"]), claims)
