"""Domain exceptions.

Every rule violation the API can report is one of these. They carry the facts a client
needs (field, suggestions, current version); the HTTP mapping lives in ``harvest.api.problems``
only, so services and the repository never think in status codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One invalid input, addressed by a JSON-pointer-like location."""

    loc: str
    msg: str
    type: str = "value_error"


class DomainError(Exception):
    """Base of every expected, client-caused failure."""

    title = "Request failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(DomainError):
    title = "Validation failed"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail)
        self.errors: list[FieldError] = list(errors)


class UnknownCrop(ValidationFailed):
    title = "Unknown crop"

    def __init__(self, slug: str, suggestions: Sequence[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"'{slug}' is not in the crop catalog{hint}",
            [FieldError("crop", f"unknown crop '{slug}'", "unknown_crop")],
        )
        self.slug = slug
        self.suggestions = list(suggestions)


class UnitNotAllowed(ValidationFailed):
    title = "Unit not allowed for crop"

    def __init__(self, crop: str, unit: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"unit '{unit}' is not used for {crop}; allowed: {', '.join(allowed)}",
            [FieldError("unit", f"'{unit}' not allowed for {crop}", "unit_not_allowed")],
        )
        self.allowed = list(allowed)


class InvalidGeohash(ValidationFailed):
    title = "Invalid geohash"

    def __init__(self, value: str, reason: str = "not a geohash") -> None:
        super().__init__(
            f"'{value}' is {reason}", [FieldError("geohash", reason, "invalid_geohash")]
        )


class InvalidCursor(ValidationFailed):
    title = "Invalid cursor"

    def __init__(self) -> None:
        super().__init__(
            "the cursor is malformed, expired or belongs to another query",
            [FieldError("cursor", "invalid cursor", "invalid_cursor")],
        )


class Unauthenticated(DomainError):
    title = "Unauthorized"


class Forbidden(DomainError):
    title = "Forbidden"


class EntitlementRequired(Forbidden):
    title = "Entitlement required"

    def __init__(self, entitlement: str, required_tier: str) -> None:
        super().__init__(f"'{entitlement}' needs the '{required_tier}' tier or higher")
        self.entitlement = entitlement
        self.required_tier = required_tier


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    """The request is valid but contradicts the current state (HTTP 409)."""

    title = "Conflict"


class AlreadyExists(Conflict):
    title = "Already exists"


class IdempotencyConflict(Conflict):
    title = "Idempotency key reused"


class IllegalTransition(Conflict):
    title = "Illegal status transition"

    def __init__(self, entity: str, current: str, target: str) -> None:
        super().__init__(f"{entity} cannot go from '{current}' to '{target}'")
        self.current = current
        self.target = target


class InsufficientQuantity(Conflict):
    title = "Not enough quantity remains"


class VersionMismatch(DomainError):
    """If-Match named a version that is no longer current (HTTP 412)."""

    title = "Precondition failed"

    def __init__(self, expected: int, current: int | None) -> None:
        super().__init__(
            f"version {expected} is stale"
            + (f"; current version is {current}" if current is not None else "")
        )
        self.expected = expected
        self.current = current


class PreconditionRequired(DomainError):
    title = "Precondition required"


@dataclass
class RetryableConflict(Exception):
    """Internal: a concurrent writer won a compare-and-swap; the service may retry."""

    reasons: list[str] = field(default_factory=list)


class ServiceUnavailable(DomainError):
    """A dependency stayed throttled or unreachable after retries (HTTP 503)."""

    title = "Service unavailable"

    def __init__(self, detail: str, retry_after_seconds: int = 1) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class DailyBudgetExhausted(DomainError):
    """A per-user daily budget is used up (HTTP 429 with Retry-After)."""

    title = "Daily budget exhausted"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
