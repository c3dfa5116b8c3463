"""HTTP details shared by the routes: JSON responses, ETag/If-Match, headers."""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from harvest.domain.errors import FieldError, PreconditionRequired, ValidationFailed

JSON = "application/json"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,128}$")


def json_response(
    model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=model.model_dump_json(by_alias=True),
        headers=headers or {},
    )


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def if_match(event: APIGatewayProxyEvent, *, required: bool) -> int | None:
    """The version named by If-Match; `*` means "whatever is current"."""
    raw = event.headers.get("If-Match")
    if raw is None or not raw.strip():
        if required:
            raise PreconditionRequired(
                "If-Match is required: send the ETag of the version you are changing"
            )
        return None
    if raw.strip() == "*":
        return None
    match = _ETAG.match(raw)
    if match is None:
        detail = f"If-Match '{raw[:40]}' is not an ETag issued by this API"
        raise ValidationFailed(detail, [FieldError("header.If-Match", detail, "etag_invalid")])
    return int(match.group(1))


def idempotency_key(event: APIGatewayProxyEvent) -> str | None:
    raw = event.headers.get("Idempotency-Key")
    if raw is None:
        return None
    if not _IDEMPOTENCY_KEY.match(raw):
        detail = "Idempotency-Key must be 8-128 characters of [A-Za-z0-9_.:-]"
        raise ValidationFailed(detail, [FieldError("header.Idempotency-Key", detail, "pattern")])
    return raw


def created(model: BaseModel, location: str, version: int, replayed: bool) -> Response[str]:
    headers: dict[str, Any] = {"Location": location, **etag(version)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(model, status=201, headers=headers)


def documented(status: int, model: type[BaseModel], description: str) -> dict[int, Any]:
    """The `responses=` entry that puts a route's success body into /openapi.json."""
    return {status: {"description": description, "content": {JSON: {"model": model}}}}
