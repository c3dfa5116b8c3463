"""ClaimService against the fake repository: claims, their transitions and the listing
stock they move, under concurrent writers and contended transactions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Actor
from harvest.domain.errors import (
    Forbidden,
    IllegalTransition,
    InsufficientQuantity,
    InvalidCursor,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.listing import Listing, ListingStatus
from harvest.services.claims import ClaimDraft, ClaimRole
from harvest.services.support import (
    CAS_ATTEMPTS,
)
from support.clock import NOW
from support.fake_repository import claim_sort_key
from support.service_world import (
    GROWER,
    OTHER,
    SEARCHER,
    World,
    make_world,
    offer,
    request_draft,
)


@pytest.fixture
def world() -> World:
    return make_world()


def claim_on(
    world: World, listing: Listing, amount: str = "2", actor: Actor = SEARCHER, **kw: object
) -> Claim:
    draft = replace(ClaimDraft(Decimal(amount)), **kw)  # type: ignore[arg-type]
    return world.claims.create(actor, listing.listing_id, draft).entity


def test_given_live_listing_when_claimed_then_pending_claim_and_stock_untouched(
    world: World,
) -> None:
    listing = offer(world)

    claim = claim_on(world, listing, "2.50")

    assert claim.status is ClaimStatus.PENDING
    assert claim.quantity == Decimal("2.5")
    assert (claim.claimer_id, claim.owner_id) == (SEARCHER.user_id, GROWER.user_id)
    assert claim.unit == listing.unit
    assert world.repo.listings[listing.listing_id] == listing


def test_claiming_own_listing_is_forbidden(world: World) -> None:
    listing = offer(world)

    with pytest.raises(Forbidden, match="own listing"):
        claim_on(world, listing, actor=GROWER)


def test_claiming_more_than_remains_is_insufficient_quantity(world: World) -> None:
    listing = offer(world, quantity=Decimal(3))

    with pytest.raises(InsufficientQuantity, match="only 3 kg remain"):
        claim_on(world, listing, "3.001")
    assert claim_on(world, listing, "3").quantity == 3


def test_claiming_a_listing_past_its_window_or_not_active_is_insufficient_quantity(
    world: World,
) -> None:
    ending = offer(world, available_until=NOW + timedelta(hours=1))
    cancelled = offer(world)
    world.listings.cancel(GROWER, cancelled.listing_id, None)
    world.clock.advance(3600)

    with pytest.raises(InsufficientQuantity):
        claim_on(world, ending)
    with pytest.raises(InsufficientQuantity, match="cancelled listing"):
        claim_on(world, cancelled)


def test_claiming_unknown_listing_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.claims.create(SEARCHER, "no-such-listing", ClaimDraft(Decimal(1)))


def test_claim_may_point_at_own_request_only(world: World) -> None:
    listing = offer(world)
    mine = world.requests.create(SEARCHER, request_draft()).entity
    theirs = world.requests.create(OTHER, request_draft()).entity

    claim = claim_on(world, listing, request_id=mine.request_id)

    assert claim.request_id == mine.request_id
    with pytest.raises(ValidationFailed, match="not one of your requests"):
        claim_on(world, listing, request_id=theirs.request_id)
    with pytest.raises(ValidationFailed, match="not one of your requests"):
        claim_on(world, listing, request_id="no-such-request")


def test_claim_create_is_idempotent_per_listing(world: World) -> None:
    listing = offer(world)
    draft = ClaimDraft(Decimal(1), claim_id="my-claim-01")

    first = world.claims.create(SEARCHER, listing.listing_id, draft)
    again = world.claims.create(SEARCHER, listing.listing_id, draft)
    keyed = world.claims.create(SEARCHER, listing.listing_id, ClaimDraft(Decimal(1)), "key")
    keyed_again = world.claims.create(SEARCHER, listing.listing_id, ClaimDraft(Decimal(1)), "key")

    assert (first.replayed, again.replayed) == (False, True)
    assert again.entity == first.entity
    assert keyed_again.replayed
    assert keyed_again.entity == keyed.entity
    assert len(world.repo.claims) == 2


def test_given_listing_drained_concurrently_when_claim_written_then_insufficient_quantity(
    world: World,
) -> None:
    listing = offer(world, quantity=Decimal(3))

    def drain(_: str) -> None:
        stored = world.repo.listings[listing.listing_id]
        world.repo.listings[listing.listing_id] = stored.reserve(Decimal(3))

    world.repo.before_write = drain
    with pytest.raises(InsufficientQuantity, match="listing changed"):
        claim_on(world, listing, "1")
    assert world.repo.claims == {}


def test_claim_is_visible_to_its_parties_only(world: World) -> None:
    claim = claim_on(world, offer(world))

    assert world.claims.get(SEARCHER, claim.claim_id) == claim
    assert world.claims.get(GROWER, claim.claim_id) == claim
    with pytest.raises(Forbidden):
        world.claims.get(OTHER, claim.claim_id)
    with pytest.raises(NotFound):
        world.claims.get(SEARCHER, "no-such-claim")


def test_confirming_reserves_stock_and_draining_marks_listing_claimed(world: World) -> None:
    listing = offer(world, quantity=Decimal(5))
    first, second = claim_on(world, listing, "2"), claim_on(world, listing, "3")

    confirmed = world.claims.transition(GROWER, first.claim_id, ClaimStatus.CONFIRMED, 1)
    assert confirmed.version == 2
    assert world.repo.listings[listing.listing_id].quantity_remaining == 3
    world.claims.transition(GROWER, second.claim_id, ClaimStatus.CONFIRMED, None)

    stored = world.repo.listings[listing.listing_id]
    assert stored.quantity_remaining == 0
    assert stored.status is ListingStatus.CLAIMED
    assert stored.version == 3
    assert world.repo.claims[first.claim_id] == confirmed


def test_cancelling_or_no_show_after_confirmation_releases_stock(world: World) -> None:
    listing = offer(world, quantity=Decimal(5))
    first, second = claim_on(world, listing, "2"), claim_on(world, listing, "3")
    for claim in (first, second):
        world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, None)

    world.claims.transition(SEARCHER, first.claim_id, ClaimStatus.CANCELLED, None)
    assert world.repo.listings[listing.listing_id].quantity_remaining == 2
    assert world.repo.listings[listing.listing_id].status is ListingStatus.ACTIVE
    world.claims.transition(GROWER, second.claim_id, ClaimStatus.NO_SHOW, None)

    assert world.repo.listings[listing.listing_id].quantity_remaining == 5


def test_completing_keeps_the_reservation_and_leaves_the_listing_alone(world: World) -> None:
    listing = offer(world, quantity=Decimal(5))
    claim = claim_on(world, listing, "2")
    world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, None)
    before = world.repo.listings[listing.listing_id]

    done = world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.COMPLETED, None)

    assert done.status is ClaimStatus.COMPLETED
    assert world.repo.listings[listing.listing_id] == before


def test_releasing_on_a_closed_listing_does_not_touch_it(world: World) -> None:
    listing = offer(world, quantity=Decimal(5))
    claim = claim_on(world, listing, "2")
    world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, None)
    closed = world.listings.cancel(GROWER, listing.listing_id, None)

    world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.CANCELLED, None)

    assert world.repo.listings[listing.listing_id] == closed


def test_confirming_more_than_now_remains_is_insufficient_quantity(world: World) -> None:
    listing = offer(world, quantity=Decimal(5))
    first, second = claim_on(world, listing, "4"), claim_on(world, listing, "4")
    world.claims.transition(GROWER, first.claim_id, ClaimStatus.CONFIRMED, None)

    with pytest.raises(InsufficientQuantity):
        world.claims.transition(GROWER, second.claim_id, ClaimStatus.CONFIRMED, None)
    assert world.repo.claims[second.claim_id].status is ClaimStatus.PENDING


def test_claim_transition_checks_party_lifecycle_and_version(world: World) -> None:
    claim = claim_on(world, offer(world))

    with pytest.raises(Forbidden, match="only the listing owner"):
        world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.CONFIRMED, None)
    with pytest.raises(Forbidden):
        world.claims.transition(OTHER, claim.claim_id, ClaimStatus.CANCELLED, None)
    with pytest.raises(IllegalTransition):
        world.claims.transition(GROWER, claim.claim_id, ClaimStatus.COMPLETED, None)
    with pytest.raises(VersionMismatch):
        world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, 5)
    assert world.repo.claims[claim.claim_id] == claim


def test_moving_a_claim_to_its_current_status_is_a_no_op(world: World) -> None:
    claim = claim_on(world, offer(world))

    same = world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.PENDING, 1)

    assert same == claim
    assert world.repo.transition_attempts == 0


def test_given_listing_contended_once_when_confirming_then_retried_and_reserved_once(
    world: World,
) -> None:
    listing = offer(world, quantity=Decimal(5))
    claim = claim_on(world, listing, "2")
    world.repo.transition_failures = [["listing"]]

    confirmed = world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, 1)

    assert confirmed.status is ClaimStatus.CONFIRMED
    assert world.repo.transition_attempts == 2
    assert world.repo.listings[listing.listing_id].quantity_remaining == 3


def test_given_a_competing_confirm_wins_the_race_then_the_loser_rereads_and_gets_409(
    world: World,
) -> None:
    listing = offer(world, quantity=Decimal(5))
    mine, theirs = claim_on(world, listing, "4"), claim_on(world, listing, "3", actor=OTHER)

    def competitor(_: str) -> None:
        world.claims.transition(GROWER, theirs.claim_id, ClaimStatus.CONFIRMED, None)

    world.repo.before_write = competitor
    with pytest.raises(InsufficientQuantity):
        world.claims.transition(GROWER, mine.claim_id, ClaimStatus.CONFIRMED, None)

    stored = world.repo.listings[listing.listing_id]
    assert stored.quantity_remaining == 2  # no overdraft: only the winner's 3 are reserved
    assert world.repo.claims[mine.claim_id].status is ClaimStatus.PENDING


def test_given_claim_changed_concurrently_then_if_match_caller_gets_version_mismatch(
    world: World,
) -> None:
    claim = claim_on(world, offer(world))
    world.repo.transition_failures = [["claim"]]

    with pytest.raises(VersionMismatch) as raised:
        world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.CANCELLED, 1)

    assert raised.value.current == 1
    assert world.repo.transition_attempts == 1


def test_given_claim_changed_concurrently_then_caller_without_if_match_is_retried(
    world: World,
) -> None:
    claim = claim_on(world, offer(world))
    world.repo.transition_failures = [["claim"]]

    moved = world.claims.transition(SEARCHER, claim.claim_id, ClaimStatus.CANCELLED, None)

    assert moved.status is ClaimStatus.CANCELLED
    assert world.repo.transition_attempts == 2


def test_given_endless_contention_when_transitioning_then_service_unavailable(
    world: World,
) -> None:
    claim = claim_on(world, offer(world))
    world.repo.transition_failures = [["listing"]] * 50

    with pytest.raises(ServiceUnavailable):
        world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, None)
    assert world.repo.transition_attempts == CAS_ATTEMPTS
    assert world.repo.claims[claim.claim_id].status is ClaimStatus.PENDING


@pytest.fixture
def busy_user_claims(world: World) -> list[Claim]:
    """SEARCHER makes claims on GROWER's and OTHER's listings and receives claims on their own
    listing; some share a timestamp so the id breaks ties."""
    growers_listing = offer(world, quantity=Decimal(100))
    others_listing = offer(world, actor=OTHER, quantity=Decimal(100))
    searchers_listing = offer(world, actor=SEARCHER, quantity=Decimal(100))
    made: list[Claim] = []
    for step in range(13):
        target = (growers_listing, others_listing, searchers_listing)[step % 3]
        actor = SEARCHER if target is not searchers_listing else (GROWER, OTHER)[step % 2]
        made.append(claim_on(world, target, "1", actor=actor))
        if step % 4 != 1:
            world.clock.advance(1)
    claim_on(world, growers_listing, "1", actor=OTHER)  # not SEARCHER's business
    return made


@pytest.mark.parametrize("limit", [1, 2, 5, 13, 50])
def test_list_own_all_merges_made_and_received_newest_first_across_pages(
    world: World, busy_user_claims: list[Claim], limit: int
) -> None:
    expected = sorted(busy_user_claims, key=claim_sort_key, reverse=True)

    seen: list[Claim] = []
    cursor: str | None = None
    for _ in range(20):
        page = world.claims.list_own(SEARCHER, ClaimRole.ALL, limit, cursor)
        assert len(page.items) <= limit
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [c.claim_id for c in seen] == [c.claim_id for c in expected]


@pytest.mark.parametrize(
    ("role", "mine"),
    [(ClaimRole.MADE, "claimer_id"), (ClaimRole.RECEIVED, "owner_id")],
)
def test_list_own_by_role_keeps_only_that_side(
    world: World, busy_user_claims: list[Claim], role: ClaimRole, mine: str
) -> None:
    expected = [
        c
        for c in sorted(busy_user_claims, key=claim_sort_key, reverse=True)
        if getattr(c, mine) == SEARCHER.user_id
    ]

    first = world.claims.list_own(SEARCHER, role, 3, None)
    rest = world.claims.list_own(SEARCHER, role, 100, first.next_cursor)

    assert first.items + rest.items == expected
    assert rest.next_cursor is None


def test_list_own_cursor_is_bound_to_user_and_role(
    world: World, busy_user_claims: list[Claim]
) -> None:
    cursor = world.claims.list_own(SEARCHER, ClaimRole.ALL, 2, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        world.claims.list_own(SEARCHER, ClaimRole.MADE, 2, cursor)
    with pytest.raises(InvalidCursor):
        world.claims.list_own(GROWER, ClaimRole.ALL, 2, cursor)
