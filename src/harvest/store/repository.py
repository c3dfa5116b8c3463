"""The repository: every core read is a named access pattern, every write a conditional one.

Services receive a Repository and never see DynamoDB expressions. The names of the read
methods are the names in schemas/access-patterns.md and of `harvest query PATTERN`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from harvest.domain.claim import Claim
from harvest.domain.common import iso
from harvest.domain.errors import (
    AlreadyExists,
    IdempotencyConflict,
    InsufficientQuantity,
    RetryableConflict,
)
from harvest.domain.guidance import Guidance
from harvest.domain.listing import Listing
from harvest.domain.profile import Profile
from harvest.domain.request import Request
from harvest.store import feed_index, keys
from harvest.store.dynamo import values
from harvest.store.feed_index import FeedRows
from harvest.store.items import (
    ClaimItem,
    GuidanceItem,
    IdempotencyItem,
    ListingItem,
    ProfileItem,
    RequestItem,
)
from harvest.store.table import Item, Key, Page, Table, TransactionCancelled

T = TypeVar("T")
MAX_CLAIMS_READ = 1000  # claims on one listing: far above any real one, bounds a bad actor


@dataclass(frozen=True, slots=True)
class IdempotencyToken:
    """Makes a create replayable: same user + key + request hash -> the same entity."""

    user_id: str
    key: str
    request_hash: str
    expires_at: int
    correlation_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class Created[E]:
    entity: E
    replayed: bool


@dataclass(frozen=True, slots=True)
class EntityPage[E]:
    items: list[E]
    next_key: Key | None


def _page[T](page: Page, decode: Callable[[dict[str, Any]], T]) -> EntityPage[T]:
    return EntityPage([decode(item) for item in page.items], page.next_key)


class GuardFailed(Exception):
    """A condition check that came with a create failed (the guarded item changed)."""


class Repository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # ------------------------------------------------------------------ profiles
    def profile_by_user(self, user_id: str) -> Profile | None:
        item = self.table.get(keys.profile_key(user_id))
        return ProfileItem.decode(item) if item else None

    def save_profile(self, profile: Profile, expected_version: int | None) -> None:
        item = ProfileItem.encode(profile)
        if expected_version is None:
            try:
                self.table.transact([self.table.put_new_op(item)])
            except TransactionCancelled as error:
                raise RetryableConflict(["profile created concurrently"]) from error
        else:
            self.table.put_versioned(item, expected_version, "profile")

    # ------------------------------------------------------------------ listings
    def listing_by_id(self, listing_id: str) -> Listing | None:
        item = self.table.get(keys.listing_key(listing_id))
        return ListingItem.decode(item) if item else None

    def listings_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Listing]:
        return _page(self._owned(owner_id, "LISTING#", limit, start_key), ListingItem.decode)

    def live_listings_in_cell(self, cell: str) -> list[Listing]:
        found = feed_index.live_in_cell(self.table, "listing", cell)
        return [entity for entity in found if isinstance(entity, Listing)]

    def create_listing(self, listing: Listing, token: IdempotencyToken | None) -> Created[Listing]:
        return self._create(
            ListingItem.encode(listing), token, "listing", self.listing_by_id, listing
        )

    def save_listing(self, listing: Listing, expected_version: int) -> None:
        self.table.put_versioned(ListingItem.encode(listing), expected_version, "listing")

    # ------------------------------------------------------------------ requests
    def request_by_id(self, request_id: str) -> Request | None:
        item = self.table.get(keys.request_key(request_id))
        return RequestItem.decode(item) if item else None

    def requests_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Request]:
        return _page(self._owned(owner_id, "REQUEST#", limit, start_key), RequestItem.decode)

    def open_requests_in_cell(self, cell: str) -> list[Request]:
        found = feed_index.live_in_cell(self.table, "request", cell)
        return [entity for entity in found if isinstance(entity, Request)]

    # ------------------------------------------------------------------ feed
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
        """One bounded read of the FeedIndex (see store/feed_index.py)."""
        return feed_index.feed_rows(
            self.table,
            partition,
            cell=cell,
            kind=kind,
            crop=crop,
            after=after,
            until=until,
            limit=limit,
        )

    def create_request(self, request: Request, token: IdempotencyToken | None) -> Created[Request]:
        return self._create(
            RequestItem.encode(request), token, "request", self.request_by_id, request
        )

    def save_request(self, request: Request, expected_version: int) -> None:
        self.table.put_versioned(RequestItem.encode(request), expected_version, "request")

    # ------------------------------------------------------------------ claims
    def claim_by_id(self, claim_id: str) -> Claim | None:
        item = self.table.get(keys.claim_key(claim_id))
        return ClaimItem.decode(item) if item else None

    def claims_by_claimer(
        self, claimer_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]:
        """Claims a user made, newest first, strictly older than the sort key `before`."""
        return self._claims_before(
            "GSI1PK", "GSI1SK", keys.OWNER_INDEX, keys.owner_pk(claimer_id), limit, before
        )

    def claims_by_listing_owner(
        self, owner_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]:
        """Claims received on a user's listings, newest first, older than `before`."""
        return self._claims_before(
            "GSI2PK", "GSI2SK", keys.GEO_INDEX, keys.received_claims_pk(owner_id), limit, before
        )

    def _claims_before(
        self, pk: str, sk: str, index: str, partition: str, limit: int, before: str | None
    ) -> list[Claim]:
        # BETWEEN is inclusive, so the item at `before` itself comes back and is dropped.
        page = self.table.query(
            index=index,
            key_condition="#pk = :pk AND #sk BETWEEN :low AND :high",
            names={"#pk": pk, "#sk": sk},
            bound={"pk": partition, "low": "CLAIM#", "high": before or "CLAIM#\uffff"},
            limit=limit + 1,
        )
        claims = [ClaimItem.decode(item) for item in page.items if item[sk] != before]
        return claims[:limit]

    def claims_by_listing(self, owner_id: str, listing_id: str) -> list[Claim]:
        items = self.table.query_all(
            max_items=MAX_CLAIMS_READ,
            index=keys.GEO_INDEX,
            key_condition="#pk = :pk AND begins_with(#sk, :prefix)",
            names={"#pk": "GSI2PK", "#sk": "GSI2SK", "#listing": "listingId"},
            bound={
                "pk": keys.received_claims_pk(owner_id),
                "prefix": "CLAIM#",
                "listing": listing_id,
            },
            filter_expression="#listing = :listing",
        )
        return [ClaimItem.decode(item) for item in items]

    def create_claim(
        self, claim: Claim, listing: Listing, token: IdempotencyToken | None
    ) -> Created[Claim]:
        """Create a pending claim only while the listing is active with enough remaining."""
        guard = self.table.condition_op(
            keys.listing_key(listing.listing_id),
            "#status = :active AND quantityRemaining >= :wanted",
            active="active",
            wanted=claim.quantity,
        )
        try:
            return self._create(
                ClaimItem.encode(claim), token, "claim", self.claim_by_id, claim, extra=[guard]
            )
        except GuardFailed as error:
            raise InsufficientQuantity(
                "the listing changed and no longer has that much remaining"
            ) from error

    def save_claim_transition(
        self,
        claim: Claim,
        expected_claim_version: int,
        listing: Listing | None,
        expected_listing_version: int | None,
    ) -> None:
        """Move a claim and (when stock changes) its listing in one transaction."""
        operations = [self.table.put_versioned_op(ClaimItem.encode(claim), expected_claim_version)]
        if listing is not None and expected_listing_version is not None:
            operations.append(
                self.table.put_versioned_op(ListingItem.encode(listing), expected_listing_version)
            )
        try:
            self.table.transact(operations)
        except TransactionCancelled as error:
            raise RetryableConflict(
                ["claim" if index == 0 else "listing" for index in error.failed]
            ) from error

    # ------------------------------------------------------------------ internals
    # ------------------------------------------------------------------ guidance
    def guidance_by_id(self, guidance_id: str) -> Guidance | None:
        item = self.table.get(keys.guidance_key(guidance_id))
        return GuidanceItem.decode(item) if item else None

    def guidance_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Guidance]:
        return _page(self._owned(owner_id, "GUIDANCE#", limit, start_key), GuidanceItem.decode)

    def create_guidance(
        self, guidance: Guidance, token: IdempotencyToken | None, budget: int, expires_at: int
    ) -> Created[Guidance]:
        """The request, its idempotency record and one more use of the owner's daily budget,
        in one transaction: GuardFailed when the budget is used up (nothing is written)."""
        day = guidance.created_at.date().isoformat()
        usage = keys.usage_key(guidance.owner_id, "guidance", day)
        count = {
            "Update": {
                "TableName": self.table.name,
                "Key": {name: {"S": value} for name, value in usage.items()},
                "UpdateExpression": "SET #type = :type, #day = :day, updatedAt = :now, "
                "expiresAt = :expires, createdAt = if_not_exists(createdAt, :now) "
                "ADD #count :one, #version :one",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :budget",
                "ExpressionAttributeNames": {
                    "#type": "type", "#day": "day", "#count": "count", "#version": "version",
                },
                "ExpressionAttributeValues": values(
                    type="usage", day=day, now=iso(guidance.created_at), expires=expires_at,
                    one=1, budget=budget,
                ),
            }
        }  # fmt: skip
        return self._create(
            GuidanceItem.encode(guidance),
            token,
            "guidance",
            self.guidance_by_id,
            guidance,
            extra=[count],
        )

    def _owned(self, user_id: str, prefix: str, limit: int, start_key: Key | None) -> Page:
        return self.table.query(
            index=keys.OWNER_INDEX,
            key_condition="#pk = :pk AND begins_with(#sk, :prefix)",
            names={"#pk": "GSI1PK", "#sk": "GSI1SK"},
            bound={"pk": keys.owner_pk(user_id), "prefix": prefix},
            limit=limit,
            start_key=start_key,
        )

    def _create(
        self,
        item: Item,
        token: IdempotencyToken | None,
        entity_type: str,
        load: Callable[[str], T | None],
        entity: T,
        extra: list[dict[str, Any]] | None = None,
    ) -> Created[T]:
        if token is None:  # not replayable: a retried POST creates a second entity
            try:
                self.table.transact([self.table.put_new_op(item), *(extra or [])])
            except TransactionCancelled as error:
                if 0 in error.failed:
                    raise AlreadyExists(f"a {entity_type} with this id already exists") from error
                raise GuardFailed(entity_type) from error
            return Created(entity, replayed=False)
        key = keys.idempotency_key(token.user_id, token.key)
        record = IdempotencyItem(
            pk=key["PK"],
            sk="IDEMPOTENCY",
            type="idempotency",
            user_id=token.user_id,
            idempotency_key=token.key,
            request_hash=token.request_hash,
            entity_type=entity_type,  # type: ignore[arg-type]  # one of the model's four
            entity_id=item[f"{entity_type}Id"],
            expires_at=token.expires_at,
            version=1,
            correlation_id=token.correlation_id,
            created_at=iso(token.now),
            updated_at=iso(token.now),
        ).to_item()
        try:
            self.table.transact(
                [self.table.put_new_op(item), self.table.put_new_op(record), *(extra or [])]
            )
        except TransactionCancelled as error:
            if 1 in error.failed:
                return self._replay(token, entity_type, load)
            if 0 in error.failed:
                raise AlreadyExists(f"a {entity_type} with this id already exists") from error
            raise GuardFailed(entity_type) from error
        return Created(entity, replayed=False)

    def _replay(
        self, token: IdempotencyToken, entity_type: str, load: Callable[[str], T | None]
    ) -> Created[T]:
        found = self.table.get(keys.idempotency_key(token.user_id, token.key))
        if found is None:  # expired between the write and this read: let the caller retry
            raise RetryableConflict(["idempotency record vanished"])
        record = IdempotencyItem.from_item(found)
        if record.request_hash != token.request_hash or record.entity_type != entity_type:
            raise IdempotencyConflict(
                "this idempotency key was already used with a different request"
            )
        original = load(record.entity_id)
        if original is None:
            raise RetryableConflict(["replayed entity not found"])
        return Created(original, replayed=True)
