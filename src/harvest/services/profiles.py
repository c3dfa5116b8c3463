"""Own profile: read (a default before the first save) and save with optimistic concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from harvest.domain import geo
from harvest.domain.common import Actor, Location
from harvest.domain.errors import (
    PreconditionRequired,
    RetryableConflict,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.profile import DEFAULT_SHARE_RADIUS_KM, Profile
from harvest.services.support import ServiceContext, check_version

MAX_SHARE_RADIUS_KM = 50.0


class ProfileStore(Protocol):
    """What ProfileService reads and writes (harvest.store.repository.Repository)."""

    def profile_by_user(self, user_id: str) -> Profile | None: ...
    def save_profile(self, profile: Profile, expected_version: int | None) -> None: ...


@dataclass(frozen=True, slots=True)
class ProfileDraft:
    display_name: str
    home_lat: float | None = None
    home_lon: float | None = None
    share_radius_km: float = DEFAULT_SHARE_RADIUS_KM


class ProfileService:
    def __init__(self, repository: ProfileStore, context: ServiceContext) -> None:
        self.repository = repository
        self.context = context

    def get(self, actor: Actor) -> Profile:
        stored = self.repository.profile_by_user(actor.user_id)
        if stored is not None:
            return stored
        # Version 0 marks "never saved": PUT without If-Match creates it.
        now = self.context.clock()
        return Profile(
            user_id=actor.user_id,
            display_name="",
            home_location=None,
            share_radius_km=DEFAULT_SHARE_RADIUS_KM,
            tier=actor.tier,
            version=0,
            created_at=now,
            updated_at=now,
            correlation_id=actor.correlation_id,
        )

    def save(self, actor: Actor, draft: ProfileDraft, if_match: int | None) -> Profile:
        if (draft.home_lat is None) != (draft.home_lon is None):
            raise ValidationFailed("homeLocation needs both lat and lon")
        if not 0 < draft.share_radius_km <= MAX_SHARE_RADIUS_KM:
            raise ValidationFailed(f"shareRadiusKm must be in (0, {MAX_SHARE_RADIUS_KM}]")
        home = None
        if draft.home_lat is not None and draft.home_lon is not None:
            geo.validate_point(draft.home_lat, draft.home_lon)
            home = Location(
                draft.home_lat, draft.home_lon, geo.encode(draft.home_lat, draft.home_lon, 7)
            )
        current = self.repository.profile_by_user(actor.user_id)
        now = self.context.clock()
        if current is not None and if_match is None:
            raise PreconditionRequired("If-Match is required to update an existing profile")
        check_version(if_match, current.version if current else 0)
        profile = Profile(
            user_id=actor.user_id,
            display_name=draft.display_name,
            home_location=home,
            share_radius_km=draft.share_radius_km,
            tier=actor.tier,  # copied from the token for workers to read, never granted here
            version=(current.version + 1) if current else 1,
            created_at=current.created_at if current else now,
            updated_at=now,
            correlation_id=actor.correlation_id,
        )
        try:
            self.repository.save_profile(profile, current.version if current else None)
        except RetryableConflict as error:  # another first save won the race
            stored = self.repository.profile_by_user(actor.user_id)
            raise VersionMismatch(0, stored.version if stored else None) from error
        return profile
