"""Stateful property test of claims against one listing, on the pure domain.

Random sequences of claim creations, claim transitions by either party (or a stranger),
changes of the listing's total and closing of the listing are applied the way ClaimService
and ListingService apply them: plan the claim transition, then reserve or release on the
listing; if the domain refuses any step, nothing changes.

The model: while the listing is open, what it has reserved (total - remaining) is exactly
the sum of the claims that hold stock, i.e. CONFIRMED and COMPLETED ones (completing a
claim keeps its reservation: the food was handed over, it does not come back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from harvest.domain.claim import TRANSITIONS, Claim, ClaimStatus, Party, QuantityEffect
from harvest.domain.common import Location
from harvest.domain.errors import (
    DomainError,
    Forbidden,
    IllegalTransition,
    InsufficientQuantity,
    ValidationFailed,
)
from harvest.domain.listing import OPEN_STATUSES, Listing, ListingStatus

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OWNER, STRANGER = "owner-1", "stranger-1"
MAX_CLAIMS = 8
HOLDING = frozenset({ClaimStatus.CONFIRMED, ClaimStatus.COMPLETED})

amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(40), places=3)
# None stands for "exactly what remains / is reserved": the edges where the status flips.
percents = st.integers(min_value=1, max_value=100) | st.none()


def share(total: Decimal, percent: int) -> Decimal:
    """`percent` % of `total` to the gram, at least 1 g: claims sized to fit the listing."""
    return max(Decimal("0.001"), (total * percent / 100).quantize(Decimal("0.001")))


class ClaimsOnOneListing(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.listing: Listing | None = None
        self.claims: dict[str, Claim] = {}
        self.closed_as: ListingStatus | None = None

    @property
    def current(self) -> Listing:
        assert self.listing is not None
        return self.listing

    @initialize(total=amounts)
    def offer(self, total: Decimal) -> None:
        self.listing = Listing(
            listing_id="listing-0001",
            owner_id=OWNER,
            crop="tomato",
            unit="kg",
            quantity_total=total,
            quantity_remaining=total,
            available_from=NOW,
            available_until=NOW + timedelta(days=3),
            location=Location(52.52, 13.405, "u33dc0c"),
            notes=None,
            status=ListingStatus.ACTIVE,
            version=1,
            created_at=NOW,
            updated_at=NOW,
            correlation_id="corr",
        )

    # ------------------------------------------------------------------ rules

    @precondition(lambda self: len(self.claims) < MAX_CLAIMS)
    @rule(percent=percents)
    def claim(self, percent: int | None) -> None:
        """A searcher asks for part of the listing (ClaimService.create's admission rule)."""
        listing = self.current
        if percent is None:
            amount = listing.quantity_remaining
        else:
            amount = share(listing.quantity_total, percent)
        if not listing.is_live(NOW) or not 0 < amount <= listing.quantity_remaining:
            return
        number = len(self.claims)
        claim_id = f"claim-{number:04d}"
        self.claims[claim_id] = Claim(
            claim_id=claim_id,
            listing_id=listing.listing_id,
            claimer_id=f"claimer-{number}",
            owner_id=OWNER,
            quantity=amount,
            unit=listing.unit,
            request_id=None,
            note=None,
            status=ClaimStatus.PENDING,
            version=1,
            created_at=NOW,
            updated_at=NOW,
            correlation_id="corr",
        )

    @precondition(lambda self: bool(self.claims))
    @rule(
        data=st.data(),
        who=st.sampled_from(["owner", "claimer", "stranger"]),
        to=st.sampled_from(ClaimStatus),
    )
    def attempt_any_move(self, data: st.DataObject, who: str, to: ClaimStatus) -> None:
        """Anyone tries anything on any claim; the domain must refuse what is not allowed."""
        claim = self.claims[data.draw(st.sampled_from(sorted(self.claims)), label="claim")]
        self._apply(claim, who, to)

    @precondition(lambda self: any(TRANSITIONS[c.status] for c in self.claims.values()))
    @rule(data=st.data())
    def make_a_lifecycle_move(self, data: st.DataObject) -> None:
        """A party entitled to it moves a claim along its lifecycle (may still lack stock)."""
        movable = sorted(i for i, c in self.claims.items() if TRANSITIONS[c.status])
        claim = self.claims[data.draw(st.sampled_from(movable), label="claim")]
        options = TRANSITIONS[claim.status]
        to = data.draw(st.sampled_from(sorted(options)), label="to")
        party = data.draw(st.sampled_from(sorted(options[to][0])), label="party")
        self._apply(claim, "owner" if party is Party.LISTING_OWNER else "claimer", to)

    def _apply(self, claim: Claim, who: str, to: ClaimStatus) -> None:
        user = {"owner": OWNER, "claimer": claim.claimer_id, "stranger": STRANGER}[who]
        listing = self.current
        try:
            effect = claim.plan_transition(user, to)
        except Forbidden:
            allowed = TRANSITIONS[claim.status].get(to)
            assert who == "stranger" or (allowed is not None and Party(who) not in allowed[0]), (
                "a party with the right to move the claim was refused"
            )
            return
        except IllegalTransition:
            assert who != "stranger"
            assert to not in TRANSITIONS[claim.status]
            return
        try:
            if effect is QuantityEffect.RESERVE:
                listing = listing.reserve(claim.quantity)
            elif effect is QuantityEffect.RELEASE:
                listing = listing.release(claim.quantity)
        except InsufficientQuantity:
            assert effect is QuantityEffect.RESERVE
            assert (
                self.current.status is not ListingStatus.ACTIVE
                or claim.quantity > self.current.quantity_remaining
            )
            return
        self.listing = listing
        self.claims[claim.claim_id] = claim.moved_to(to)

    @rule(percent=st.integers(min_value=0, max_value=200) | st.none())
    def change_total(self, percent: int | None) -> None:
        listing = self.current
        if percent is None:
            total = listing.quantity_reserved
        else:
            total = share(listing.quantity_total, percent) if percent else Decimal(0)
        try:
            self.listing = listing.with_total(total)
        except IllegalTransition:
            assert listing.status not in OPEN_STATUSES
        except ValidationFailed:
            assert total <= 0
        except InsufficientQuantity:
            assert total < listing.quantity_reserved
        else:
            assert self.current.quantity_total == total
            assert self.current.quantity_reserved == listing.quantity_reserved

    # Closing a listing nobody holds stock on is dull (unit tests cover it): close only once
    # some claim holds stock, so what happens to holding claims afterwards gets explored.
    @precondition(lambda self: any(c.status in HOLDING for c in self.claims.values()))
    @rule(to=st.sampled_from([ListingStatus.COMPLETED, ListingStatus.CANCELLED, None]))
    def close_listing(self, to: ListingStatus | None) -> None:
        """The owner completes or cancels; None stands for the system expiring it."""
        listing = self.current
        try:
            self.listing = listing.expire() if to is None else listing.transition(to)
        except DomainError:
            assert listing.status not in OPEN_STATUSES
            assert listing.status is not to
            return
        if self.closed_as is None:
            self.closed_as = self.current.status

    # ------------------------------------------------------------------ invariants

    @invariant()
    def remaining_within_zero_and_total(self) -> None:
        listing = self.current
        assert 0 <= listing.quantity_remaining <= listing.quantity_total
        assert listing.quantity_total > 0

    @invariant()
    def reserved_is_what_confirmed_and_completed_claims_hold(self) -> None:
        listing = self.current
        if listing.status not in OPEN_STATUSES:
            return
        held = sum((c.quantity for c in self.claims.values() if c.status in HOLDING), Decimal(0))
        assert listing.quantity_total - listing.quantity_remaining == held

    @invariant()
    def claimed_exactly_when_nothing_remains_while_open(self) -> None:
        listing = self.current
        if listing.status in OPEN_STATUSES:
            assert (listing.status is ListingStatus.CLAIMED) == (listing.quantity_remaining == 0)

    @invariant()
    def closed_listings_stay_closed(self) -> None:
        if self.closed_as is not None:
            assert self.current.status is self.closed_as


ClaimsOnOneListing.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_claims_keep_the_listing_stock_exact = ClaimsOnOneListing.TestCase
