"""The Aggregator's repository: per-source markers and week buckets (derived keys only).

Keys (schemas/key-design.md):
- marker: PK = AGG#SRC#{source PK} (e.g. AGG#SRC#LISTING#abc), SK = MARKER, type agg-marker:
  the version of the source item last applied and the contribution it had.
- bucket: PK = AGG#{cell}#{crop}, SK = WEEK#{yyyy-mm-dd of its Monday}, type agg-bucket: one
  item per cell, crop and week, with a slot per day: `supply{n}` and `listings{n}` (live
  listings), `demand{n}` and `requests{n}` (open requests) and `contributors{n}` (the users
  whose latest live day of that crop in that cell is that day: domain.disclosure), where n is
  the day's weekday (Monday 0). A bucket's size is constant: no user id, no per-user entry.
  Why weeks: the signals read the 30 days of a crop's window with one Query, billed on the
  sum of the item sizes. Thirty day items of ~220 B (the bookkeeping every item carries) came
  to 6.6 KB, 2 RCU; five or six week items stay under 4 KB, 1 RCU, in a dense cell as in a
  sparse one (bench/pipeline_cost.py). A write still touches one item (1 KB or less: 1 WCU).
- crops index: PK = AGG#{cell}#all, SK = WEEK#..., type agg-bucket, no counters: `crops{n}`,
  a String Set of the crop slugs that had a live item in that cell on weekday n (ADDed,
  never removed): the read side queries those crop partitions. It is not part of the
  buckets' transaction: an idempotent UpdateItem (1 WCU, no read) before it, only when an
  item turns live (domain.contribution.crops_to_index), so the index always names every
  crop with a bucket.
- presence: store.presence (one per user, geohash-4 cell and crop).

Every write is refused before any call unless its PK has a derived prefix (invariant 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from harvest.domain.common import iso, utc_now
from harvest.domain.contribution import ALL_CROPS, BucketDelta, Contribution, crops_to_index
from harvest.domain.signals import DayTotals
from harvest.store import keys
from harvest.store.buckets import (
    CROPS,
    WEEK_DAYS,
    bucket_days,
    bucket_key,
    day_totals,
    delta_slots,
    slot,
    week_of,
)
from harvest.store.dynamo import serialize, values
from harvest.store.presence import StoredPresence, presence_op, read_presence
from harvest.store.table import Item, Key, Table, TransactionCancelled

__all__ = [
    "BUCKET_TYPE",
    "MARKER_TYPE",
    "BucketRow",
    "CoreKeyWriteRefused",
    "DerivedRepository",
    "Marker",
    "StaleMarker",
    "bucket_key",
    "marker_key",
    "refuse_unless_derived",
]

MARKER_TYPE: Final = "agg-marker"
BUCKET_TYPE: Final = "agg-bucket"
MAX_BUCKET_DAYS: Final = 400


class CoreKeyWriteRefused(Exception):
    """A consumer tried to write a key outside the derived families (DESIGN §3 invariant 1)."""

    def __init__(self, pk: object) -> None:
        super().__init__(f"refusing to write {pk!r}: consumers write derived keys only")
        self.pk = pk


class StaleMarker(Exception):
    """The marker changed since it was read (a concurrent record won): re-read, re-decide."""


@dataclass(frozen=True, slots=True)
class BucketRow:
    """One day of a bucket as read: its totals, when its item last changed and (the crops
    index only) the crops that had a live item in its cell that day. `version`: the write
    counter of the item the day is stored in, on the first day read of each item only (0 on
    the others), so a sum over rows is the sum over the items read."""

    totals: DayTotals
    crops: frozenset[str]
    updated_at: str
    version: int = 0


@dataclass(frozen=True, slots=True)
class Marker:
    source_key: str
    version: int
    contribution: Contribution | None
    created_at: str
    updated_at: str
    correlation_id: str


def marker_key(source_key: str) -> Key:
    return {"PK": f"AGG#SRC#{source_key}", "SK": "MARKER"}


def refuse_unless_derived(key: Key) -> None:
    """Raise CoreKeyWriteRefused unless the key's PK is in a derived family."""
    pk = key.get("PK")
    if not isinstance(pk, str) or not keys.is_derived_key(pk):
        raise CoreKeyWriteRefused(pk)


class DerivedRepository:
    def __init__(self, table: Table, clock: Callable[[], datetime] = utc_now) -> None:
        self.table = table
        # What stamps updatedAt when a write is given no `now` (the services' clock).
        self.clock = clock

    # ------------------------------------------------------------------ reads
    def marker(self, source_key: str) -> Marker | None:
        item = self.table.get(marker_key(source_key))
        if item is None:
            return None
        raw = item.get("contribution")
        return Marker(
            source_key=source_key,
            version=int(item["version"]),
            contribution=Contribution.from_json(raw) if raw else None,
            created_at=str(item["createdAt"]),
            updated_at=str(item["updatedAt"]),
            correlation_id=str(item["correlationId"]),
        )

    def presence(self, owner: str, area: str, crop: str) -> StoredPresence:
        """A user's presence for one crop in one geohash-4 cell, and its version."""
        return read_presence(self.table, owner, area, crop)

    def buckets(self, cell: str, crop: str, since_day: date, until_day: date) -> list[DayTotals]:
        """The days of one area and crop from since_day to until_day, oldest first."""
        return [row.totals for row in self.bucket_rows(cell, crop, since_day, until_day)]

    def area_days(
        self, cell: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        """The crops index of one area, oldest first: the crops each day saw."""
        return self.bucket_rows(cell, ALL_CROPS, since_day, until_day, consistent=consistent)

    def bucket_rows(
        self, cell: str, crop: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        """Like buckets(), with each day's item's updatedAt and write counter (BucketRow) and
        (crops index) crops."""
        rows: list[BucketRow] = []
        for item in self._bucket_items(cell, crop, since_day, until_day, consistent):
            version = int(item.get("version", 0))
            for day, fields in bucket_days(item).items():
                if not since_day <= day <= until_day:
                    continue
                rows.append(
                    BucketRow(
                        totals=day_totals(crop, day, fields),
                        crops=frozenset(str(slug) for slug in fields.get(CROPS, ())),
                        updated_at=str(item.get("updatedAt", "")),
                        version=version,
                    )
                )
                version = 0  # counted once per item
        return rows

    def _bucket_items(
        self, cell: str, crop: str, since_day: date, until_day: date, consistent: bool = False
    ) -> list[Item]:
        return self.table.query_all(
            consistent=consistent,
            max_items=MAX_BUCKET_DAYS // WEEK_DAYS + 2,
            index=None,
            key_condition="#pk = :pk AND #sk BETWEEN :since AND :until",
            names={"#pk": "PK", "#sk": "SK"},
            bound={
                "pk": bucket_key(cell, crop, since_day)["PK"],
                "since": bucket_key(cell, crop, since_day)["SK"],
                "until": bucket_key(cell, crop, until_day)["SK"],
            },
            newest_first=False,
        )

    # ------------------------------------------------------------------ writes
    def apply(
        self,
        source_key: str,
        expected_marker_version: int | None,
        new_version: int,
        new_contribution: Contribution | None,
        deltas: Sequence[BucketDelta],
        correlation_id: str,
        presences: Sequence[StoredPresence] = (),
        *,
        now: datetime | None = None,
    ) -> None:
        """Marker, the users' presences (the new ones and the version each was read at) and
        bucket deltas in one TransactWriteItems; raises StaleMarker when the marker is no
        longer at `expected_marker_version` (None: when it exists) or a presence moved.
        First, outside it, the crops index names the crops the deltas make live (so a
        bucket is never without its index entry; an entry left by a lost race is harmless)."""
        moment = iso(now or self.clock())
        for cell, day, crop in crops_to_index(deltas):
            self.index_crop(cell, day, crop, correlation_id, moment)
        operations = [
            self._marker_op(
                source_key, expected_marker_version, new_version, new_contribution,
                correlation_id, moment,
            )
        ]  # fmt: skip
        for presence, read_at in presences:
            operations.append(
                presence_op(self.table.name, presence, read_at, correlation_id, moment)
            )
        # A transaction may touch an item once: the days of one week go in one update.
        weeks: dict[tuple[str, str], tuple[Key, list[BucketDelta]]] = {}
        for delta in deltas:
            key = bucket_key(delta.cell, delta.crop, delta.day)
            _, same = weeks.setdefault((key["PK"], key["SK"]), (key, []))
            if any(other.day == delta.day for other in same):
                raise ValueError(f"two deltas for one day of {key}: merge them first")
            same.append(delta)
        for key, week in weeks.values():
            operations.append(self._bucket_op(key, week, correlation_id, moment))
        try:
            self.write(operations)
        except TransactionCancelled as error:
            if any(index <= len(presences) for index in error.failed):
                raise StaleMarker(source_key) from error
            raise

    def index_crop(self, cell: str, day: date, crop: str, correlation_id: str, moment: str) -> None:
        """Name `crop` in the crops index of (cell, day): one unconditional UpdateItem that
        ADDs to a set, so redelivery and replay change nothing."""
        key = bucket_key(cell, ALL_CROPS, day)
        refuse_unless_derived(key)
        self.table.update_if(
            key,
            "SET #type = :type, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, "
            "correlationId = :cid, cell = :cell, crop = :all, #week = :week "
            "ADD #version :one, #crops :crops",
            None,
            {"#type": "type", "#version": "version", "#week": "week", "#crops": slot(CROPS, day)},
            {
                "type": BUCKET_TYPE, "now": moment, "cid": correlation_id, "cell": cell,
                "all": ALL_CROPS, "week": week_of(day).isoformat(), "one": 1, "crops": {crop},
            },
        )  # fmt: skip

    def write(self, operations: Sequence[dict[str, Any]]) -> None:
        """The only write path: one TransactWriteItems, refused before any call when an
        operation addresses a key outside the derived families."""
        for operation in operations:
            refuse_unless_derived(_key_of(operation))
        self.table.transact(operations)

    def replace(
        self, items: Sequence[Item], correlation_id: str, *, now: datetime | None = None
    ) -> None:
        """Put each item exactly as given (a rebuild), with fresh updatedAt and
        correlationId, in one transaction; createdAt is kept when the item carries one."""
        moment = iso(now or self.clock())
        operations = [
            {
                "Put": {
                    "TableName": self.table.name,
                    "Item": serialize(
                        {
                            "createdAt": moment,
                            **item,
                            "updatedAt": moment,
                            "correlationId": correlation_id,
                        }
                    ),
                }
            }
            for item in items
        ]
        if operations:
            self.write(operations)

    def delete(self, item_keys: Sequence[Key]) -> None:
        """Delete derived items (a rebuild removing what should not exist), in one transaction."""
        operations = [
            {"Delete": {"TableName": self.table.name, "Key": serialize(key)}} for key in item_keys
        ]
        if operations:
            self.write(operations)

    def _marker_op(
        self,
        source_key: str,
        expected: int | None,
        version: int,
        contribution: Contribution | None,
        correlation_id: str,
        moment: str,
    ) -> dict[str, Any]:
        key = marker_key(source_key)
        sets = [
            "#type = :type",
            "#version = :version",
            "createdAt = if_not_exists(createdAt, :now)",
            "updatedAt = :now",
            "correlationId = :cid",
            "sourceKey = :source",
        ]
        bound: dict[str, Any] = {
            "type": MARKER_TYPE,
            "version": version,
            "now": moment,
            "cid": correlation_id,
            "source": source_key,
        }
        expression = "SET " + ", ".join(sets)
        if contribution is None:
            expression += " REMOVE contribution"
        else:
            expression = expression.replace("SET ", "SET contribution = :c, ", 1)
            bound["c"] = contribution.to_json()
        if expected is None:
            condition = "attribute_not_exists(PK)"
        else:
            condition = "#version = :expected"
            bound["expected"] = expected
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": serialize(key),
                "UpdateExpression": expression,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#type": "type", "#version": "version"},
                "ExpressionAttributeValues": values(**bound),
            }
        }

    def _bucket_op(
        self, key: Key, deltas: Sequence[BucketDelta], correlation_id: str, moment: str
    ) -> dict[str, Any]:
        """One week's update: each delta ADDs to its day's slots (the days are distinct)."""
        first = deltas[0]
        names = {"#type": "type", "#version": "version", "#week": "week"}
        bound: dict[str, Any] = {
            "type": BUCKET_TYPE,
            "now": moment,
            "cid": correlation_id,
            "one": 1,
            "cell": first.cell,
            "crop": first.crop,
            "week": week_of(first.day).isoformat(),
        }
        adds = ["#version :one"]
        for n, (attribute, change) in enumerate(
            added for delta in deltas for added in delta_slots(delta)
        ):
            names[f"#a{n}"] = attribute
            adds.append(f"#a{n} :a{n}")
            bound[f"a{n}"] = change
        expression = (
            "SET #type = :type, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, "
            "correlationId = :cid, cell = :cell, crop = :crop, #week = :week ADD " + ", ".join(adds)
        )
        return {
            "Update": {
                "TableName": self.table.name,
                "Key": serialize(key),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values(**bound),
            }
        }


def _key_of(operation: dict[str, Any]) -> Key:
    """The key an operation of TransactWriteItems addresses (Put carries it in Item)."""
    if len(operation) != 1:
        raise ValueError(f"not one TransactWriteItems operation: {sorted(operation)}")
    [body] = operation.values()
    image = body.get("Key") or body.get("Item") or {}
    pk = image.get("PK") if isinstance(image, dict) else None
    return {"PK": str(pk.get("S")) if isinstance(pk, dict) else ""}
