"""User profiles. The id is the token's subject; the tier is copied from the token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from harvest.domain.common import Location

DEFAULT_SHARE_RADIUS_KM = 5.0


@dataclass(frozen=True, slots=True)
class Profile:
    user_id: str
    display_name: str
    home_location: Location | None
    share_radius_km: float
    tier: str
    version: int
    created_at: datetime
    updated_at: datetime
    correlation_id: str
