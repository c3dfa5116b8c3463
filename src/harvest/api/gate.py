"""Checks made before routing, in the order API Gateway itself would make them:
a protected route without a valid identity is 401 before its body is even looked at, an
oversized body is 413 before it is parsed, and a body that is not UTF-8 text (JSON is UTF-8)
is 400 rather than a decoding error inside the resolver, and a body that is not declared JSON
is 415. A CORS preflight (OPTIONS) needs no identity: browsers never send one with it, and
template.yaml routes OPTIONS past the authorizer."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from harvest.api import problems
from harvest.api.auth import actor_of
from harvest.api.wire import BODY_METHODS, header, is_json_media_type
from harvest.domain.errors import Unauthenticated

PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/crops"})


def _body_bytes(event: dict[str, Any]) -> bytes | None:
    """The body as sent; None when a base64 body does not decode."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return body.encode(errors="surrogatepass")
    try:
        return base64.b64decode(body, validate=False)
    except binascii.Error:
        return None


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refusal(status: int, slug: str, title: str, detail: str, **headers: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": problems.PROBLEM_JSON, **headers},
        "body": json.dumps(problems.problem_body(status, slug, title, detail)),
        "isBase64Encoded": False,
    }


def refuse_early(event: dict[str, Any], max_body_bytes: int) -> dict[str, Any] | None:
    """A ready API Gateway response when the request must not reach a route, else None."""
    method = event.get("httpMethod")
    if method != "OPTIONS" and event.get("path") not in PUBLIC_PATHS:
        try:
            actor_of(APIGatewayProxyEvent(event))
        except Unauthenticated as error:
            return _refusal(
                401,
                "unauthorized",
                "Unauthorized",
                error.detail,
                **{"WWW-Authenticate": 'Bearer realm="harvest"'},
            )
    raw = _body_bytes(event)
    if raw is not None and len(raw) > max_body_bytes:
        return _refusal(
            413,
            "body-too-large",
            "Payload too large",
            f"request bodies are limited to {max_body_bytes} bytes",
        )
    content_type = header(event.get("headers"), "Content-Type")
    if method in BODY_METHODS and raw != b"" and not is_json_media_type(content_type):
        return _refusal(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send the body as application/json, not {(content_type or 'no Content-Type')[:60]}",
        )
    if raw is None or not _is_utf8(raw):
        return _refusal(
            400, "malformed-request", "Malformed request", "the body is not UTF-8 encoded text"
        )
    return None
