"""Claim rules: reserve on a live listing, move through the lifecycle, keep stock exact.

Confirming a claim and changing the listing's remaining quantity happen in one transaction
guarded by both items' versions. When another confirm wins the race on the listing, the
step is re-read and re-decided, so the loser sees the new remaining quantity (and a 409
when nothing is left) instead of an overdraft.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from harvest.domain.claim import Claim, ClaimStatus, QuantityEffect
from harvest.domain.common import Actor, iso, new_id, quantity
from harvest.domain.crops import require_whole
from harvest.domain.errors import (
    FieldError,
    Forbidden,
    InsufficientQuantity,
    NotFound,
    RetryableConflict,
    ValidationFailed,
    VersionMismatch,
)
from harvest.domain.listing import Listing
from harvest.domain.matching import Side, parse_match_id
from harvest.domain.request import Request
from harvest.services.support import (
    ServiceContext,
    check_version,
    idempotency_token,
    page_size,
    stamped,
    with_cas_retries,
)
from harvest.store.keys import owned_sk
from harvest.store.matches import MatchSet
from harvest.store.repository import Created, IdempotencyToken


class ClaimRole(StrEnum):
    MADE = "made"
    RECEIVED = "received"
    ALL = "all"


class ClaimStore(Protocol):
    """What ClaimService reads and writes (harvest.store.repository.Repository)."""

    def claim_by_id(self, claim_id: str) -> Claim | None: ...
    def claims_by_claimer(
        self, claimer_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]: ...
    def claims_by_listing_owner(
        self, owner_id: str, limit: int = 20, before: str | None = None
    ) -> list[Claim]: ...
    def create_claim(
        self, claim: Claim, listing: Listing, token: IdempotencyToken | None
    ) -> Created[Claim]: ...
    def save_claim_transition(
        self,
        claim: Claim,
        expected_claim_version: int,
        listing: Listing | None,
        expected_listing_version: int | None,
    ) -> None: ...
    def listing_by_id(self, listing_id: str) -> Listing | None: ...
    def request_by_id(self, request_id: str) -> Request | None: ...


@dataclass(frozen=True, slots=True)
class ClaimDraft:
    quantity: Decimal
    request_id: str | None = None
    note: str | None = None
    claim_id: str | None = None
    match_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimPage:
    items: list[Claim]
    next_cursor: str | None


def _sort_key(claim: Claim) -> str:
    return owned_sk("claim", iso(claim.created_at), claim.claim_id)


class MatchReads(Protocol):
    """The match sets a claim's matchId is checked against (store.matches.MatchRepository)."""

    def match_set(self, side: Side, entity_id: str) -> MatchSet | None: ...


class ClaimService:
    def __init__(
        self, repository: ClaimStore, context: ServiceContext, matches: MatchReads | None = None
    ) -> None:
        self.repository = repository
        self.context = context
        self.matches = matches

    def create(
        self, actor: Actor, listing_id: str, draft: ClaimDraft, idempotency_key: str | None = None
    ) -> Created[Claim]:
        listing = self.repository.listing_by_id(listing_id)
        if listing is None:
            raise NotFound(f"listing '{listing_id}' not found")
        if listing.owner_id == actor.user_id:
            raise Forbidden("you cannot claim your own listing")
        now = self.context.clock()
        amount = quantity(draft.quantity)
        require_whole(amount, listing.unit)
        if not listing.is_live(now) or amount > listing.quantity_remaining:
            raise InsufficientQuantity(
                f"only {listing.quantity_remaining} {listing.unit} remain on a "
                f"{listing.status.value} listing; {amount} requested"
            )
        request_id = draft.request_id
        if draft.match_id is not None:
            request_id = self._check_match(actor, listing_id, draft.match_id, request_id)
        elif request_id is not None:
            self._check_request(actor, request_id)
        claim = Claim(
            claim_id=draft.claim_id or new_id(),
            listing_id=listing.listing_id,
            claimer_id=actor.user_id,
            owner_id=listing.owner_id,
            quantity=amount,
            unit=listing.unit,
            request_id=request_id,
            note=draft.note,
            status=ClaimStatus.PENDING,
            version=1,
            created_at=now,
            updated_at=now,
            correlation_id=actor.correlation_id,
            match_id=draft.match_id,
        )
        token = idempotency_token(
            self.context, actor, f"claim:{listing_id}", draft, idempotency_key, draft.claim_id
        )
        return with_cas_retries(lambda: self.repository.create_claim(claim, listing, token))

    def get(self, actor: Actor, claim_id: str) -> Claim:
        claim = self.repository.claim_by_id(claim_id)
        if claim is None:
            raise NotFound(f"claim '{claim_id}' not found")
        if claim.party_of(actor.user_id) is None:
            raise Forbidden("only the claimer and the listing owner can see a claim")
        return claim

    def transition(
        self, actor: Actor, claim_id: str, target: ClaimStatus, if_match: int | None
    ) -> Claim:
        return with_cas_retries(lambda: self._transition_once(actor, claim_id, target, if_match))

    def _transition_once(
        self, actor: Actor, claim_id: str, target: ClaimStatus, if_match: int | None
    ) -> Claim:
        claim = self.get(actor, claim_id)
        check_version(if_match, claim.version)
        if claim.status is target:
            return claim
        effect = claim.plan_transition(actor.user_id, target)
        now = self.context.clock()
        moved = stamped(claim.moved_to(target), claim.version, actor, now)
        listing, listing_version = self._listing_effect(actor, claim, effect)
        try:
            self.repository.save_claim_transition(moved, claim.version, listing, listing_version)
        except RetryableConflict as error:
            if "claim" in error.reasons:
                current = self.repository.claim_by_id(claim_id)
                if if_match is not None:
                    raise VersionMismatch(if_match, current.version if current else None) from error
            raise
        return moved

    def _listing_effect(
        self, actor: Actor, claim: Claim, effect: QuantityEffect
    ) -> tuple[Listing | None, int | None]:
        if effect is QuantityEffect.NONE:
            return None, None
        listing = self.repository.listing_by_id(claim.listing_id)
        if listing is None:  # pragma: no cover - listings are never deleted
            raise NotFound(f"listing '{claim.listing_id}' not found")
        if effect is QuantityEffect.RESERVE:
            changed = listing.reserve(claim.quantity)
        else:
            changed = listing.release(claim.quantity)
        if changed == listing:
            return None, None
        return stamped(changed, listing.version, actor, self.context.clock()), listing.version

    def list_own(
        self, actor: Actor, role: ClaimRole, limit: int | None, cursor: str | None
    ) -> ClaimPage:
        scope = f"claims_by_party:{actor.user_id}:{role.value}"
        before = str(self.context.cursors.decode(scope, cursor)["before"]) if cursor else None
        size = page_size(limit)
        found: list[Claim] = []
        if role in (ClaimRole.MADE, ClaimRole.ALL):
            found += self.repository.claims_by_claimer(actor.user_id, size + 1, before)
        if role in (ClaimRole.RECEIVED, ClaimRole.ALL):
            found += self.repository.claims_by_listing_owner(actor.user_id, size + 1, before)
        found.sort(key=_sort_key, reverse=True)
        items = found[:size]
        more = len(found) > size
        token = (
            self.context.cursors.encode(scope, {"before": _sort_key(items[-1])})
            if more and items
            else None
        )
        return ClaimPage(items, token)

    def _check_match(
        self, actor: Actor, listing_id: str, match_id: str, request_id: str | None
    ) -> str:
        """The request a claim from match `match_id` serves: the match must link this
        listing and one of the claimer's requests, and be suggested now (in the request's
        set); otherwise 422 and nothing is written. Another user's match reads as unknown."""
        refused = ValidationFailed(
            f"matchId '{match_id}' is not a match of this listing and one of your requests",
            [FieldError("matchId", "unknown match", "unknown_match")],
        )
        ids = parse_match_id(match_id)
        if ids is None or ids[1] != listing_id or self.matches is None:
            raise refused
        if request_id is not None and request_id != ids[0]:
            raise ValidationFailed(
                "requestId and matchId name different requests",
                [FieldError("requestId", "not the request of matchId", "match_mismatch")],
            )
        request = self.repository.request_by_id(ids[0])
        if request is None or request.owner_id != actor.user_id:
            raise refused
        suggested = self.matches.match_set(Side.REQUEST, ids[0])
        if suggested is None or all(e.match_id != match_id for e in suggested.entries):
            raise refused
        return ids[0]

    def _check_request(self, actor: Actor, request_id: str) -> None:
        request = self.repository.request_by_id(request_id)
        if request is None or request.owner_id != actor.user_id:
            raise ValidationFailed(f"requestId '{request_id}' is not one of your requests")
