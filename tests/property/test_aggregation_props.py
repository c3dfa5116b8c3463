"""Derived equals rebuild: whatever order and however often records arrive, the markers,
buckets and presences the AggregationService maintains equal those computed from the final
states alone (services.rebuild.drift finds nothing), and a window's distinct contributors
read from the buckets are exactly the users with a live item in it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harvest.domain.contribution import ALL_CROPS, contribution_of
from harvest.domain.events import ItemChange
from harvest.services.aggregation import AggregationService
from harvest.services.rebuild import ItemKey, drift, expected_derived, is_bucket
from harvest.store.buckets import bucket_days
from harvest.store.items import contribution_source
from support.stored_derived import StoredDerived

OWNERS = ("ann", "bob", "cem")
GEOHASHES = ("u33dbfc", "u33dbgz", "u33e000", "u281zzz")
DAYS = ("2026-05-01T10:00:00.000Z", "2026-05-02T00:00:00.000Z", "2026-05-04T08:00:00.000Z")


def _stored(repository: StoredDerived) -> dict[ItemKey, dict[str, Any]]:
    return {key: dict(item) for key, item in repository.items.items()}


@st.composite
def histories(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Per source, its states with versions 1..n (same owner, place, day, crop)."""
    sources = []
    for index in range(draw(st.integers(1, 5))):
        is_listing = draw(st.booleans())
        base: dict[str, Any] = {
            "PK": f"{'LISTING' if is_listing else 'REQUEST'}#s{index}",
            "SK": "LISTING" if is_listing else "REQUEST",
            "type": "listing" if is_listing else "request",
            "ownerId": draw(st.sampled_from(OWNERS)),
            "crop": draw(st.sampled_from(("tomato", "egg"))),
            "geohash": draw(st.sampled_from(GEOHASHES)),
            "createdAt": draw(st.sampled_from(DAYS)),
        }
        base["unit"] = "kg" if base["crop"] == "tomato" else "each"
        states = []
        statuses = ("active", "claimed", "cancelled") if is_listing else ("open", "matched")
        for version in range(1, draw(st.integers(1, 5)) + 1):
            amount = Decimal(draw(st.integers(0, 2000))) / 100
            state = {**base, "version": version, "status": draw(st.sampled_from(statuses))}
            state["quantityRemaining" if is_listing else "quantity"] = amount
            states.append(state)
        sources.append(states)
    return sources


def _change(item: Mapping[str, Any], inserted: bool) -> ItemChange:
    keys = {"PK": item["PK"], "SK": item["SK"]}
    return ItemChange("INSERT" if inserted else "MODIFY", keys, None, item)


@settings(max_examples=150, deadline=None)
@given(history=histories(), data=st.data())
def test_derived_equals_rebuild_under_duplicates_and_reorders(
    history: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    records = [state for states in history for state in states]
    extra = data.draw(st.lists(st.sampled_from(records), max_size=10), label="duplicates")
    delivered = data.draw(st.permutations(records + extra), label="delivery order")
    losers = data.draw(st.sets(st.sampled_from([s[0]["PK"] for s in history])), label="races")
    repository = StoredDerived(lose_once=set(losers))
    service = AggregationService(repository)
    for item in delivered:
        service.handle(_change(item, item["version"] == 1), "corr")
    assert drift(expected_derived([states[-1] for states in history]), repository.items) == []


@settings(max_examples=150, deadline=None)
@given(history=histories(), data=st.data())
def test_window_contributors_from_buckets_are_exactly_the_users_live_in_the_window(
    history: list[list[dict[str, Any]]], data: st.DataObject
) -> None:
    records = [state for states in history for state in states]
    repository = StoredDerived()
    service = AggregationService(repository)
    for item in data.draw(st.permutations(records), label="delivery order"):
        service.handle(_change(item, item["version"] == 1), "corr")
    finals = [contribution_of(contribution_source(states[-1])) for states in history]
    live = [c for c in finals if c is not None and c.live]
    buckets = [
        {**fields, "cell": key[0].split("#")[1], "crop": key[0].split("#")[2], "day": str(day)}
        for key, item in _stored(repository).items()
        if is_bucket(key)
        for day, fields in bucket_days(item).items()
    ]
    for since in sorted({date.fromisoformat(day[:10]) for day in DAYS}):
        # Only the published cell (precision 5) has buckets (domain.contribution).
        published = {c for contribution in live for c in contribution.cells if len(c) == 5}
        assert {b["cell"] for b in buckets} <= published | {
            c.cells[1]
            for states in history
            for state in states
            if (c := contribution_of(contribution_source(state)))
        }
        for cell in published:
            for crop in ("tomato", "egg"):
                truth = {
                    c.owner for c in live if c.crop == crop and cell in c.cells and c.day >= since
                }
                counted = sum(
                    int(b.get("contributors", 0))
                    for b in buckets
                    if b["cell"] == cell and b["crop"] == crop and b["day"] >= since.isoformat()
                )
                assert counted == len(truth), (cell, crop, since)
    assert all(not b.get("contributors") for b in buckets if b["crop"] == ALL_CROPS)


@settings(max_examples=50, deadline=None)
@given(history=histories())
def test_in_order_delivery_applies_every_record_once_and_replays_apply_none(
    history: list[list[dict[str, Any]]],
) -> None:
    repository = StoredDerived()
    service = AggregationService(repository)
    records = [state for states in history for state in states]
    first = [service.handle(_change(r, r["version"] == 1), "c").decision for r in records]
    assert set(first) == {"applied"}
    snapshot = _stored(repository)
    again = [service.handle(_change(r, False), "c").decision for r in records]
    assert set(again) == {"duplicate"}
    assert _stored(repository) == snapshot
