"""Value types shared by the entities: identities, places, timestamps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

# Ids come from clients too (idempotent creates), so they are constrained to a URL-safe,
# key-safe alphabet: no '#', which separates key segments.
ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
# A match suggestion's id: the request's and the listing's ids joined by a dot.
MATCH_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}\.[A-Za-z0-9_-]{8,64}$"
STORED_GEOHASH_PRECISION = 7
# What non-owners see: the centre of a precision-5 cell (about 4.9 km x 4.9 km).
PUBLIC_GEOHASH_PRECISION = 5


def new_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z: sorts lexicographically in keys."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Location:
    """An exact point and its stored geohash cell (precision 7)."""

    lat: float
    lon: float
    geohash: str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is calling: the token's subject and tier, plus the request's correlation id."""

    user_id: str
    tier: str
    correlation_id: str


def quantity(value: Decimal) -> Decimal:
    """Normalise a quantity so equal amounts compare and hash equal (2.50 == 2.5)."""
    normalised = value.normalize()
    # normalize() turns 100 into 1E+2; keep plain notation for storage and JSON.
    return normalised.quantize(Decimal(1)) if normalised == normalised.to_integral() else normalised
