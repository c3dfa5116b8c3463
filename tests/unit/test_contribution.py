"""Contributions of listings/requests and the bucket deltas between two of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from harvest.domain.contribution import (
    ALL_CROPS,
    BucketDelta,
    Contribution,
    bucket_deltas,
    contribution_of,
    crops_to_index,
)
from harvest.store.items import contribution_source

GEOHASH = "u33dbfc"


def _listing(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": "LISTING#l1",
        "SK": "LISTING",
        "type": "listing",
        "ownerId": "ann",
        "crop": "tomato",
        "unit": "g",
        "quantityTotal": Decimal(2500),
        "quantityRemaining": Decimal(1500),
        "geohash": GEOHASH,
        "status": "active",
        "version": 1,
        "createdAt": "2026-05-01T23:59:59.999Z",
    }
    item.update(overrides)
    return item


def _request(**overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": "REQUEST#r1",
        "SK": "REQUEST",
        "type": "request",
        "ownerId": "bob",
        "crop": "egg",
        "unit": "each",
        "quantity": Decimal(6),
        "geohash": GEOHASH,
        "status": "open",
        "version": 1,
        "createdAt": "2026-05-02T00:00:00.000+00:00",
    }
    item.update(overrides)
    return item


def test_active_listing_supplies_its_remaining_quantity_in_canonical_units() -> None:
    contribution = contribution_of(contribution_source(_listing()))
    assert contribution == Contribution(
        kind="supply",
        owner="ann",
        crop="tomato",
        day=date(2026, 5, 1),
        cells=("u33d", "u33db", "u33dbf"),
        quantity=Decimal("1.5"),
        live=True,
    )


@pytest.mark.parametrize("status", ["claimed", "completed", "expired", "cancelled"])
def test_a_listing_that_is_not_active_supplies_nothing(status: str) -> None:
    contribution = contribution_of(contribution_source(_listing(status=status)))
    assert contribution is not None
    assert (contribution.quantity, contribution.live) == (Decimal(0), False)


def test_open_request_demands_its_quantity_in_canonical_units() -> None:
    contribution = contribution_of(contribution_source(_request()))
    assert contribution is not None
    assert (contribution.kind, contribution.crop, contribution.live) == ("demand", "egg", True)
    assert contribution.quantity == Decimal("0.5")
    assert contribution.day == date(2026, 5, 2)


@pytest.mark.parametrize("status", ["matched", "closed", "cancelled"])
def test_a_request_that_is_not_open_demands_nothing(status: str) -> None:
    contribution = contribution_of(contribution_source(_request(status=status)))
    assert contribution is not None
    assert (contribution.quantity, contribution.live) == (Decimal(0), False)


@pytest.mark.parametrize("item_type", ["claim", "profile", "agg-bucket", None])
def test_other_items_contribute_nothing(item_type: str | None) -> None:
    assert contribution_of(contribution_source({"PK": "CLAIM#c", "type": item_type})) is None


def test_json_round_trip_is_exact() -> None:
    contribution = contribution_of(contribution_source(_request()))
    assert contribution is not None
    assert Contribution.from_json(contribution.to_json()) == contribution


def test_first_live_state_adds_to_one_bucket_of_the_published_cell_only() -> None:
    new = contribution_of(contribution_source(_listing()))
    deltas = bucket_deltas(None, new)
    # Only the published precision (5) has buckets: precision 4 publishes the sums of its
    # published cells, precision 6 nothing (domain.disclosure rule 1). No all-crops bucket:
    # nothing reads all-crops counters.
    assert [(d.cell, d.crop, d.quantity_delta, d.count_delta) for d in deltas] == [
        ("u33db", "tomato", Decimal("1.5"), 1)
    ]
    assert all(d.crop != ALL_CROPS for d in deltas)
    # The crop becomes live in that cell and day: the crops index must name it.
    assert crops_to_index(deltas) == [("u33db", date(2026, 5, 1), "tomato")]
    # Distinct contributors are not deltas of one item: domain.disclosure moves them.
    assert {d.contributors_delta for d in deltas} == {0}
    assert {d.kind for d in deltas} == {"supply"}
    assert {d.day for d in deltas} == {date(2026, 5, 1)}


def test_quantity_change_of_a_live_item_touches_crop_buckets_only() -> None:
    old = contribution_of(contribution_source(_listing()))
    new = contribution_of(contribution_source(_listing(quantityRemaining=Decimal(500), version=2)))
    deltas = bucket_deltas(old, new)
    assert [(d.crop, d.quantity_delta, d.count_delta, d.contributors_delta) for d in deltas] == [
        ("tomato", Decimal("-1.0"), 0, 0)
    ]


def test_going_out_of_live_removes_quantity_and_count() -> None:
    old = contribution_of(contribution_source(_listing()))
    new = contribution_of(
        contribution_source(_listing(status="claimed", quantityRemaining=Decimal(0)))
    )
    deltas = bucket_deltas(old, new)
    assert [(d.cell, d.crop, d.quantity_delta, d.count_delta) for d in deltas] == [
        ("u33db", "tomato", Decimal("-1.5"), -1)
    ]
    assert crops_to_index(deltas) == []  # the index only grows: nothing to write


def test_identical_states_and_two_dead_states_have_no_deltas() -> None:
    live = contribution_of(contribution_source(_listing()))
    dead = contribution_of(contribution_source(_listing(status="cancelled")))
    assert bucket_deltas(live, live) == []
    assert bucket_deltas(dead, None) == []
    assert bucket_deltas(None, None) == []


def test_moving_between_days_and_crops_addresses_two_buckets() -> None:
    old = contribution_of(contribution_source(_listing()))
    assert old is not None
    new = replace(old, crop="basil", day=date(2026, 5, 3))
    deltas = bucket_deltas(old, new)
    assert len(deltas) == 2
    assert len({(d.cell, d.crop, d.day) for d in deltas}) == 2
    assert all(isinstance(d, BucketDelta) for d in deltas)
    # Only the bucket gaining a live item needs its crop indexed.
    assert crops_to_index(deltas) == [("u33db", date(2026, 5, 3), "basil")]
