"""Service rules against an in-memory repository, a fixed clock and the real crop catalog.

FakeRepository mirrors harvest.store.repository.Repository's contract without DynamoDB:
conditional writes check `expected_version` (VersionMismatch / NotFound for plain puts,
RetryableConflict naming the stale item for the claim transaction), creates are idempotent
through IdempotencyToken exactly like `Repository._create` (replay, IdempotencyConflict,
AlreadyExists, guard failures), and owner pages come newest first with DynamoDB-like
`next_key`s. Hooks let a test play a concurrent writer or a contended transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvest.domain import geo
from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Actor, Location, iso
from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import (
    AlreadyExists,
    DomainError,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InsufficientQuantity,
    InvalidCursor,
    NotFound,
    PreconditionRequired,
    RetryableConflict,
    ServiceUnavailable,
    UnitNotAllowed,
    UnknownCrop,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import DEFAULT_SHARE_RADIUS_KM, Profile
from harvest.domain.request import Request, RequestStatus
from harvest.services import feed
from harvest.services.claims import ClaimDraft, ClaimRole, ClaimService
from harvest.services.feed import FeedKind, FeedQuery, FeedService, partition_cells
from harvest.services.listings import ListingChanges, ListingDraft, ListingService
from harvest.services.profiles import ProfileDraft, ProfileService
from harvest.services.requests import RequestChanges, RequestDraft, RequestService
from harvest.services.support import (
    CAS_ATTEMPTS,
    MAX_PAGE_SIZE,
    ServiceContext,
    fingerprint,
    page_size,
    with_cas_retries,
)
from harvest.store import keys
from harvest.store.feed_index import FeedRows
from harvest.store.repository import Created, EntityPage, IdempotencyToken, Repository
from harvest.store.table import Key

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BERLIN = (52.52, 13.405)
CURSOR_KEY = b"test-cursor-signing-key-32-bytes"
CATALOG = load_catalog()

GROWER = Actor("grower-1", "free", "corr-grower")
SEARCHER = Actor("searcher-1", "supporter", "corr-searcher")
OTHER = Actor("other-1", "pro", "corr-other")


# =========================================================================== fakes


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    entity_type: str
    entity_id: str


class FakeRepository(Repository):
    """The repository contract over dicts. Only what the services call is implemented."""

    def __init__(self) -> None:  # no table: nothing here talks to DynamoDB
        self.profiles: dict[str, Profile] = {}
        self.listings: dict[str, Listing] = {}
        self.requests: dict[str, Request] = {}
        self.claims: dict[str, Claim] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        # Reasons to fail the next save_claim_transition calls with, one list per call.
        self.transition_failures: list[list[str]] = []
        self.transition_attempts = 0
        # Runs before a write touches the store: a test's concurrent writer.
        self.before_write: Callable[[str], None] | None = None
        self.cells_read: list[tuple[str, str]] = []

    def _about_to_write(self, operation: str) -> None:
        hook, self.before_write = self.before_write, None  # a concurrent writer acts once
        if hook is not None:
            hook(operation)

    # ------------------------------------------------------------------ profiles
    def profile_by_user(self, user_id: str) -> Profile | None:
        return self.profiles.get(user_id)

    def save_profile(self, profile: Profile, expected_version: int | None) -> None:
        self._about_to_write("save_profile")
        if expected_version is None:
            if profile.user_id in self.profiles:
                raise RetryableConflict(["profile created concurrently"])
        else:
            _check_version(self.profiles.get(profile.user_id), expected_version, "profile")
        self.profiles[profile.user_id] = profile

    # ------------------------------------------------------------------ listings
    def listing_by_id(self, listing_id: str) -> Listing | None:
        return self.listings.get(listing_id)

    def listings_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Listing]:
        owned = [item for item in self.listings.values() if item.owner_id == owner_id]
        return _owner_page(owned, "listing", lambda e: e.listing_id, limit, start_key)

    def create_listing(self, listing: Listing, token: IdempotencyToken | None) -> Created[Listing]:
        return self._store_new(self.listings, listing.listing_id, listing, token, "listing")

    def save_listing(self, listing: Listing, expected_version: int) -> None:
        self._about_to_write("save_listing")
        _check_version(self.listings.get(listing.listing_id), expected_version, "listing")
        self.listings[listing.listing_id] = listing

    # ------------------------------------------------------------------ requests
    def request_by_id(self, request_id: str) -> Request | None:
        return self.requests.get(request_id)

    def requests_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Request]:
        owned = [item for item in self.requests.values() if item.owner_id == owner_id]
        return _owner_page(owned, "request", lambda e: e.request_id, limit, start_key)

    def feed_rows(
        self,
        partition: str,
        *,
        cell: str | None = None,
        kind: str | None = None,
        crop: str | None = None,
        after: str | None = None,
        until: str | None = None,
        limit: int,
    ) -> FeedRows:
        """The FeedIndex as DynamoDB reads it: sort-key order, `limit` rows, then filters."""
        self.cells_read.append((kind or "any", cell or partition))
        live: list[tuple[str, Listing | Request]] = [
            (keys.feed_sk(x.location.geohash, "listing", x.listing_id), x)
            for x in self.listings.values()
            if x.status is ListingStatus.ACTIVE
        ] + [
            (keys.feed_sk(x.location.geohash, "request", x.request_id), x)
            for x in self.requests.values()
            if x.status is RequestStatus.OPEN
        ]
        prefix = keys.feed_cell_prefix(cell, kind) if cell else partition
        rows = sorted(
            (row for row in live if row[1].location.geohash.startswith(partition)),
            key=lambda row: row[0],
        )
        rows = [r for r in rows if r[0].startswith(prefix) and (after is None or r[0] > after)]
        rows = [r for r in rows if until is None or r[0] <= until]
        read = rows[:limit]
        kept = [
            (sk, e)
            for sk, e in read
            if (kind is None or sk.split("#")[1] == kind) and (crop is None or e.crop == crop)
        ]
        return FeedRows(kept, read[-1][0] if len(rows) > limit else None, len(read))

    def create_request(self, request: Request, token: IdempotencyToken | None) -> Created[Request]:
        return self._store_new(self.requests, request.request_id, request, token, "request")

    def save_request(self, request: Request, expected_version: int) -> None:
        self._about_to_write("save_request")
        _check_version(self.requests.get(request.request_id), expected_version, "request")
        self.requests[request.request_id] = request

    # ------------------------------------------------------------------ claims
    def claim_by_id(self, claim_id: str) -> Claim | None:
        return self.claims.get(claim_id)

    def claims_by_claimer(
        self, claimer_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]:
        return _claims_before(
            [c for c in self.claims.values() if c.claimer_id == claimer_id], limit, before
        )

    def claims_by_listing_owner(
        self, owner_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]:
        return _claims_before(
            [c for c in self.claims.values() if c.owner_id == owner_id], limit, before
        )

    def create_claim(
        self, claim: Claim, listing: Listing, token: IdempotencyToken | None
    ) -> Created[Claim]:
        def guard() -> bool:
            stored = self.listings.get(listing.listing_id)
            return (
                stored is not None
                and stored.status is ListingStatus.ACTIVE
                and stored.quantity_remaining >= claim.quantity
            )

        return self._store_new(self.claims, claim.claim_id, claim, token, "claim", guard)

    def save_claim_transition(
        self,
        claim: Claim,
        expected_claim_version: int,
        listing: Listing | None,
        expected_listing_version: int | None,
    ) -> None:
        self.transition_attempts += 1
        self._about_to_write("save_claim_transition")
        if self.transition_failures:
            raise RetryableConflict(self.transition_failures.pop(0))
        failed: list[str] = []
        stored_claim = self.claims.get(claim.claim_id)
        if stored_claim is None or stored_claim.version != expected_claim_version:
            failed.append("claim")
        if listing is not None and expected_listing_version is not None:
            stored_listing = self.listings.get(listing.listing_id)
            if stored_listing is None or stored_listing.version != expected_listing_version:
                failed.append("listing")
        if failed:
            raise RetryableConflict(failed)
        self.claims[claim.claim_id] = claim
        if listing is not None:
            self.listings[listing.listing_id] = listing

    # ------------------------------------------------------------------ internals
    def _store_new[E](
        self,
        store: dict[str, E],
        entity_id: str,
        entity: E,
        token: IdempotencyToken | None,
        entity_type: str,
        guard: Callable[[], bool] | None = None,
    ) -> Created[E]:
        self._about_to_write(f"create_{entity_type}")
        # All conditions of the real transaction are evaluated together; a failed
        # idempotency record wins (replay), then an existing id, then the guard.
        if token is not None and (token.user_id, token.key) in self.idempotency:
            record = self.idempotency[(token.user_id, token.key)]
            if record.request_hash != token.request_hash or record.entity_type != entity_type:
                raise IdempotencyConflict("this idempotency key was already used")
            original = store.get(record.entity_id)
            if original is None:
                raise RetryableConflict(["replayed entity not found"])
            return Created(original, replayed=True)
        if entity_id in store:
            raise AlreadyExists(f"a {entity_type} with this id already exists")
        if guard is not None and not guard():
            # as Repository.create_claim: a failed listing guard is a domain refusal
            raise InsufficientQuantity("the listing changed and no longer has that much remaining")
        store[entity_id] = entity
        if token is not None:
            self.idempotency[(token.user_id, token.key)] = IdempotencyRecord(
                token.request_hash, entity_type, entity_id
            )
        return Created(entity, replayed=False)


def _check_version(current: Listing | Request | Profile | None, expected: int, what: str) -> None:
    if current is None:
        raise NotFound(f"{what} not found")
    if current.version != expected:
        raise VersionMismatch(expected, current.version)


def _owner_page[E: (Listing, Request)](
    owned: list[E], entity: str, id_of: Callable[[E], str], limit: int, start_key: Key | None
) -> EntityPage[E]:
    def sort_key(item: E) -> str:
        return keys.owned_sk(entity, iso(item.created_at), id_of(item))

    ordered = sorted(owned, key=sort_key, reverse=True)  # newest first, like the real query
    if start_key is not None:
        ordered = [item for item in ordered if sort_key(item) < start_key["GSI1SK"]]
    page = ordered[:limit]
    next_key: Key | None = None
    if len(page) == limit:  # DynamoDB stops at Limit and hands out a key, even at the end
        last = page[-1]
        next_key = {
            "PK": f"{entity.upper()}#{id_of(last)}",
            "SK": entity.upper(),
            "GSI1PK": keys.owner_pk(last.owner_id),
            "GSI1SK": sort_key(last),
        }
    return EntityPage(page, next_key)


def claim_sort_key(claim: Claim) -> str:
    return keys.owned_sk("claim", iso(claim.created_at), claim.claim_id)


def _claims_before(claims: list[Claim], limit: int, before: str | None) -> list[Claim]:
    ordered = sorted(claims, key=claim_sort_key, reverse=True)
    return [c for c in ordered if before is None or claim_sort_key(c) < before][:limit]


# =========================================================================== fixtures


@dataclass
class World:
    repo: FakeRepository
    clock: FakeClock
    context: ServiceContext
    listings: ListingService
    requests: RequestService
    claims: ClaimService
    profiles: ProfileService
    feed: FeedService


@pytest.fixture
def world() -> World:
    repo, clock = FakeRepository(), FakeClock()
    context = ServiceContext(cursors=CursorCodec(CURSOR_KEY), clock=clock)
    return World(
        repo,
        clock,
        context,
        ListingService(repo, CATALOG, context),
        RequestService(repo, CATALOG, context),
        ClaimService(repo, context),
        ProfileService(repo, context),
        FeedService(repo, context),
    )


def listing_draft(**overrides: object) -> ListingDraft:
    draft = ListingDraft(
        crop="tomato",
        quantity=Decimal("10"),
        unit="kg",
        available_from=NOW,
        available_until=NOW + timedelta(days=3),
        lat=BERLIN[0],
        lon=BERLIN[1],
        notes="ripe",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


def request_draft(**overrides: object) -> RequestDraft:
    draft = RequestDraft(
        crop="apple",
        quantity=Decimal("4"),
        unit="kg",
        needed_by=NOW + timedelta(days=2),
        lat=BERLIN[0],
        lon=BERLIN[1],
        notes="for the food bank",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


def offer(world: World, actor: Actor = GROWER, **overrides: object) -> Listing:
    return world.listings.create(actor, listing_draft(**overrides)).entity


# =========================================================================== support


def test_page_size_defaults_and_clamps_to_one_to_max() -> None:
    assert page_size(None) == 20
    assert page_size(None, default=5) == 5
    assert page_size(-3) == 1
    assert page_size(7) == 7
    assert page_size(10_000) == MAX_PAGE_SIZE


def test_fingerprint_is_stable_and_tells_kinds_and_bodies_apart() -> None:
    draft = listing_draft()

    assert fingerprint("listing", draft) == fingerprint("listing", listing_draft())
    assert fingerprint("listing", draft) != fingerprint("request", draft)
    assert fingerprint("listing", draft) != fingerprint("listing", listing_draft(notes="x"))
    assert fingerprint("k", {"a": 1}) == fingerprint("k", {"a": 1})


def test_with_cas_retries_returns_first_success_after_conflicts() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RetryableConflict(["listing"])
        return "done"

    assert with_cas_retries(attempt) == "done"
    assert len(calls) == 3


def test_with_cas_retries_gives_up_with_service_unavailable() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise RetryableConflict(["listing"])

    with pytest.raises(ServiceUnavailable, match="contention"):
        with_cas_retries(attempt)
    assert len(calls) == CAS_ATTEMPTS


def test_with_cas_retries_lets_domain_errors_through_at_once() -> None:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        raise InsufficientQuantity("gone")

    with pytest.raises(InsufficientQuantity):
        with_cas_retries(attempt)
    assert len(calls) == 1


# =========================================================================== listings


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


# =========================================================================== requests


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


# =========================================================================== claims


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


# =========================================================================== profiles


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


# =========================================================================== feed


def destination(lat: float, lon: float, bearing_deg: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along a bearing on geo's sphere."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    theta, delta = math.radians(bearing_deg), km / geo.EARTH_RADIUS_KM
    sin_phi2 = math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta)
    phi2 = math.asin(max(-1.0, min(1.0, sin_phi2)))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1),
        math.cos(delta) - math.sin(phi1) * math.sin(phi2),
    )
    return math.degrees(phi2), (math.degrees(lambda2) + 540.0) % 360.0 - 180.0


FEED_PLACE = Location(*BERLIN, geo.encode(*BERLIN, 7))
FEED_LISTING = Listing(
    "template", GROWER.user_id, "tomato", "kg", Decimal(5), Decimal(5), NOW,
    NOW + timedelta(days=2), FEED_PLACE, None, ListingStatus.ACTIVE, 1, NOW, NOW, "corr",
)  # fmt: skip
FEED_REQUEST = Request(
    "template", SEARCHER.user_id, "tomato", "kg", Decimal(2), NOW + timedelta(days=2),
    FEED_PLACE, None, RequestStatus.OPEN, 1, NOW, NOW, "corr",
)  # fmt: skip


def place(
    world: World,
    km: float,
    bearing: float = 45.0,
    *,
    kind: str = "listing",
    crop: str = "tomato",
    centre: tuple[float, float] = BERLIN,
    until: datetime = NOW + timedelta(days=2),
    status: str | None = None,
) -> str:
    """Store a listing or request `km` from `centre` straight into the fake; return its id."""
    lat, lon = destination(*centre, bearing, km)
    location = Location(lat, lon, geo.encode(lat, lon, 7))
    entity_id = f"{kind}-{len(world.repo.listings) + len(world.repo.requests):04d}"
    if kind == "listing":
        world.repo.listings[entity_id] = replace(
            FEED_LISTING,
            listing_id=entity_id,
            crop=crop,
            available_until=until,
            location=location,
            status=ListingStatus(status or "active"),
        )
    else:
        world.repo.requests[entity_id] = replace(
            FEED_REQUEST,
            request_id=entity_id,
            crop=crop,
            needed_by=until,
            location=location,
            status=RequestStatus(status or "open"),
        )
    return entity_id


def entity_ids(items: list[feed.FeedItem]) -> list[str]:
    return [
        i.entity.listing_id if isinstance(i.entity, Listing) else i.entity.request_id for i in items
    ]


def published_km(world: World, entity_id: str, centre: tuple[float, float] = BERLIN) -> float:
    entity = world.repo.listings.get(entity_id) or world.repo.requests[entity_id]
    return geo.haversine_km(*centre, *geo.approximate(entity.location.lat, entity.location.lon))


def test_feed_keeps_what_is_published_within_the_radius_nearest_first(world: World) -> None:
    # Exact points 2, 6 and 9 km away; what counts is the centre of the published cell.
    far = place(world, 9.0, 10)
    near = place(world, 2.0, 200)
    request = place(world, 6.0, 300, kind="request")
    outside = place(world, 16.0, 90)
    place(world, 40.0, 0)  # far outside
    assert published_km(world, far) < 12.0 < published_km(world, outside)

    page = world.feed.nearby(FeedQuery(*BERLIN, radius_km=12.0), None, None)

    assert entity_ids(page.items) == [near, request, far]
    assert [i.kind for i in page.items] == ["listing", "request", "listing"]
    assert [i.distance_km for i in page.items] == [
        published_km(world, near),
        published_km(world, request),
        published_km(world, far),
    ]
    assert page.next_cursor is None


def test_feed_filters_by_crop_and_kind(world: World) -> None:
    tomato = place(world, 1.0)
    place(world, 1.5, crop="apple")
    tomato_request = place(world, 2.0, kind="request")

    crop_only = world.feed.nearby(FeedQuery(*BERLIN, crop="tomato"), None, None)
    listings_only = world.feed.nearby(FeedQuery(*BERLIN, kind=FeedKind.LISTING), None, None)
    world.repo.cells_read.clear()
    requests_only = world.feed.nearby(FeedQuery(*BERLIN, kind=FeedKind.REQUEST), None, None)

    assert entity_ids(crop_only.items) == [tomato, tomato_request]
    assert all(i.kind == "listing" for i in listings_only.items)
    assert len(listings_only.items) == 2
    assert entity_ids(requests_only.items) == [tomato_request]
    assert {kind for kind, _ in world.repo.cells_read} == {"request"}


def test_feed_leaves_out_expired_and_not_live_entities(world: World) -> None:
    live = place(world, 1.0)
    place(world, 1.0, 90, until=NOW - timedelta(minutes=1))  # still indexed, but over
    place(world, 1.0, 180, kind="request", until=NOW)
    place(world, 1.0, 270, status="claimed")
    place(world, 2.0, 270, kind="request", status="matched")

    page = world.feed.nearby(FeedQuery(*BERLIN), None, None)

    assert entity_ids(page.items) == [live]


def test_feed_pages_continue_exactly_after_the_last_item(world: World) -> None:
    placed = {
        place(world, km, bearing)
        for km, bearing in [
            (0.5, 0),
            (1.0, 90),
            (1.0, 270),
            (2.0, 10),
            (3.0, 20),
            (4.0, 30),
            (4.5, 40),
        ]
    }
    placed.add(place(world, 1.0, 90, kind="request"))  # same distance as a listing

    seen: list[str] = []
    cursor: str | None = None
    distances: list[float] = []
    for _ in range(10):
        page = world.feed.nearby(FeedQuery(*BERLIN), 3, cursor)
        assert len(page.items) <= 3
        seen += entity_ids(page.items)
        distances += [i.distance_km for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(seen) == sorted(placed)
    assert len(seen) == len(set(seen))
    assert distances == sorted(distances)


def test_feed_cursor_is_bound_to_the_query(world: World) -> None:
    for km in (1.0, 2.0, 3.0):
        place(world, km)
    cursor = world.feed.nearby(FeedQuery(*BERLIN), 1, None).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        world.feed.nearby(FeedQuery(*BERLIN, radius_km=6.0), 1, cursor)
    with pytest.raises(InvalidCursor):
        world.feed.nearby(FeedQuery(*BERLIN, crop="tomato"), 1, cursor)


@pytest.mark.parametrize("radius", [0.0, -1.0, 50.0001, 500.0])
def test_feed_radius_must_be_in_zero_to_fifty(world: World, radius: float) -> None:
    with pytest.raises(ValidationFailed, match="radiusKm"):
        world.feed.nearby(FeedQuery(*BERLIN, radius_km=radius), None, None)


def test_feed_rejects_an_invalid_centre(world: World) -> None:
    with pytest.raises(ValidationFailed, match="invalid location"):
        world.feed.nearby(FeedQuery(100.0, 0.0), None, None)


def test_feed_with_fifty_km_radius_finds_items_far_out_in_every_direction(world: World) -> None:
    # 46 km: a published cell centre is at most ~3.5 km from the exact point
    placed = {place(world, 46.0, bearing) for bearing in range(0, 360, 30)}

    page = world.feed.nearby(FeedQuery(*BERLIN, radius_km=50.0), 100, None)

    assert set(entity_ids(page.items)) == placed
    assert all(len(cell) == 4 for _, cell in world.repo.cells_read)


# Centre chosen so that the precision-4 row starting at exactly 45.0 deg begins just beyond
# the feed's flat-earth box (radius / 111.32 km per degree) but inside the true circle.
EDGE_CENTRE = (45.0 - 0.4494, 10.0)


def test_feed_radius_decides_by_the_published_point_to_the_half_kilometre(world: World) -> None:
    listing = place(world, 20.0, 33.0)
    distance = published_km(world, listing)
    just_enough = math.ceil(distance * 2) / 2  # radii are read in 0.5 km steps

    found = world.feed.nearby(FeedQuery(*BERLIN, radius_km=just_enough), None, None)
    short = world.feed.nearby(FeedQuery(*BERLIN, radius_km=just_enough - 0.5), None, None)

    assert entity_ids(found.items) == [listing]
    assert short.items == []


@pytest.mark.parametrize(
    ("asked", "searched"), [(0.001, 1.0), (1.0, 1.0), (1.01, 1.5), (4.9, 5.0), (50.0, 50.0)]
)
def test_radius_has_a_floor_and_half_kilometre_steps(asked: float, searched: float) -> None:
    assert feed.effective_radius(asked) == searched


# =========================================================================== partition_cells


@pytest.mark.parametrize(
    ("lat", "lon", "radius"),
    [(52.52, 13.405, 1.0), (0.0, 0.0, 5.0), (-33.9, 151.2, 10.0), (0.0, 179.99, 2.0)],
)
def test_small_radius_uses_the_geo_cover_unchanged(lat: float, lon: float, radius: float) -> None:
    precision, cells = geo.covering_cells(lat, lon, radius)

    assert precision >= keys.GEO_PARTITION_PRECISION
    assert partition_cells(lat, lon, radius) == cells


def test_fifty_km_radius_expands_to_sorted_distinct_precision_four_cells() -> None:
    cells = partition_cells(*BERLIN, 50.0)

    assert geo.covering_cells(*BERLIN, 50.0)[0] < keys.GEO_PARTITION_PRECISION
    assert all(len(cell) == keys.GEO_PARTITION_PRECISION for cell in cells)
    assert cells == sorted(set(cells))
    assert geo.encode(*BERLIN, 4) in cells
    assert len(cells) <= 64  # "a few dozen queries at most"


def test_fifty_km_radius_across_the_antimeridian_covers_both_sides() -> None:
    cells = partition_cells(0.0, 179.9, 50.0)
    west_lat, west_lon = destination(0.0, 179.9, 90.0, 45.0)

    assert west_lon < 0
    assert geo.encode(west_lat, west_lon, 4) in cells
    assert geo.encode(0.0, 179.9, 4) in cells


@given(
    lat=st.floats(min_value=-89.0, max_value=89.0),
    lon=st.floats(min_value=-180.0, max_value=180.0),
    radius=st.floats(min_value=0.5, max_value=50.0),
    bearing=st.floats(min_value=0.0, max_value=360.0),
    fraction=st.floats(min_value=0.0, max_value=0.9999),
)
def test_every_point_well_inside_the_radius_lies_in_a_returned_cell(
    lat: float, lon: float, radius: float, bearing: float, fraction: float
) -> None:
    point = destination(lat, lon, bearing, radius * fraction)
    fine = geo.encode(*point, 12)

    cells = partition_cells(lat, lon, radius)

    assert any(fine.startswith(cell) for cell in cells)
    assert all(len(cell) >= keys.GEO_PARTITION_PRECISION for cell in cells)


@pytest.mark.parametrize(
    ("centre", "bearing", "km"),
    [(EDGE_CENTRE, 0.0, 49.99), ((89.5, 0.0), 30.0, 49.0), ((70.0, 19.7797), 88.76, 49.99)],
    ids=["mid-latitude-edge", "near-pole", "high-latitude-edge"],
)
def test_every_point_within_the_radius_lies_in_a_returned_cell(
    centre: tuple[float, float], bearing: float, km: float
) -> None:
    point = destination(*centre, bearing, km)
    assert geo.haversine_km(*centre, *point) < 50.0

    assert geo.encode(*point, 4) in partition_cells(*centre, 50.0)
