"""What the API accepts and answers at the HTTP level, before and after a route runs: JSON
bodies that are objects of bounded numbers, JSON content types, and conditional GETs
(ETag / If-None-Match -> 304)."""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any

# Longer integers than any field takes. They become Decimals, which the models' bounds
# refuse with a 422: int() would raise ValueError past Python's 4,300-digit limit inside
# json.loads, which is neither a decode error nor a validation error (it was a 500).
_MAX_INT_DIGITS = 40
_JSON_MEDIA_TYPE = re.compile(r"^\s*application/(?:[A-Za-z0-9.+-]+\+)?json\s*(?:;.*)?$", re.I)
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"|\*')
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"


def _parse_int(text: str) -> int | Decimal:
    return Decimal(text) if len(text) > _MAX_INT_DIGITS else int(text)


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def json_object(text: str) -> dict[str, Any]:
    """The body as a dict: anything else (an array, a scalar, NaN, nesting too deep for the
    parser) is a JSONDecodeError, which the resolver reports as a 400 malformed request."""
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise json.JSONDecodeError("the body is nested too deeply", text[:64], 0) from None
    if not isinstance(value, dict):
        raise json.JSONDecodeError("the body must be a JSON object", text[:64], 0)
    return value


def is_json_media_type(content_type: str | None) -> bool:
    return content_type is not None and _JSON_MEDIA_TYPE.match(content_type) is not None


def normalise_json_content_type(event: dict[str, Any]) -> None:
    """Media types are case-insensitive and take suffixes (RFC 6838); the resolver only
    knows `application/json...`: a JSON media type reaches it under that name."""
    for field in ("headers", "multiValueHeaders"):
        for name, value in list((event.get(field) or {}).items()):
            if name.lower() != "content-type":
                continue
            current = value[-1] if isinstance(value, list) and value else value
            if isinstance(current, str) and is_json_media_type(current):
                event[field][name] = [JSON] if isinstance(value, list) else JSON


def header(headers: dict[str, Any] | None, name: str) -> str | None:
    """A request header by name, whatever its case (API Gateway keeps the client's)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted and value is not None:
            return str(value)
    return None


def flat_headers(response: dict[str, Any]) -> dict[str, str]:
    """A proxy response's headers as one dict (API Gateway merges `headers` and
    `multiValueHeaders`, the latter winning)."""
    headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        if values:
            headers[name] = str(values[-1])
    return headers


def representation_tag(body: str) -> str:
    """A weak ETag for a representation without a version (collections, the catalogue)."""
    return 'W/"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/")


def none_match(if_none_match: str, current: str) -> bool:
    """True when If-None-Match names the current ETag (weak comparison, RFC 9110 13.1.2)."""
    tags = _ENTITY_TAG.findall(if_none_match)
    return "*" in tags or _opaque(current) in {_opaque(tag) for tag in tags}


def conditional_get(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """A successful GET gets an ETag (its version, or a hash of the body); a GET whose
    If-None-Match names it gets 304 Not Modified with no body."""
    if event.get("httpMethod") != "GET" or response.get("statusCode") != 200:
        return response
    headers = flat_headers(response)
    tag = header(headers, "ETag")
    if tag is None:
        tag = representation_tag(response.get("body") or "")
        headers["ETag"] = tag
    response = {**response, "headers": headers, "multiValueHeaders": {}}
    asked = header(event.get("headers"), "If-None-Match")
    if asked is None or not none_match(asked, tag):
        return response
    kept = {k: v for k, v in headers.items() if k.lower() in {"etag", "cache-control", "vary"}}
    return {"statusCode": 304, "headers": kept, "body": "", "isBase64Encoded": False}
