"""Rules of a listing's quantity and lifecycle (DESIGN §4), on the pure domain object.

A listing's remaining quantity follows its confirmed claims: it never drops below 0, never
exceeds the total, and the status flips between active and claimed with it while the listing
is open. Owners may only complete or cancel; final states are final.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from harvest.domain.common import Location, iso, new_id, parse_iso, quantity, utc_now
from harvest.domain.errors import IllegalTransition, InsufficientQuantity, ValidationFailed
from harvest.domain.listing import (
    OPEN_STATUSES,
    OWNER_TRANSITIONS,
    Listing,
    ListingDraft,
    ListingStatus,
    check_window,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HERE = Location(52.52, 13.405, "u33dc0c")
CLOSED = [ListingStatus.COMPLETED, ListingStatus.EXPIRED, ListingStatus.CANCELLED]


def make_listing(
    total: str = "10",
    remaining: str | None = None,
    status: ListingStatus = ListingStatus.ACTIVE,
    until: datetime = NOW + timedelta(days=2),
) -> Listing:
    return Listing(
        listing_id="listing-0001",
        owner_id="owner-1",
        crop="tomato",
        unit="kg",
        quantity_total=Decimal(total),
        quantity_remaining=Decimal(total if remaining is None else remaining),
        available_from=NOW - timedelta(hours=1),
        available_until=until,
        location=HERE,
        notes=None,
        status=status,
        version=1,
        created_at=NOW,
        updated_at=NOW,
        correlation_id="corr-1",
    )


# --------------------------------------------------------------------------- with_total


def test_given_reservations_when_total_raised_then_reservations_kept_and_remaining_grows() -> None:
    listing = make_listing(total="10", remaining="4")  # 6 reserved

    changed = listing.with_total(Decimal(15))

    assert changed.quantity_total == 15
    assert changed.quantity_remaining == 9
    assert changed.quantity_reserved == 6
    assert changed.status is ListingStatus.ACTIVE


def test_given_reservations_when_total_lowered_to_reserved_then_listing_becomes_claimed() -> None:
    listing = make_listing(total="10", remaining="4")

    changed = listing.with_total(Decimal(6))

    assert changed.quantity_remaining == 0
    assert changed.status is ListingStatus.CLAIMED


def test_given_reservations_when_total_below_reserved_then_insufficient_quantity() -> None:
    listing = make_listing(total="10", remaining="4")

    with pytest.raises(InsufficientQuantity, match="6 kg are already confirmed"):
        listing.with_total(Decimal("5.999"))


@pytest.mark.parametrize("total", ["0", "-1"])
def test_when_total_not_positive_then_validation_failed(total: str) -> None:
    with pytest.raises(ValidationFailed, match="greater than 0"):
        make_listing().with_total(Decimal(total))


def test_given_claimed_listing_when_total_raised_then_active_again() -> None:
    listing = make_listing(total="10", remaining="0", status=ListingStatus.CLAIMED)

    changed = listing.with_total(Decimal(12))

    assert changed.status is ListingStatus.ACTIVE
    assert changed.quantity_remaining == 2


@pytest.mark.parametrize("status", CLOSED)
def test_given_closed_listing_when_total_changed_then_illegal_transition(
    status: ListingStatus,
) -> None:
    with pytest.raises(IllegalTransition):
        make_listing(status=status).with_total(Decimal(20))


def test_when_total_changed_then_original_is_untouched() -> None:
    listing = make_listing(total="10")

    listing.with_total(Decimal(3))

    assert listing.quantity_total == 10
    assert listing.quantity_remaining == 10


# --------------------------------------------------------------------------- reserve


def test_given_active_listing_when_part_reserved_then_remaining_drops_and_stays_active() -> None:
    changed = make_listing(total="10").reserve(Decimal("2.5"))

    assert changed.quantity_remaining == Decimal("7.5")
    assert changed.quantity_total == 10
    assert changed.status is ListingStatus.ACTIVE


def test_given_active_listing_when_everything_reserved_then_claimed_at_zero() -> None:
    changed = make_listing(total="10", remaining="3").reserve(Decimal(3))

    assert changed.quantity_remaining == 0
    assert changed.status is ListingStatus.CLAIMED


def test_when_more_than_remaining_reserved_then_insufficient_and_nothing_goes_negative() -> None:
    listing = make_listing(total="10", remaining="3")

    with pytest.raises(InsufficientQuantity, match="only 3 kg remain"):
        listing.reserve(Decimal("3.001"))
    assert listing.quantity_remaining == 3


@pytest.mark.parametrize("status", [ListingStatus.CLAIMED, *CLOSED])
def test_given_listing_not_active_when_reserved_then_insufficient_quantity(
    status: ListingStatus,
) -> None:
    listing = make_listing(total="10", remaining="5", status=status)

    with pytest.raises(InsufficientQuantity, match=f"listing is {status.value}"):
        listing.reserve(Decimal(1))


# --------------------------------------------------------------------------- release


def test_given_reservation_when_released_then_remaining_restored() -> None:
    changed = make_listing(total="10", remaining="4").release(Decimal(2))

    assert changed.quantity_remaining == 6
    assert changed.status is ListingStatus.ACTIVE


def test_given_claimed_listing_when_released_then_active_again() -> None:
    listing = make_listing(total="10", remaining="0", status=ListingStatus.CLAIMED)

    changed = listing.release(Decimal(4))

    assert changed.quantity_remaining == 4
    assert changed.status is ListingStatus.ACTIVE


def test_when_more_released_than_reserved_then_remaining_capped_at_total() -> None:
    changed = make_listing(total="10", remaining="8").release(Decimal(5))

    assert changed.quantity_remaining == 10
    assert changed.quantity_reserved == 0


@pytest.mark.parametrize("status", CLOSED)
def test_given_closed_listing_when_released_then_nothing_changes(status: ListingStatus) -> None:
    listing = make_listing(total="10", remaining="4", status=status)

    assert listing.release(Decimal(3)) is listing


# --------------------------------------------------------------------------- transitions


@pytest.mark.parametrize(
    ("current", "target"),
    [(current, target) for current in ListingStatus for target in ListingStatus],
)
def test_owner_transition_follows_the_owner_table(
    current: ListingStatus, target: ListingStatus
) -> None:
    listing = make_listing(status=current)

    if target is current:
        assert listing.transition(target) is listing
    elif target in OWNER_TRANSITIONS[current]:
        moved = listing.transition(target)
        assert moved.status is target
        assert moved.quantity_remaining == listing.quantity_remaining
    else:
        with pytest.raises(IllegalTransition) as raised:
            listing.transition(target)
        assert (raised.value.current, raised.value.target) == (current.value, target.value)


def test_owner_table_lets_owners_only_complete_or_cancel_open_listings() -> None:
    for status in OPEN_STATUSES:
        assert OWNER_TRANSITIONS[status] == {ListingStatus.COMPLETED, ListingStatus.CANCELLED}
    for status in CLOSED:
        assert OWNER_TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize("status", sorted(OPEN_STATUSES))
def test_given_open_listing_when_expired_then_status_expired(status: ListingStatus) -> None:
    assert make_listing(status=status).expire().status is ListingStatus.EXPIRED


@pytest.mark.parametrize("status", CLOSED)
def test_given_closed_listing_when_expired_then_illegal_transition(status: ListingStatus) -> None:
    with pytest.raises(IllegalTransition, match="to 'expired'"):
        make_listing(status=status).expire()


# --------------------------------------------------------------------------- window, liveness


def test_when_window_ends_after_it_starts_then_accepted() -> None:
    check_window(NOW, NOW + timedelta(microseconds=1))


@pytest.mark.parametrize("until", [NOW, NOW - timedelta(seconds=1)])
def test_when_window_ends_at_or_before_start_then_validation_failed(until: datetime) -> None:
    with pytest.raises(ValidationFailed, match="availableUntil must be after availableFrom"):
        check_window(NOW, until)


def test_with_window_checks_order_and_replaces_both_ends() -> None:
    listing = make_listing()
    start, end = NOW + timedelta(days=1), NOW + timedelta(days=3)

    moved = listing.with_window(start, end)

    assert (moved.available_from, moved.available_until) == (start, end)
    with pytest.raises(ValidationFailed):
        listing.with_window(end, start)


def test_listing_is_live_only_while_active_and_before_its_end() -> None:
    until = NOW + timedelta(hours=1)
    active = make_listing(until=until)

    assert active.is_live(NOW)
    assert not active.is_live(until)
    assert not active.is_live(until + timedelta(seconds=1))
    for status in [ListingStatus.CLAIMED, *CLOSED]:
        assert not replace(active, status=status).is_live(NOW)


# --------------------------------------------------------------------------- value helpers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2.50", "2.5"), ("100", "100"), ("1E+2", "100"), ("0.0010", "0.001"), ("7", "7")],
)
def test_quantity_normalises_equal_amounts_to_one_plain_form(raw: str, expected: str) -> None:
    assert str(quantity(Decimal(raw))) == expected


def test_iso_is_utc_with_milliseconds_and_z_and_parse_iso_reads_it_back() -> None:
    moment = datetime(2025, 6, 1, 14, 30, 5, 123456, tzinfo=UTC)
    text = iso(moment)

    assert text == "2025-06-01T14:30:05.123Z"
    assert parse_iso(text) == moment.replace(microsecond=123000)
    naive_means_utc = parse_iso("2025-06-01T14:30:05")
    assert naive_means_utc == datetime(2025, 6, 1, 14, 30, 5, tzinfo=UTC)
    assert parse_iso("2025-06-01T16:30:05+02:00") == datetime(2025, 6, 1, 14, 30, 5, tzinfo=UTC)


def test_new_ids_are_unique_key_safe_and_utc_now_is_aware() -> None:
    ids = {new_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(len(i) == 32 and "#" not in i for i in ids)
    assert utc_now().utcoffset() == timedelta(0)


def test_a_draft_carries_what_the_listing_takes_as_given_and_nothing_it_computes() -> None:
    start = datetime(2026, 5, 1, 8, tzinfo=UTC)
    draft = ListingDraft(
        crop="Tomato", quantity=Decimal("2"), unit="kg", available_from=start,
        available_until=start + timedelta(days=1), lat=52.5, lon=13.4, notes="gate",
        listing_id="lst-ana-tomato",
    )  # fmt: skip
    carried = draft.carried()
    given = {"unit": "kg", "available_from": start, "available_until": start + timedelta(days=1)}
    assert given | {"notes": "gate"} == {name: carried[name] for name in [*given, "notes"]}
    assert carried.keys().isdisjoint({"crop", "listing_id", "quantity", "lat", "lon"})
