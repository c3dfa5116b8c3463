"""An in-memory DerivedRepository keeping items in their stored shape (ADD semantics, the
same conditions), for the pure tests of the Aggregator's decision against the rebuild; the
real repository runs in tests/integration (moto, and DynamoDB Local in make conformance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from harvest.domain.contribution import BucketDelta, Contribution, crops_to_index
from harvest.domain.disclosure import Presence
from harvest.services.rebuild import ItemKey
from harvest.store.buckets import bucket_key, delta_slots, slot, week_of
from harvest.store.derived import Marker, StaleMarker, marker_key
from harvest.store.presence import StoredPresence, presence_key


@dataclass
class StoredDerived:
    """In-memory DerivedRepository keeping items in the stored shape (ADD semantics)."""

    items: dict[ItemKey, dict[str, Any]] = field(default_factory=dict)
    # Sources whose next apply loses the race once (a concurrent writer): the re-read path.
    lose_once: set[str] = field(default_factory=set)

    def marker(self, source_key: str) -> Marker | None:
        key = marker_key(source_key)
        item = self.items.get((key["PK"], key["SK"]))
        if item is None:
            return None
        raw = item.get("contribution")
        contribution = Contribution.from_json(raw) if raw else None
        return Marker(source_key, int(item["version"]), contribution, "t", "t", "c")

    def presence(self, owner: str, area: str, crop: str) -> StoredPresence:
        key = presence_key(owner, area, crop)
        item = self.items.get((key["PK"], key["SK"]))
        if item is None:
            return Presence(owner, area, crop, {}), None
        return Presence.from_json(owner, area, crop, item["live"]), int(item["version"])

    def apply(
        self,
        source_key: str,
        expected_marker_version: int | None,
        new_version: int,
        new_contribution: Contribution | None,
        deltas: list[BucketDelta],
        correlation_id: str,
        presences: Sequence[StoredPresence] = (),
    ) -> None:
        # As the real repository: the crops index first, outside the transaction.
        for cell, day, crop in crops_to_index(deltas):
            index = bucket_key(cell, "all", day)
            item = self.items.setdefault((index["PK"], index["SK"]), {**index, "cell": cell})
            item.update(
                crop="all", week=week_of(day).isoformat(), version=int(item.get("version", 0)) + 1
            )
            item[slot("crops", day)] = set(item.get(slot("crops", day), set())) | {crop}
        if source_key in self.lose_once:
            self.lose_once.discard(source_key)
            raise StaleMarker(source_key)
        current = self.marker(source_key)
        if (current.version if current else None) != expected_marker_version:
            raise StaleMarker(source_key)
        for after, read_at in presences:
            if self.presence(after.owner, after.area, after.crop)[1] != read_at:
                raise StaleMarker(source_key)
            key = presence_key(after.owner, after.area, after.crop)
            self.items[(key["PK"], key["SK"])] = {
                **key,
                "type": "agg-presence",
                "live": after.to_json(),
                "version": (read_at or 0) + 1,
            }
        key = marker_key(source_key)
        self.items[(key["PK"], key["SK"])] = {
            **key,
            "type": "agg-marker",
            "version": new_version,
            "sourceKey": source_key,
            "contribution": new_contribution.to_json() if new_contribution else None,
            "correlationId": correlation_id,
        }
        written: set[ItemKey] = set()  # one write per week item, as the transaction
        for delta in deltas:
            address = bucket_key(delta.cell, delta.crop, delta.day)
            bucket = self.items.setdefault((address["PK"], address["SK"]), {**address})
            if (address["PK"], address["SK"]) not in written:
                bucket["version"] = int(bucket.get("version", 0)) + 1
                written.add((address["PK"], address["SK"]))
            for name, change in delta_slots(delta):
                bucket[name] = Decimal(bucket.get(name, 0)) + change
