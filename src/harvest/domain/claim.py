"""Claims: a searcher's reservation on a listing, and who may move it where.

The quantity effect of every transition is stated here once, so that the service and the
property tests agree on it: confirming reserves, cancelling or a no-show after confirmation
releases, everything else leaves the listing alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from harvest.domain.errors import Forbidden, IllegalTransition


class ClaimStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Party(StrEnum):
    LISTING_OWNER = "owner"
    CLAIMER = "claimer"


class QuantityEffect(StrEnum):
    NONE = "none"
    RESERVE = "reserve"
    RELEASE = "release"


_BOTH = frozenset({Party.LISTING_OWNER, Party.CLAIMER})
_OWNER = frozenset({Party.LISTING_OWNER})

# from -> to -> (who may do it, what it does to the listing's remaining quantity)
TRANSITIONS: dict[ClaimStatus, dict[ClaimStatus, tuple[frozenset[Party], QuantityEffect]]] = {
    ClaimStatus.PENDING: {
        ClaimStatus.CONFIRMED: (_OWNER, QuantityEffect.RESERVE),
        ClaimStatus.CANCELLED: (_BOTH, QuantityEffect.NONE),
    },
    ClaimStatus.CONFIRMED: {
        ClaimStatus.COMPLETED: (_BOTH, QuantityEffect.NONE),
        ClaimStatus.CANCELLED: (_BOTH, QuantityEffect.RELEASE),
        ClaimStatus.NO_SHOW: (_OWNER, QuantityEffect.RELEASE),
    },
    ClaimStatus.COMPLETED: {},
    ClaimStatus.CANCELLED: {},
    ClaimStatus.NO_SHOW: {},
}


@dataclass(frozen=True, slots=True)
class Claim:
    claim_id: str
    listing_id: str
    claimer_id: str
    owner_id: str
    quantity: Decimal
    unit: str
    request_id: str | None
    note: str | None
    status: ClaimStatus
    version: int
    created_at: datetime
    updated_at: datetime
    correlation_id: str
    match_id: str | None = None  # the match suggestion it was made from, if any

    def party_of(self, user_id: str) -> Party | None:
        if user_id == self.owner_id:
            return Party.LISTING_OWNER
        if user_id == self.claimer_id:
            return Party.CLAIMER
        return None

    def plan_transition(self, user_id: str, target: ClaimStatus) -> QuantityEffect:
        """Check that `user_id` may move this claim to `target`; say what it does to stock."""
        party = self.party_of(user_id)
        if party is None:
            raise Forbidden("only the claimer and the listing owner can change a claim")
        allowed = TRANSITIONS[self.status].get(target)
        if allowed is None:
            raise IllegalTransition("claim", self.status.value, target.value)
        parties, effect = allowed
        if party not in parties:
            raise Forbidden(f"only the listing owner can mark a claim {target.value}")
        return effect

    def moved_to(self, target: ClaimStatus) -> Claim:
        return replace(self, status=target)
