"""MatchingService over fakes of its two Protocols (core reads, match sets)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest

from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.matching import MAX_MATCHES, Side
from harvest.domain.profile import Profile
from harvest.domain.request import Request
from harvest.services.matching import MatchingService
from harvest.store.matches import MatchSet, MatchSetConflict
from support.fake_repository import FakeRepository
from support.feed_world import NOW, listing, request

HOME = (52.5200, 13.4050)


class FakeMatchSets:
    """MatchSets over a dict, with the conditional write's contract; `conflicts` makes the
    next saves fail as if another worker had written first."""

    def __init__(self) -> None:
        self.sets: dict[tuple[Side, str], MatchSet] = {}
        self.writes = 0
        self.conflicts = 0

    def match_sets(self, side: Side, entity_ids: Iterable[str]) -> dict[str, MatchSet]:
        return {i: self.sets[(side, i)] for i in entity_ids if (side, i) in self.sets}

    def save(self, match_set: MatchSet, correlation_id: str, now: datetime | None = None) -> int:
        stored = self.sets.get((match_set.side, match_set.entity_id))
        if self.conflicts or (stored.version if stored else 0) != match_set.version:
            self.conflicts = max(0, self.conflicts - 1)
            if stored is not None:  # the concurrent writer's version
                self.sets[(match_set.side, match_set.entity_id)] = replace(
                    stored, version=stored.version + 1
                )
            raise MatchSetConflict("concurrent")
        self.writes += 1
        self.sets[(match_set.side, match_set.entity_id)] = replace(
            match_set, version=match_set.version + 1
        )
        return match_set.version + 1

    def ids(self, side: Side, entity_id: str) -> list[str]:
        stored = self.sets.get((side, entity_id))
        return [entry.other_id for entry in stored.entries] if stored else []


@pytest.fixture
def core() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def sets() -> FakeMatchSets:
    return FakeMatchSets()


@pytest.fixture
def service(core: FakeRepository, sets: FakeMatchSets) -> MatchingService:
    return MatchingService(core, sets, lambda: NOW)


def north(km: float) -> tuple[float, float]:
    return HOME[0] + km / 111.2, HOME[1]


def add(core: FakeRepository, *entities: Listing | Request) -> None:
    for entity in entities:
        if isinstance(entity, Listing):
            core.listings[entity.listing_id] = entity
        else:
            core.requests[entity.request_id] = entity


def test_a_new_listing_near_an_open_request_matches_both_ways(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, request("request-01", *HOME), listing("listing-01", *north(1)))

    outcome = service.refresh(Side.LISTING, "listing-01", "c-1")

    assert sets.ids(Side.LISTING, "listing-01") == ["request-01"]
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-01"]
    assert outcome.sets_written == 2
    entry = sets.sets[(Side.REQUEST, "request-01")].entries[0]
    assert entry.cell == core.listings["listing-01"].location.geohash[:5]


def test_a_new_request_finds_the_live_listings_nearby(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, listing("listing-01", *north(1)), listing("listing-02", *north(3)))
    add(core, listing("listing-03", *north(1), crop="apple"), request("request-01", *HOME))

    service.refresh(Side.REQUEST, "request-01", "c-1")

    assert sets.ids(Side.REQUEST, "request-01") == ["listing-01", "listing-02"]
    assert sets.ids(Side.LISTING, "listing-02") == ["request-01"]
    assert sets.ids(Side.LISTING, "listing-03") == []


def test_replays_and_redeliveries_write_nothing(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, request("request-01", *HOME), listing("listing-01", *north(1)))
    service.refresh(Side.LISTING, "listing-01", "c-1")
    writes = sets.writes

    again = service.refresh(Side.LISTING, "listing-01", "c-1")
    service.refresh(Side.REQUEST, "request-01", "c-2")

    assert sets.writes == writes
    assert again.sets_written == 0


def test_the_request_owners_share_radius_bounds_the_match(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    core.profiles["searcher"] = Profile("searcher", "S", None, 2.0, "free", 1, NOW, NOW, "p")
    add(core, request("request-01", *HOME), listing("listing-01", *north(8)))

    service.refresh(Side.LISTING, "listing-01", "c-1")
    assert sets.ids(Side.REQUEST, "request-01") == []

    core.profiles["searcher"] = replace(core.profiles["searcher"], share_radius_km=20.0)
    service.refresh(Side.LISTING, "listing-01", "c-2")
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-01"]


def test_a_share_radius_that_grows_or_shrinks_rematches_the_owners_requests_at_once(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    core.profiles["searcher"] = Profile("searcher", "S", None, 2.0, "free", 1, NOW, NOW, "p")
    near, far = listing("listing-near", *north(1)), listing("listing-far", *north(8))
    add(core, request("request-01", *HOME), near, far)
    service.refresh(Side.REQUEST, "request-01", "c-1")
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-near"]

    # Grows: the far listing matches without any write of the request or the listing.
    core.profiles["searcher"] = replace(core.profiles["searcher"], share_radius_km=20.0)
    service.refresh_owner("searcher", "c-2")
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-near", "listing-far"]
    assert sets.ids(Side.LISTING, "listing-far") == ["request-01"]

    # Shrinks: both sides drop the pair that is no longer within the radius.
    core.profiles["searcher"] = replace(core.profiles["searcher"], share_radius_km=2.0)
    service.refresh_owner("searcher", "c-3")
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-near"]
    assert sets.ids(Side.LISTING, "listing-far") == []
    assert sets.ids(Side.LISTING, "listing-near") == ["request-01"]

    writes = sets.writes
    service.refresh_owner("searcher", "c-4")  # unchanged radius: nothing to write
    assert sets.writes == writes


def test_a_listing_set_beyond_a_shrunk_radius_drops_a_request_it_held_alone(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    # The far listing holds the request, but the request's own set is full of nearer ones:
    # only the widened offer reaches the far listing's set.
    core.profiles["searcher"] = Profile("searcher", "S", None, 20.0, "free", 1, NOW, NOW, "p")
    nearer = [listing(f"listing-{n:02d}", *north(0.5 + n * 0.05)) for n in range(MAX_MATCHES)]
    far = listing("listing-far", *north(8))
    add(core, request("request-01", *HOME), *nearer, far)
    service.refresh(Side.REQUEST, "request-01", "c-1")
    service.refresh(Side.LISTING, "listing-far", "c-2")
    assert "listing-far" not in sets.ids(Side.REQUEST, "request-01")
    assert sets.ids(Side.LISTING, "listing-far") == ["request-01"]

    core.profiles["searcher"] = replace(core.profiles["searcher"], share_radius_km=2.0)
    service.refresh_owner("searcher", "c-3")

    assert sets.ids(Side.LISTING, "listing-far") == []


def test_a_listing_that_closes_leaves_every_set_it_was_in(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, request("request-01", *HOME), request("request-02", *north(2)))
    add(core, listing("listing-01", *north(1)))
    service.refresh(Side.LISTING, "listing-01", "c-1")
    assert sets.ids(Side.REQUEST, "request-02") == ["listing-01"]

    core.listings["listing-01"] = replace(
        core.listings["listing-01"], status=ListingStatus.CANCELLED, version=2
    )
    service.refresh(Side.LISTING, "listing-01", "c-2")

    assert sets.ids(Side.LISTING, "listing-01") == []
    assert sets.ids(Side.REQUEST, "request-01") == []
    assert sets.ids(Side.REQUEST, "request-02") == []


def _fill(core: FakeRepository, service: MatchingService) -> None:
    """A request with MAX_MATCHES + 1 listings 1..11 km away, matched."""
    add(core, request("request-01", *HOME))
    core.profiles["searcher"] = Profile("searcher", "S", None, 20.0, "free", 1, NOW, NOW, "p")
    for number in range(1, MAX_MATCHES + 2):
        add(core, listing(f"listing-{number:02d}", *north(number * 1.5)))
    service.refresh(Side.REQUEST, "request-01", "c-0")


def test_a_candidate_that_cannot_enter_a_full_set_costs_no_write(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    _fill(core, service)
    held = sets.ids(Side.REQUEST, "request-01")
    assert len(held) == MAX_MATCHES
    assert "listing-11" not in held
    version = sets.sets[(Side.REQUEST, "request-01")].version

    add(core, listing("listing-far", *north(19)))
    service.refresh(Side.LISTING, "listing-far", "c-1")

    assert sets.sets[(Side.REQUEST, "request-01")].version == version
    assert sets.ids(Side.LISTING, "listing-far") == ["request-01"]


def test_a_nearer_listing_pushes_out_the_worst_and_a_gap_is_refilled(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    _fill(core, service)
    add(core, listing("listing-00", *north(0.2)))
    service.refresh(Side.LISTING, "listing-00", "c-1")
    held = sets.ids(Side.REQUEST, "request-01")
    assert held[0] == "listing-00"
    assert len(held) == MAX_MATCHES
    assert "listing-10" not in held

    core.listings["listing-00"] = replace(
        core.listings["listing-00"], quantity_remaining=Decimal(0), status=ListingStatus.CLAIMED
    )
    service.refresh(Side.LISTING, "listing-00", "c-2")

    assert sets.ids(Side.REQUEST, "request-01") == [f"listing-{n:02d}" for n in range(1, 11)]


def test_a_concurrent_write_is_read_again_and_decided_again(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, request("request-01", *HOME), listing("listing-01", *north(1)))
    sets.conflicts = 2

    outcome = service.refresh(Side.LISTING, "listing-01", "c-1")

    assert outcome.conflicts == 2
    assert sets.ids(Side.REQUEST, "request-01") == ["listing-01"]
    assert sets.ids(Side.LISTING, "listing-01") == ["request-01"]


def test_a_set_that_keeps_changing_fails_the_message_rather_than_guessing(
    core: FakeRepository, sets: FakeMatchSets, service: MatchingService
) -> None:
    add(core, request("request-01", *HOME), listing("listing-01", *north(1)))
    sets.conflicts = 100
    with pytest.raises(MatchSetConflict):
        service.refresh(Side.LISTING, "listing-01", "c-1")


def test_an_entity_that_is_gone_changes_nothing(
    sets: FakeMatchSets, service: MatchingService
) -> None:
    outcome = service.refresh(Side.REQUEST, "request-xx", "c-1")
    assert outcome.sets_read == 0
    assert sets.sets == {}
