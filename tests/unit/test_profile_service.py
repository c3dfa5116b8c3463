"""ProfileService against the fake repository: defaults, versions and bounds."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from harvest.domain import geo
from harvest.domain.common import Location
from harvest.domain.errors import (
    DomainError,
    PreconditionRequired,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.profile import DEFAULT_SHARE_RADIUS_KM
from harvest.services.profiles import ProfileDraft
from support.clock import NOW
from support.service_world import (
    SEARCHER,
    World,
    make_world,
)


@pytest.fixture
def world() -> World:
    return make_world()


def test_given_no_profile_when_read_then_default_with_version_zero(world: World) -> None:
    profile = world.profiles.get(SEARCHER)

    assert profile.version == 0
    assert profile.display_name == ""
    assert profile.home_location is None
    assert profile.share_radius_km == DEFAULT_SHARE_RADIUS_KM
    assert profile.tier == SEARCHER.tier
    assert world.repo.profiles == {}


def test_given_no_profile_when_saved_without_if_match_then_created_at_version_one(
    world: World,
) -> None:
    saved = world.profiles.save(SEARCHER, ProfileDraft("Sam", 52.5, 13.4, 12.5), None)

    assert saved.version == 1
    assert saved.home_location == Location(52.5, 13.4, geo.encode(52.5, 13.4, 7))
    assert saved.share_radius_km == 12.5
    assert world.profiles.get(SEARCHER) == saved


def test_given_profile_when_saved_again_then_if_match_is_required_and_checked(
    world: World,
) -> None:
    world.profiles.save(SEARCHER, ProfileDraft("Sam"), None)
    world.clock.advance(5)

    with pytest.raises(PreconditionRequired):
        world.profiles.save(SEARCHER, ProfileDraft("Sammy"), None)
    with pytest.raises(VersionMismatch):
        world.profiles.save(SEARCHER, ProfileDraft("Sammy"), 0)
    saved = world.profiles.save(SEARCHER, ProfileDraft("Sammy"), 1)

    assert (saved.display_name, saved.version) == ("Sammy", 2)
    assert saved.created_at == NOW
    assert saved.updated_at == NOW + timedelta(seconds=5)


def test_profile_tier_is_copied_from_the_token_on_every_save(world: World) -> None:
    world.profiles.save(SEARCHER, ProfileDraft("Sam"), None)

    upgraded = world.profiles.save(replace(SEARCHER, tier="pro"), ProfileDraft("Sam"), 1)

    assert upgraded.tier == "pro"


@pytest.mark.parametrize(("lat", "lon"), [(52.5, None), (None, 13.4)])
def test_half_a_home_location_is_rejected(
    world: World, lat: float | None, lon: float | None
) -> None:
    with pytest.raises(ValidationFailed, match="both lat and lon"):
        world.profiles.save(SEARCHER, ProfileDraft("Sam", lat, lon), None)


def test_home_location_out_of_range_is_rejected(world: World) -> None:
    with pytest.raises(ValidationFailed, match="invalid location"):
        world.profiles.save(SEARCHER, ProfileDraft("Sam", 95.0, 13.4), None)


@pytest.mark.parametrize("radius", [0.0, -1.0, 50.001, math.inf, math.nan])
def test_share_radius_outside_zero_to_fifty_is_rejected(world: World, radius: float) -> None:
    with pytest.raises(ValidationFailed, match="shareRadiusKm"):
        world.profiles.save(SEARCHER, ProfileDraft("Sam", share_radius_km=radius), None)


@pytest.mark.parametrize("radius", [0.001, 50.0])
def test_share_radius_bounds_are_inclusive_of_fifty(world: World, radius: float) -> None:
    saved = world.profiles.save(SEARCHER, ProfileDraft("Sam", share_radius_km=radius), None)

    assert saved.share_radius_km == radius


def test_two_racing_first_saves_give_the_loser_a_client_error(world: World) -> None:
    def other_device_saves_first(_: str) -> None:
        world.profiles.save(SEARCHER, ProfileDraft("From phone"), None)

    world.repo.before_write = other_device_saves_first

    with pytest.raises(DomainError):
        world.profiles.save(SEARCHER, ProfileDraft("From laptop"), None)


def test_if_match_other_than_zero_on_a_never_saved_profile_is_a_version_mismatch(
    world: World,
) -> None:
    with pytest.raises(VersionMismatch):
        world.profiles.save(SEARCHER, ProfileDraft("Sam"), 3)


def test_if_match_zero_creates_a_never_saved_profile(world: World) -> None:
    assert world.profiles.save(SEARCHER, ProfileDraft("Sam"), 0).version == 1
