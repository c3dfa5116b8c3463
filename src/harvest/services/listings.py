"""Listing rules: create (idempotent), read, owner-only changes, cancel, list own."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from harvest.domain import geo
from harvest.domain.common import Actor, Location, new_id, quantity
from harvest.domain.crops import CropCatalog, require_whole
from harvest.domain.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    ValidationFailed,
)
from harvest.domain.listing import (
    OPEN_STATUSES,
    Listing,
    ListingStatus,
    check_window,
)

# Re-exported (the X as X form is mypy's explicit export): the service's input, declared with
# the entity so that a field the owner gives is written in domain/listing.py only.
from harvest.domain.listing import ListingDraft as ListingDraft  # noqa: PLC0414
from harvest.services.support import (
    OwnedPage,
    ServiceContext,
    check_version,
    idempotency_token,
    owned_page,
    stamped,
    with_cas_retries,
)
from harvest.store.repository import Created, EntityPage, IdempotencyToken
from harvest.store.table import Key

MAX_AVAILABILITY = timedelta(days=365)


class ListingStore(Protocol):
    """What ListingService reads and writes (harvest.store.repository.Repository)."""

    def listing_by_id(self, listing_id: str) -> Listing | None: ...
    def listings_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Listing]: ...
    def create_listing(
        self, listing: Listing, token: IdempotencyToken | None
    ) -> Created[Listing]: ...
    def save_listing(self, listing: Listing, expected_version: int) -> None: ...


@dataclass(frozen=True, slots=True)
class ListingChanges:
    quantity: Decimal | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    notes: str | None = None
    clear_notes: bool = False
    status: ListingStatus | None = None


class ListingService:
    def __init__(self, repository: ListingStore, catalog: CropCatalog, context: ServiceContext):
        self.repository = repository
        self.catalog = catalog
        self.context = context

    def create(
        self, actor: Actor, draft: ListingDraft, idempotency_key: str | None = None
    ) -> Created[Listing]:
        crop = self.catalog.check_quantity(draft.crop, draft.quantity, draft.unit)
        geo.validate_point(draft.lat, draft.lon)
        check_window(draft.available_from, draft.available_until)
        now = self.context.clock()
        self._check_until(draft.available_until)
        amount = quantity(draft.quantity)
        listing = Listing(
            listing_id=draft.listing_id or new_id(),
            owner_id=actor.user_id,
            crop=crop.slug,
            quantity_total=amount,
            quantity_remaining=amount,
            location=Location(draft.lat, draft.lon, geo.encode(draft.lat, draft.lon, 7)),
            status=ListingStatus.ACTIVE,
            version=1,
            created_at=now,
            updated_at=now,
            correlation_id=actor.correlation_id,
            **draft.carried(),  # unit, window, notes: as the owner gave them
        )
        token = idempotency_token(
            self.context, actor, "listing", draft, idempotency_key, draft.listing_id
        )
        return with_cas_retries(lambda: self.repository.create_listing(listing, token))

    def get(self, listing_id: str) -> Listing:
        listing = self.repository.listing_by_id(listing_id)
        if listing is None:
            raise NotFound(f"listing '{listing_id}' not found")
        return listing

    def update(
        self, actor: Actor, listing_id: str, changes: ListingChanges, if_match: int | None
    ) -> Listing:
        current = self._owned(actor, listing_id)
        check_version(if_match, current.version)
        edits = replace(changes, status=None)
        if edits != ListingChanges() and current.status not in OPEN_STATUSES:
            raise IllegalTransition("listing", current.status.value, "edited")
        updated = current
        if changes.quantity is not None:
            require_whole(changes.quantity, current.unit)
            updated = updated.with_total(quantity(changes.quantity))
        if changes.available_from is not None or changes.available_until is not None:
            updated = updated.with_window(
                changes.available_from or updated.available_from,
                changes.available_until or updated.available_until,
            )
            if changes.available_until is not None:
                self._check_until(changes.available_until)
        if changes.notes is not None or changes.clear_notes:
            updated = replace(updated, notes=None if changes.clear_notes else changes.notes)
        if changes.status is not None:
            updated = updated.transition(changes.status)
        return self._save(actor, current, updated)

    def cancel(self, actor: Actor, listing_id: str, if_match: int | None) -> Listing:
        current = self._owned(actor, listing_id)
        check_version(if_match, current.version)
        return self._save(actor, current, current.transition(ListingStatus.CANCELLED))

    def list_own(self, actor: Actor, limit: int | None, cursor: str | None) -> OwnedPage[Listing]:
        return owned_page(
            self.context,
            f"listings_by_owner:{actor.user_id}",
            limit,
            cursor,
            lambda size, start: self.repository.listings_by_owner(actor.user_id, size, start),
        )

    def _check_until(self, available_until: datetime) -> None:
        now = self.context.clock()
        if available_until <= now:
            raise ValidationFailed("availableUntil must be in the future")
        if available_until - now > MAX_AVAILABILITY:
            raise ValidationFailed("availableUntil must be within a year")

    def _owned(self, actor: Actor, listing_id: str) -> Listing:
        listing = self.get(listing_id)
        if listing.owner_id != actor.user_id:
            raise Forbidden("only the owner can change a listing")
        return listing

    def _save(self, actor: Actor, current: Listing, updated: Listing) -> Listing:
        if updated == current:
            return current
        saved = stamped(updated, current.version, actor, self.context.clock())
        self.repository.save_listing(saved, current.version)
        return saved
