"""RequestService against the fake repository, a fixed clock and the real crop catalog."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from harvest.domain import geo
from harvest.domain.errors import (
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    UnitNotAllowed,
    UnknownCrop,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.request import RequestStatus
from harvest.services.requests import RequestChanges
from support.clock import NOW
from support.service_world import (
    BERLIN,
    OTHER,
    SEARCHER,
    World,
    listing_draft,
    make_world,
    request_draft,
)


@pytest.fixture
def world() -> World:
    return make_world()


def test_given_valid_draft_when_request_created_then_open(world: World) -> None:
    created = world.requests.create(SEARCHER, request_draft(quantity=Decimal("4.000")))

    request = created.entity
    assert request.status is RequestStatus.OPEN
    assert str(request.quantity) == "4"
    assert request.owner_id == SEARCHER.user_id
    assert request.location.geohash == geo.encode(*BERLIN, 7)
    assert world.requests.get(request.request_id) == request


def test_request_create_validates_crop_unit_place_and_needed_by(world: World) -> None:
    with pytest.raises(UnknownCrop):
        world.requests.create(SEARCHER, request_draft(crop="aple"))
    with pytest.raises(UnitNotAllowed):
        world.requests.create(SEARCHER, request_draft(unit="litre"))
    with pytest.raises(ValidationFailed, match="invalid location"):
        world.requests.create(SEARCHER, request_draft(lat=-91.0))
    with pytest.raises(ValidationFailed, match="neededBy"):
        world.requests.create(SEARCHER, request_draft(needed_by=NOW))
    assert world.repo.requests == {}


def test_request_create_is_idempotent_by_key_and_by_client_id(world: World) -> None:
    first = world.requests.create(SEARCHER, request_draft(), idempotency_key="k-1")
    replay = world.requests.create(SEARCHER, request_draft(), idempotency_key="k-1")
    by_id = request_draft(request_id="my-request-1")
    world.requests.create(SEARCHER, by_id)

    assert replay.replayed
    assert replay.entity == first.entity
    assert world.requests.create(SEARCHER, by_id).replayed
    with pytest.raises(IdempotencyConflict):
        world.requests.create(SEARCHER, request_draft(notes="else"), idempotency_key="k-1")
    assert len(world.repo.requests) == 2


def test_an_idempotency_key_used_for_a_listing_cannot_create_a_request(world: World) -> None:
    world.listings.create(SEARCHER, listing_draft(), idempotency_key="shared")

    with pytest.raises(IdempotencyConflict):
        world.requests.create(SEARCHER, request_draft(), idempotency_key="shared")


def test_given_request_when_owner_updates_then_changes_saved(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity
    later = NOW + timedelta(days=5)

    updated = world.requests.update(
        SEARCHER,
        request.request_id,
        RequestChanges(quantity=Decimal("1.50"), unit="lb", needed_by=later, notes="n"),
        1,
    )

    assert (updated.quantity, updated.unit, updated.needed_by) == (Decimal("1.5"), "lb", later)
    assert updated.notes == "n"
    assert updated.version == 2


def test_request_moved_to_a_count_unit_needs_a_whole_quantity(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity
    halves = RequestChanges(quantity=Decimal("1.5"), unit="each")

    with pytest.raises(ValidationFailed, match="whole number of each"):
        world.requests.update(SEARCHER, request.request_id, halves, None)

    assert world.requests.get(request.request_id).version == request.version


def test_request_update_of_unit_alone_keeps_quantity_and_is_checked(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity

    updated = world.requests.update(SEARCHER, request.request_id, RequestChanges(unit="lb"), None)

    assert (updated.quantity, updated.unit) == (request.quantity, "lb")
    with pytest.raises(UnitNotAllowed):
        world.requests.update(SEARCHER, request.request_id, RequestChanges(unit="bunch"), None)


def test_request_update_needed_by_in_past_is_rejected(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity

    with pytest.raises(ValidationFailed, match="neededBy"):
        world.requests.update(
            SEARCHER, request.request_id, RequestChanges(needed_by=NOW - timedelta(1)), None
        )


def test_request_notes_can_be_cleared(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft(notes="x")).entity

    updated = world.requests.update(
        SEARCHER, request.request_id, RequestChanges(clear_notes=True), None
    )

    assert updated.notes is None


def test_request_status_follows_its_lifecycle_through_update(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity

    matched = world.requests.update(
        SEARCHER, request.request_id, RequestChanges(status=RequestStatus.MATCHED), None
    )
    closed = world.requests.update(
        SEARCHER, request.request_id, RequestChanges(status=RequestStatus.CLOSED), None
    )

    assert (matched.status, closed.status) == (RequestStatus.MATCHED, RequestStatus.CLOSED)
    with pytest.raises(IllegalTransition):
        world.requests.update(
            SEARCHER, request.request_id, RequestChanges(status=RequestStatus.OPEN), None
        )
    with pytest.raises(IllegalTransition, match="edited"):
        world.requests.update(
            SEARCHER, request.request_id, RequestChanges(quantity=Decimal(2)), None
        )


def test_request_update_and_cancel_check_owner_and_version(world: World) -> None:
    request = world.requests.create(SEARCHER, request_draft()).entity

    with pytest.raises(Forbidden):
        world.requests.update(OTHER, request.request_id, RequestChanges(notes="x"), None)
    with pytest.raises(Forbidden):
        world.requests.cancel(OTHER, request.request_id, None)
    with pytest.raises(VersionMismatch):
        world.requests.update(SEARCHER, request.request_id, RequestChanges(notes="x"), 7)
    with pytest.raises(NotFound):
        world.requests.cancel(SEARCHER, "no-such-request", None)

    cancelled = world.requests.cancel(SEARCHER, request.request_id, 1)
    assert cancelled.status is RequestStatus.CANCELLED
    assert world.requests.cancel(SEARCHER, request.request_id, 2) == cancelled


def test_request_list_own_pages_through_everything_once(world: World) -> None:
    made = []
    for _ in range(5):
        made.append(world.requests.create(SEARCHER, request_draft()).entity)
        world.clock.advance(1)

    first = world.requests.list_own(SEARCHER, 2, None)
    second = world.requests.list_own(SEARCHER, 2, first.next_cursor)
    third = world.requests.list_own(SEARCHER, 2, second.next_cursor)

    assert first.items + second.items + third.items == made[::-1]
    assert third.next_cursor is None
