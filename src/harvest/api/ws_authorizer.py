"""The WebSocket API's `$connect` authorizer (a Lambda REQUEST authorizer: API Gateway has
no Cognito authorizer for WebSocket APIs, and browsers cannot set an Authorization header on
a WebSocket, so the id token comes in the `token` query parameter).

Verifies a Cognito id token as the REST API's Cognito authorizer does: RS256 signature
against the user pool's JWKS, issuer, audience (the app client), `token_use` = id, expiry.
The signature and the registered claims are checked by PyJWT (with `cryptography`), a
maintained library, not by code of ours; only the JWKS fetch (https only, cached per
container, refreshed once on an unknown key id) and `token_use` are ours. A refusal raises
"Unauthorized": API Gateway answers 401 and opens no connection.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping
from functools import cache
from typing import Any

import jwt
from aws_lambda_powertools import Logger

from harvest.once import Once
from harvest.settings import WebSocketSettings

logger = Logger(service="harvest-live-authorizer")

ALGORITHM = "RS256"  # what Cognito signs with; never taken from the token's header
_JWKS_TIMEOUT_S = 3


class Unauthorized(Exception):
    """Any refusal: the message is what API Gateway needs to answer 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class UnknownKey(Unauthorized):
    """The token names a key id the cached JWKS does not hold (the pool rotated its keys)."""


authorizer_settings = Once(lambda: WebSocketSettings.from_environ(os.environ))


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def signing_keys(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """kid -> public key of a JWKS document's RSA keys (others are ignored)."""
    found: dict[str, jwt.PyJWK] = {}
    for key in document.get("keys", []):
        if key.get("kty") != "RSA" or "kid" not in key:
            continue
        try:
            found[str(key["kid"])] = jwt.PyJWK(key, ALGORITHM)
        except jwt.PyJWTError:
            logger.warning("unusable key in the JWKS", extra={"kid": str(key["kid"])})
    return found


@cache
def _jwks(url: str) -> dict[str, jwt.PyJWK]:
    """kid -> key, fetched once per container (keys rotate rarely; an unknown kid refreshes
    the cache once, see handler)."""
    if not url.startswith("https://"):
        raise Unauthorized
    # https only (checked above): no file:// or custom scheme can reach urlopen.
    with urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT_S) as response:  # noqa: S310  # nosec B310
        return signing_keys(json.loads(response.read()))


def verify(
    token: str,
    *,
    expected_issuer: str,
    audience: str,
    keys: Mapping[str, jwt.PyJWK],
) -> dict[str, Any]:
    """The claims of a valid Cognito id token; Unauthorized otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized from error
    if header.get("alg") != ALGORITHM:
        raise Unauthorized
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise UnknownKey
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=expected_issuer,
            options={"require": ["exp", "iss", "aud", "sub"], "strict_aud": True},
        )
    except jwt.PyJWTError as error:
        raise Unauthorized from error
    if claims.get("token_use") != "id" or not isinstance(claims.get("sub"), str):
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
            claims = verify(token, keys=_jwks(url), **options)
        except UnknownKey:
            _jwks.cache_clear()  # a rotated key: one fresh look at the JWKS, then a verdict
            claims = verify(token, keys=_jwks(url), **options)
    except Unauthorized:
        logger.info("token refused")  # never the token itself
        raise
    return policy(str(claims["sub"]), "Allow", str(event["methodArn"]), claims)
