"""Derived equals rebuild: whatever order and however often records arrive, the buckets the
AggregationService maintains equal the buckets computed from the final states alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harvest.domain.contribution import BucketDelta, Contribution, buckets_of, contribution_of
from harvest.domain.events import ItemChange
from harvest.services.aggregation import AggregationService
from harvest.store.derived import Marker, StaleMarker

type BucketKey = tuple[str, str, date, str]
type Buckets = dict[BucketKey, tuple[Decimal, int, frozenset[tuple[str, int]]]]

OWNERS = ("ann", "bob", "cem")
GEOHASHES = ("u33dbfc", "u33dbgz", "u33e000", "u281zzz")
DAYS = ("2026-05-01T10:00:00.000Z", "2026-05-02T00:00:00.000Z")


@dataclass
class FakeDerived:
    """In-memory DerivedRepository with the same conditional semantics; optionally loses the
    race once per source (a concurrent writer) to exercise the re-read path."""

    markers: dict[str, Marker] = field(default_factory=dict)
    sums: dict[BucketKey, tuple[Decimal, int, dict[str, int]]] = field(default_factory=dict)
    lose_once: set[str] = field(default_factory=set)

    def marker(self, source_key: str) -> Marker | None:
        return self.markers.get(source_key)

    def apply(
        self,
        source_key: str,
        expected_marker_version: int | None,
        new_version: int,
        new_contribution: Contribution | None,
        deltas: list[BucketDelta],
        correlation_id: str,
    ) -> None:
        if source_key in self.lose_once:
            self.lose_once.discard(source_key)
            raise StaleMarker(source_key)
        current = self.markers.get(source_key)
        if (current.version if current else None) != expected_marker_version:
            raise StaleMarker(source_key)
        self.markers[source_key] = Marker(
            source_key, new_version, new_contribution, "t", "t", correlation_id
        )
        for delta in deltas:
            key = (delta.cell, delta.crop, delta.day, delta.kind)
            quantity, count, owners = self.sums.get(key, (Decimal(0), 0, {}))
            owners = dict(owners)
            for owner, change in delta.owner_deltas:
                owners[owner] = owners.get(owner, 0) + change
            self.sums[key] = (quantity + delta.quantity_delta, count + delta.count_delta, owners)

    def buckets(self) -> Buckets:
        return _normalised(self.sums)


def _normalised(sums: Mapping[BucketKey, tuple[Decimal, int, Mapping[str, int]]]) -> Buckets:
    found: Buckets = {}
    for key, (quantity, count, owners) in sums.items():
        entry = (quantity, count, frozenset((o, n) for o, n in owners.items() if n != 0))
        if entry != (Decimal(0), 0, frozenset[tuple[str, int]]()):
            found[key] = entry
    return found


def _rebuild(finals: list[Mapping[str, Any]]) -> Buckets:
    sums: dict[BucketKey, tuple[Decimal, int, dict[str, int]]] = {}
    for item in finals:
        for address, bucket in buckets_of(contribution_of(item)).items():
            key = (address.cell, address.crop, address.day, address.kind)
            quantity, count, owners = sums.get(key, (Decimal(0), 0, {}))
            merged = dict(owners)
            for owner, n in (bucket.owners or {}).items():
                merged[owner] = merged.get(owner, 0) + n
            sums[key] = (quantity + bucket.quantity, count + bucket.count, merged)
    return _normalised(sums)


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
    repository = FakeDerived(lose_once=set(losers))
    service = AggregationService(repository)
    for item in delivered:
        service.handle(_change(item, item["version"] == 1), "corr")
    assert repository.buckets() == _rebuild([states[-1] for states in history])


@settings(max_examples=50, deadline=None)
@given(history=histories())
def test_in_order_delivery_applies_every_record_once_and_replays_apply_none(
    history: list[list[dict[str, Any]]],
) -> None:
    repository = FakeDerived()
    service = AggregationService(repository)
    records = [state for states in history for state in states]
    first = [service.handle(_change(r, r["version"] == 1), "c").decision for r in records]
    assert set(first) == {"applied"}
    snapshot = repository.buckets()
    again = [service.handle(_change(r, False), "c").decision for r in records]
    assert set(again) == {"duplicate"}
    assert repository.buckets() == snapshot
