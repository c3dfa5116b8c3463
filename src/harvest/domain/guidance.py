"""A grower-guidance request (DESIGN §4/§5): a core item the API writes once; the AI worker
answers it in a derived item. The request names only an area and a crop, never free text,
so nothing personal can reach a prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Guidance", "seconds_until_next_utc_day"]


@dataclass(frozen=True, slots=True)
class Guidance:
    guidance_id: str
    owner_id: str
    area: str  # geohash precision 4-6: the community the guidance is about
    crop: str | None
    tier: str  # copied from the token: input context for the worker, never a grant
    version: int
    created_at: datetime
    updated_at: datetime
    correlation_id: str


def seconds_until_next_utc_day(now: datetime) -> int:
    """When a per-day budget opens again (at least 1 s: Retry-After 0 means "now")."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), now.tzinfo)
    return max(1, int((midnight - now).total_seconds() + 0.999))
