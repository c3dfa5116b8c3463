"""The core services' repository over dicts, for service tests without DynamoDB.

FakeRepository mirrors harvest.store.repository.Repository's contract: conditional writes
check `expected_version` (VersionMismatch / NotFound for plain puts, RetryableConflict naming
the stale item for the claim transaction), creates are idempotent through IdempotencyToken
exactly like `Repository._create` (replay, IdempotencyConflict, AlreadyExists, guard
failures), and owner pages come newest first with DynamoDB-like `next_key`s. Hooks let a test
play a concurrent writer or a contended transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from harvest.domain.claim import Claim
from harvest.domain.common import iso
from harvest.domain.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InsufficientQuantity,
    NotFound,
    RetryableConflict,
    VersionMismatch,
)
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store import keys
from harvest.store.feed_index import FeedRows
from harvest.store.repository import Created, EntityPage, IdempotencyToken
from harvest.store.table import Key


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    entity_type: str
    entity_id: str


class FakeRepository:
    """The repository contract over dicts: every method of the store Protocols the core
    services declare (ListingStore, RequestStore, ClaimStore, ProfileStore, FeedStore), and
    nothing of the real Repository, so a method a service starts to need fails type checking
    (service_world.make_world hands this fake to every one of them)."""

    def __init__(self) -> None:
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
        """The FeedIndex as DynamoDB reads it: sort-key order, `limit` rows, then filters;
        with both a kind and a crop, the CropIndex: only that kind's and crop's rows."""
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
        if kind is not None and crop is not None:
            live = [r for r in live if r[0].split("#")[1] == kind and r[1].crop == crop]
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
