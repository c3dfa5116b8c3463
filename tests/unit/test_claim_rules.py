"""Who may move a claim where, what each move does to stock, and the request lifecycle.

Every (from, to, party) combination is checked against the lifecycle of DESIGN §4, written
out here independently of the TRANSITIONS table so that a change to either shows up.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from harvest.domain.claim import (
    TRANSITIONS,
    Claim,
    ClaimStatus,
    Party,
    QuantityEffect,
)
from harvest.domain.common import Location
from harvest.domain.errors import Forbidden, IllegalTransition
from harvest.domain.request import TRANSITIONS as REQUEST_TRANSITIONS
from harvest.domain.request import Request, RequestStatus

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OWNER, CLAIMER, STRANGER = "owner-1", "claimer-1", "stranger-1"
USER_OF = {Party.LISTING_OWNER: OWNER, Party.CLAIMER: CLAIMER}

P, CF, CP, CA, NS = (
    ClaimStatus.PENDING,
    ClaimStatus.CONFIRMED,
    ClaimStatus.COMPLETED,
    ClaimStatus.CANCELLED,
    ClaimStatus.NO_SHOW,
)
BY_OWNER, BY_CLAIMER = Party.LISTING_OWNER, Party.CLAIMER

# The lifecycle as DESIGN §4 states it: (from, to) -> {party: effect}.
EXPECTED: dict[tuple[ClaimStatus, ClaimStatus], dict[Party, QuantityEffect]] = {
    (P, CF): {BY_OWNER: QuantityEffect.RESERVE},
    (P, CA): {BY_OWNER: QuantityEffect.NONE, BY_CLAIMER: QuantityEffect.NONE},
    (CF, CP): {BY_OWNER: QuantityEffect.NONE, BY_CLAIMER: QuantityEffect.NONE},
    (CF, CA): {BY_OWNER: QuantityEffect.RELEASE, BY_CLAIMER: QuantityEffect.RELEASE},
    (CF, NS): {BY_OWNER: QuantityEffect.RELEASE},
}
ALL_MOVES = [(src, dst) for src in ClaimStatus for dst in ClaimStatus]


def make_claim(status: ClaimStatus) -> Claim:
    return Claim(
        claim_id="claim-0001",
        listing_id="listing-0001",
        claimer_id=CLAIMER,
        owner_id=OWNER,
        quantity=Decimal(2),
        unit="kg",
        request_id=None,
        note=None,
        status=status,
        version=3,
        created_at=NOW,
        updated_at=NOW,
        correlation_id="corr-1",
    )


def test_transition_table_is_exactly_the_documented_lifecycle() -> None:
    table = {
        (src, dst): dict.fromkeys(parties, effect)
        for src, targets in TRANSITIONS.items()
        for dst, (parties, effect) in targets.items()
    }

    assert table == EXPECTED
    assert set(TRANSITIONS) == set(ClaimStatus)


@pytest.mark.parametrize(
    ("src", "dst", "party"),
    [(src, dst, party) for src, dst in ALL_MOVES for party in Party],
    ids=str,
)
def test_plan_transition_for_every_move_and_party(
    src: ClaimStatus, dst: ClaimStatus, party: Party
) -> None:
    claim = make_claim(src)
    allowed = EXPECTED.get((src, dst))

    if allowed is None:
        with pytest.raises(IllegalTransition) as raised:
            claim.plan_transition(USER_OF[party], dst)
        assert (raised.value.current, raised.value.target) == (src.value, dst.value)
    elif party not in allowed:
        with pytest.raises(Forbidden, match=f"only the listing owner can mark a claim {dst}"):
            claim.plan_transition(USER_OF[party], dst)
    else:
        assert claim.plan_transition(USER_OF[party], dst) is allowed[party]


@pytest.mark.parametrize(("src", "dst"), ALL_MOVES, ids=str)
def test_given_someone_outside_the_claim_when_any_move_then_forbidden(
    src: ClaimStatus, dst: ClaimStatus
) -> None:
    # Not a party is checked first: a stranger learns nothing about the claim's state.
    with pytest.raises(Forbidden, match="only the claimer and the listing owner"):
        make_claim(src).plan_transition(STRANGER, dst)


@pytest.mark.parametrize("status", [CP, CA, NS])
def test_final_claim_states_have_no_way_out(status: ClaimStatus) -> None:
    assert TRANSITIONS[status] == {}


def test_party_of_tells_owner_claimer_and_nobody_apart() -> None:
    claim = make_claim(P)

    assert claim.party_of(OWNER) is Party.LISTING_OWNER
    assert claim.party_of(CLAIMER) is Party.CLAIMER
    assert claim.party_of(STRANGER) is None


def test_moved_to_changes_only_the_status() -> None:
    claim = make_claim(P)

    moved = claim.moved_to(CF)

    assert moved.status is CF
    assert moved.version == claim.version
    assert moved.quantity == claim.quantity
    assert claim.status is P


# --------------------------------------------------------------------------- requests

RO, RM, RC, RX = (
    RequestStatus.OPEN,
    RequestStatus.MATCHED,
    RequestStatus.CLOSED,
    RequestStatus.CANCELLED,
)
REQUEST_LIFECYCLE = {(RO, RM), (RO, RC), (RO, RX), (RM, RC), (RM, RX)}


def make_request(status: RequestStatus, needed_by: datetime = NOW + timedelta(days=1)) -> Request:
    return Request(
        request_id="request-0001",
        owner_id=CLAIMER,
        crop="tomato",
        unit="kg",
        quantity=Decimal(3),
        needed_by=needed_by,
        location=Location(52.52, 13.405, "u33dc0c"),
        notes=None,
        status=status,
        version=1,
        created_at=NOW,
        updated_at=NOW,
        correlation_id="corr-1",
    )


def test_request_table_is_exactly_the_documented_lifecycle() -> None:
    table = {(src, dst) for src, targets in REQUEST_TRANSITIONS.items() for dst in targets}

    assert table == REQUEST_LIFECYCLE
    assert set(REQUEST_TRANSITIONS) == set(RequestStatus)


@pytest.mark.parametrize(
    ("src", "dst"),
    [(src, dst) for src in RequestStatus for dst in RequestStatus],
    ids=str,
)
def test_request_transition_for_every_move(src: RequestStatus, dst: RequestStatus) -> None:
    request = make_request(src)

    if src is dst:
        assert request.transition(dst) is request
    elif (src, dst) in REQUEST_LIFECYCLE:
        assert request.transition(dst).status is dst
    else:
        with pytest.raises(IllegalTransition) as raised:
            request.transition(dst)
        assert (raised.value.current, raised.value.target) == (src.value, dst.value)


@pytest.mark.parametrize("status", [RO, RM])
def test_given_open_or_matched_request_then_editable(status: RequestStatus) -> None:
    make_request(status).require_editable()


@pytest.mark.parametrize("status", [RC, RX])
def test_given_closed_or_cancelled_request_when_edited_then_illegal_transition(
    status: RequestStatus,
) -> None:
    with pytest.raises(IllegalTransition, match="to 'edited'"):
        make_request(status).require_editable()


def test_request_is_live_only_while_open_and_before_needed_by() -> None:
    needed_by = NOW + timedelta(hours=2)

    assert make_request(RO, needed_by).is_live(NOW)
    assert not make_request(RO, needed_by).is_live(needed_by)
    for status in (RM, RC, RX):
        assert not make_request(status, needed_by).is_live(NOW)
