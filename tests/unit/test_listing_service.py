"""ListingService against the fake repository (support.fake_repository), a fixed clock
and the real crop catalog."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from harvest.domain import geo
from harvest.domain.claim import ClaimStatus
from harvest.domain.errors import (
    AlreadyExists,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InsufficientQuantity,
    InvalidCursor,
    NotFound,
    UnitNotAllowed,
    UnknownCrop,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.listing import Listing, ListingStatus
from harvest.services.claims import ClaimDraft
from harvest.services.listings import ListingChanges
from support.clock import NOW
from support.service_world import (
    BERLIN,
    GROWER,
    OTHER,
    SEARCHER,
    World,
    listing_draft,
    make_world,
    offer,
)


@pytest.fixture
def world() -> World:
    return make_world()


def test_given_valid_draft_when_created_then_active_with_full_remaining_and_fine_geohash(
    world: World,
) -> None:
    created = world.listings.create(GROWER, listing_draft(quantity=Decimal("2.50")))

    listing = created.entity
    assert not created.replayed
    assert listing.status is ListingStatus.ACTIVE
    assert listing.quantity_total == listing.quantity_remaining == Decimal("2.5")
    assert str(listing.quantity_total) == "2.5"
    assert listing.owner_id == GROWER.user_id
    assert listing.version == 1
    assert listing.created_at == listing.updated_at == NOW
    assert listing.correlation_id == GROWER.correlation_id
    assert listing.location.geohash == geo.encode(*BERLIN, 7)
    assert world.repo.listings[listing.listing_id] == listing


def test_given_unknown_crop_when_created_then_unknown_crop_with_suggestions(world: World) -> None:
    with pytest.raises(UnknownCrop) as raised:
        world.listings.create(GROWER, listing_draft(crop="tomatos"))

    assert "tomato" in raised.value.suggestions
    assert world.repo.listings == {}


def test_given_unit_not_used_for_crop_when_created_then_unit_not_allowed(world: World) -> None:
    with pytest.raises(UnitNotAllowed) as raised:
        world.listings.create(GROWER, listing_draft(unit="bunch"))

    assert "kg" in raised.value.allowed


def test_given_window_ending_before_it_starts_when_created_then_validation_failed(
    world: World,
) -> None:
    with pytest.raises(ValidationFailed, match="after availableFrom"):
        world.listings.create(
            GROWER,
            listing_draft(
                available_from=NOW + timedelta(days=2), available_until=NOW + timedelta(days=1)
            ),
        )


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(hours=1)])
def test_given_available_until_not_in_future_when_created_then_validation_failed(
    world: World, until: datetime
) -> None:
    with pytest.raises(ValidationFailed, match="in the future"):
        world.listings.create(
            GROWER, listing_draft(available_from=until - timedelta(days=1), available_until=until)
        )


def test_available_until_may_be_one_year_ahead_but_not_more(world: World) -> None:
    assert offer(world, available_until=NOW + timedelta(days=365)).status is ListingStatus.ACTIVE

    with pytest.raises(ValidationFailed, match="within a year"):
        offer(world, available_until=NOW + timedelta(days=365, seconds=1))


@pytest.mark.parametrize(("lat", "lon"), [(91.0, 0.0), (0.0, -181.0), (math.nan, 0.0)])
def test_given_invalid_point_when_created_then_validation_failed(
    world: World, lat: float, lon: float
) -> None:
    with pytest.raises(ValidationFailed, match="invalid location"):
        offer(world, lat=lat, lon=lon)


def test_given_idempotency_key_when_same_create_replayed_then_original_returned(
    world: World,
) -> None:
    first = world.listings.create(GROWER, listing_draft(), idempotency_key="key-1")
    world.clock.advance(30)

    again = world.listings.create(GROWER, listing_draft(), idempotency_key="key-1")

    assert again.replayed
    assert again.entity == first.entity
    assert len(world.repo.listings) == 1


def test_given_idempotency_key_when_reused_with_another_body_then_conflict(world: World) -> None:
    world.listings.create(GROWER, listing_draft(), idempotency_key="key-1")

    with pytest.raises(IdempotencyConflict):
        world.listings.create(GROWER, listing_draft(quantity=Decimal(11)), idempotency_key="key-1")
    assert len(world.repo.listings) == 1


def test_idempotency_keys_are_per_user(world: World) -> None:
    world.listings.create(GROWER, listing_draft(), idempotency_key="key-1")

    other = world.listings.create(OTHER, listing_draft(), idempotency_key="key-1")

    assert not other.replayed
    assert len(world.repo.listings) == 2


def test_given_client_id_when_create_repeated_then_replayed_without_a_key(world: World) -> None:
    draft = listing_draft(listing_id="client-chosen-id")

    first = world.listings.create(GROWER, draft)
    again = world.listings.create(GROWER, draft)

    assert first.entity.listing_id == "client-chosen-id"
    assert (first.replayed, again.replayed) == (False, True)
    with pytest.raises(IdempotencyConflict):
        world.listings.create(GROWER, replace(draft, notes="changed"))


def test_given_someone_elses_id_when_created_then_already_exists(world: World) -> None:
    world.listings.create(GROWER, listing_draft(listing_id="taken-id-1"))

    with pytest.raises(AlreadyExists):
        world.listings.create(OTHER, listing_draft(listing_id="taken-id-1"))


def test_get_unknown_listing_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.listings.get("no-such-listing")


def test_given_listing_when_owner_changes_everything_then_saved_with_next_version(
    world: World,
) -> None:
    listing = offer(world)
    world.clock.advance(60)
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=5)

    updated = world.listings.update(
        GROWER,
        listing.listing_id,
        ListingChanges(
            quantity=Decimal("12.0"), available_from=start, available_until=end, notes="sweet"
        ),
        if_match=1,
    )

    assert updated.quantity_total == updated.quantity_remaining == 12
    assert (updated.available_from, updated.available_until) == (start, end)
    assert updated.notes == "sweet"
    assert updated.version == 2
    assert updated.updated_at == NOW + timedelta(seconds=60)
    assert updated.created_at == NOW
    assert world.repo.listings[listing.listing_id] == updated


def test_changing_only_one_end_of_the_window_keeps_the_other(world: World) -> None:
    listing = offer(world)
    end = NOW + timedelta(days=9)

    updated = world.listings.update(
        GROWER, listing.listing_id, ListingChanges(available_until=end), None
    )

    assert (updated.available_from, updated.available_until) == (listing.available_from, end)
    with pytest.raises(ValidationFailed):
        world.listings.update(
            GROWER, listing.listing_id, ListingChanges(available_from=end + timedelta(1)), None
        )


def test_clear_notes_removes_them_and_wins_over_new_notes(world: World) -> None:
    listing = offer(world, notes="old")

    cleared = world.listings.update(
        GROWER, listing.listing_id, ListingChanges(notes="new", clear_notes=True), None
    )

    assert cleared.notes is None


def test_given_no_effective_change_when_updated_then_nothing_is_written(world: World) -> None:
    listing = offer(world, notes="same")

    unchanged = world.listings.update(
        GROWER, listing.listing_id, ListingChanges(notes="same", quantity=Decimal("10.00")), 1
    )

    assert unchanged == listing
    assert world.repo.listings[listing.listing_id].version == 1


def test_given_reserved_stock_when_total_lowered_below_it_then_insufficient_quantity(
    world: World,
) -> None:
    listing = offer(world)
    claim = world.claims.create(SEARCHER, listing.listing_id, ClaimDraft(Decimal(6))).entity
    world.claims.transition(GROWER, claim.claim_id, ClaimStatus.CONFIRMED, None)

    with pytest.raises(InsufficientQuantity):
        world.listings.update(GROWER, listing.listing_id, ListingChanges(quantity=Decimal(5)), None)
    updated = world.listings.update(
        GROWER, listing.listing_id, ListingChanges(quantity=Decimal(6)), None
    )
    assert updated.status is ListingStatus.CLAIMED


@pytest.mark.parametrize("status", [ListingStatus.COMPLETED, ListingStatus.CANCELLED])
def test_owner_may_complete_or_cancel_through_update(world: World, status: ListingStatus) -> None:
    listing = offer(world)

    updated = world.listings.update(GROWER, listing.listing_id, ListingChanges(status=status), 1)

    assert updated.status is status
    with pytest.raises(IllegalTransition):
        world.listings.update(
            GROWER, listing.listing_id, ListingChanges(status=ListingStatus.ACTIVE), 2
        )


def test_given_stale_if_match_when_updated_then_version_mismatch_names_current(
    world: World,
) -> None:
    listing = offer(world)
    world.listings.update(GROWER, listing.listing_id, ListingChanges(notes="v2"), 1)

    with pytest.raises(VersionMismatch) as raised:
        world.listings.update(GROWER, listing.listing_id, ListingChanges(notes="v3"), 1)

    assert (raised.value.expected, raised.value.current) == (1, 2)
    assert world.repo.listings[listing.listing_id].notes == "v2"


def test_given_concurrent_writer_between_read_and_write_then_version_mismatch(
    world: World,
) -> None:
    listing = offer(world)

    def sneak_in(_: str) -> None:
        stored = world.repo.listings[listing.listing_id]
        world.repo.listings[listing.listing_id] = replace(stored, notes="theirs", version=2)

    world.repo.before_write = sneak_in
    with pytest.raises(VersionMismatch):
        world.listings.update(GROWER, listing.listing_id, ListingChanges(notes="mine"), None)
    assert world.repo.listings[listing.listing_id].notes == "theirs"


def test_given_non_owner_when_updating_or_cancelling_then_forbidden(world: World) -> None:
    listing = offer(world)

    with pytest.raises(Forbidden):
        world.listings.update(OTHER, listing.listing_id, ListingChanges(notes="mine"), None)
    with pytest.raises(Forbidden):
        world.listings.cancel(OTHER, listing.listing_id, None)
    assert world.repo.listings[listing.listing_id] == listing


def test_given_listing_when_cancelled_then_cancelled_and_second_cancel_is_a_no_op(
    world: World,
) -> None:
    listing = offer(world)

    cancelled = world.listings.cancel(GROWER, listing.listing_id, 1)
    again = world.listings.cancel(GROWER, listing.listing_id, 2)

    assert cancelled.status is ListingStatus.CANCELLED
    assert cancelled.version == 2
    assert again == cancelled
    with pytest.raises(VersionMismatch):
        world.listings.cancel(GROWER, listing.listing_id, 1)


def test_given_completed_listing_when_cancelled_then_illegal_transition(world: World) -> None:
    listing = offer(world)
    world.listings.update(
        GROWER, listing.listing_id, ListingChanges(status=ListingStatus.COMPLETED), None
    )

    with pytest.raises(IllegalTransition):
        world.listings.cancel(GROWER, listing.listing_id, None)


def test_update_cannot_push_available_until_beyond_a_year(world: World) -> None:
    listing = offer(world)

    with pytest.raises(ValidationFailed, match="within a year"):
        world.listings.update(
            GROWER,
            listing.listing_id,
            ListingChanges(available_until=NOW + timedelta(days=3650)),
            None,
        )


def test_list_own_pages_newest_first_without_gaps_or_duplicates(world: World) -> None:
    made = []
    for _ in range(7):
        made.append(offer(world))
        world.clock.advance(1)
    offer(world, actor=OTHER)

    seen: list[Listing] = []
    cursor: str | None = None
    for _ in range(10):
        page = world.listings.list_own(GROWER, 3, cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == sorted(made, key=lambda x: x.created_at, reverse=True)


def test_list_own_cursor_of_another_user_is_invalid(world: World) -> None:
    for _ in range(3):
        offer(world)
    cursor = world.listings.list_own(GROWER, 1, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        world.listings.list_own(OTHER, 1, cursor)
    with pytest.raises(InvalidCursor):
        world.listings.list_own(GROWER, 1, cursor[:-2])
