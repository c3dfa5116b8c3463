"""RFC 7807 problem responses: the one place where domain errors become HTTP statuses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response

from harvest.domain import errors

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://harvest.exchange/problems/"

# Most specific class first: the first match wins.
STATUS_BY_ERROR: list[tuple[type[errors.DomainError], int, str]] = [
    (errors.InvalidCursor, 400, "invalid-cursor"),
    (errors.UnknownCrop, 422, "unknown-crop"),
    (errors.UnitNotAllowed, 422, "unit-not-allowed"),
    (errors.InvalidGeohash, 400, "invalid-geohash"),
    (errors.ValidationFailed, 422, "validation-failed"),
    (errors.Unauthenticated, 401, "unauthorized"),
    (errors.EntitlementRequired, 403, "entitlement-required"),
    (errors.Forbidden, 403, "forbidden"),
    (errors.NotFound, 404, "not-found"),
    (errors.IdempotencyConflict, 409, "idempotency-key-reused"),
    (errors.AlreadyExists, 409, "already-exists"),
    (errors.IllegalTransition, 409, "illegal-transition"),
    (errors.InsufficientQuantity, 409, "insufficient-quantity"),
    (errors.Conflict, 409, "conflict"),
    (errors.VersionMismatch, 412, "version-mismatch"),
    (errors.PreconditionRequired, 428, "precondition-required"),
    (errors.DailyBudgetExhausted, 429, "daily-budget-exhausted"),
    (errors.ServiceUnavailable, 503, "service-unavailable"),
]


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field_errors: Sequence[dict[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if field_errors:
        body["errors"] = list(field_errors)
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field_errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem_body(status, slug, title, detail, field_errors, **extra)),
        headers=headers or {},
    )


def from_domain_error(error: errors.DomainError) -> Response[str]:
    status, slug = next(
        (status, slug) for cls, status, slug in STATUS_BY_ERROR if isinstance(error, cls)
    )
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(error, errors.UnknownCrop):
        extra["suggestions"] = error.suggestions
    if isinstance(error, errors.UnitNotAllowed):
        extra["allowedUnits"] = error.allowed
    if isinstance(error, errors.EntitlementRequired):
        extra["requiredTier"] = error.required_tier
        extra["entitlement"] = error.entitlement
    if isinstance(error, errors.VersionMismatch) and error.current is not None:
        extra["currentVersion"] = error.current
        headers["ETag"] = f'"{error.current}"'
    if isinstance(error, errors.ServiceUnavailable | errors.DailyBudgetExhausted):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="harvest"'
    field_errors: list[dict[str, str]] = []
    if isinstance(error, errors.ValidationFailed):
        field_errors = [{"loc": e.loc, "msg": e.msg, "type": e.type} for e in error.errors] or [
            {"loc": "body", "msg": error.detail, "type": "value_error"}
        ]
    return problem(status, slug, error.title, error.detail, field_errors, headers=headers, **extra)


def from_validation_errors(raw_errors: Sequence[Any]) -> Response[str]:
    """Powertools/pydantic validation errors -> 400 (unparseable JSON) or 422 (bad fields)."""
    field_errors = []
    malformed = False
    for raw in raw_errors:
        kind = str(raw.get("type", "value_error"))
        malformed = malformed or kind in {"json_invalid", "model_attributes_type"}
        location = [str(part) for part in raw.get("loc", ()) if part != "body"]
        message = str(raw.get("msg", ""))
        if kind == "json_invalid":  # loc holds a character offset; ctx says what is wrong
            location, message = [], str((raw.get("ctx") or {}).get("error", message))
        field_errors.append({"loc": ".".join(location) or "body", "msg": message, "type": kind})
    if malformed:
        return problem(
            400,
            "malformed-request",
            "Malformed request",
            "the body is not a JSON object",
            field_errors,
        )
    return problem(
        422,
        "validation-failed",
        "Validation failed",
        f"{len(field_errors)} invalid field(s)",
        field_errors,
    )
