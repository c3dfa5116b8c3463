"""Listings: surplus a grower offers, and the rules of their lifecycle and quantity."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from harvest.domain.common import Location
from harvest.domain.errors import IllegalTransition, InsufficientQuantity, ValidationFailed


class ListingStatus(StrEnum):
    ACTIVE = "active"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


# Transitions an owner may ask for through PATCH/DELETE. active <-> claimed follows the
# remaining quantity and is never requested directly; expired is set by the system.
OWNER_TRANSITIONS: dict[ListingStatus, frozenset[ListingStatus]] = {
    ListingStatus.ACTIVE: frozenset({ListingStatus.COMPLETED, ListingStatus.CANCELLED}),
    ListingStatus.CLAIMED: frozenset({ListingStatus.COMPLETED, ListingStatus.CANCELLED}),
    ListingStatus.COMPLETED: frozenset(),
    ListingStatus.EXPIRED: frozenset(),
    ListingStatus.CANCELLED: frozenset(),
}
OPEN_STATUSES = frozenset({ListingStatus.ACTIVE, ListingStatus.CLAIMED})


@dataclass(frozen=True, slots=True)
class Listing:
    listing_id: str
    owner_id: str
    crop: str
    unit: str
    quantity_total: Decimal
    quantity_remaining: Decimal
    available_from: datetime
    available_until: datetime
    location: Location
    notes: str | None
    status: ListingStatus
    version: int
    created_at: datetime
    updated_at: datetime
    correlation_id: str

    @property
    def quantity_reserved(self) -> Decimal:
        return self.quantity_total - self.quantity_remaining

    def is_live(self, now: datetime) -> bool:
        """Claimable and discoverable right now."""
        return self.status is ListingStatus.ACTIVE and self.available_until > now

    def with_window(self, available_from: datetime, available_until: datetime) -> Listing:
        check_window(available_from, available_until)
        return replace(self, available_from=available_from, available_until=available_until)

    def with_total(self, total: Decimal) -> Listing:
        """Change the offered total; confirmed reservations are kept, never oversold."""
        self._require_open("change the quantity of")
        if total <= 0:
            raise ValidationFailed("quantity must be greater than 0")
        if total < self.quantity_reserved:
            raise InsufficientQuantity(
                f"{self.quantity_reserved} {self.unit} are already confirmed to claimers; "
                f"the total cannot go below that"
            )
        return self._with_remaining(total - self.quantity_reserved, total=total)

    def reserve(self, amount: Decimal) -> Listing:
        """Take `amount` off what remains (a claim was confirmed)."""
        if self.status is not ListingStatus.ACTIVE:
            raise InsufficientQuantity(f"listing is {self.status.value}; nothing can be reserved")
        if amount > self.quantity_remaining:
            raise InsufficientQuantity(
                f"only {self.quantity_remaining} {self.unit} remain; {amount} requested"
            )
        return self._with_remaining(self.quantity_remaining - amount)

    def release(self, amount: Decimal) -> Listing:
        """Give `amount` back (a confirmed claim was cancelled or not collected)."""
        if self.status not in OPEN_STATUSES:
            return self
        return self._with_remaining(min(self.quantity_total, self.quantity_remaining + amount))

    def transition(self, target: ListingStatus) -> Listing:
        if target is self.status:
            return self
        if target not in OWNER_TRANSITIONS[self.status]:
            raise IllegalTransition("listing", self.status.value, target.value)
        return replace(self, status=target)

    def expire(self) -> Listing:
        if self.status not in OPEN_STATUSES:
            raise IllegalTransition("listing", self.status.value, ListingStatus.EXPIRED.value)
        return replace(self, status=ListingStatus.EXPIRED)

    def _require_open(self, action: str) -> None:
        if self.status not in OPEN_STATUSES:
            raise IllegalTransition("listing", self.status.value, f"{action} a closed listing")

    def _with_remaining(self, remaining: Decimal, total: Decimal | None = None) -> Listing:
        status = self.status
        if status in OPEN_STATUSES:
            status = ListingStatus.CLAIMED if remaining == 0 else ListingStatus.ACTIVE
        return replace(
            self,
            quantity_remaining=remaining,
            quantity_total=self.quantity_total if total is None else total,
            status=status,
        )


@dataclass(frozen=True, slots=True)
class ListingDraft:
    """What an owner gives to create a listing (the API builds it from the body by name).

    A field the listing has under the same name is taken as given (`carried`), except the
    crop (the catalog's slug) and the id (made when absent), so a new optional field is
    declared here and on `Listing`, in this file only."""

    crop: str
    quantity: Decimal
    unit: str
    available_from: datetime
    available_until: datetime
    lat: float
    lon: float
    notes: str | None = None
    listing_id: str | None = None

    def carried(self) -> dict[str, Any]:
        """The draft's values a new listing takes unchanged, by field name."""
        taken = {spec.name for spec in fields(Listing)} - {"crop", "listing_id"}
        return {spec.name: getattr(self, spec.name) for spec in fields(self) if spec.name in taken}


def check_window(available_from: datetime, available_until: datetime) -> None:
    if available_until <= available_from:
        raise ValidationFailed("availableUntil must be after availableFrom")
