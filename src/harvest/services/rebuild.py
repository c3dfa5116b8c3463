"""Rebuild and audit of the Aggregator's derived items from the core items alone.

`expected_derived` computes, from the final states of listings and requests, every marker,
(week) bucket and presence the incremental pipeline should hold: the deltas telescope
(domain.contribution), so the deltas from nothing to each final contribution sum to the
buckets; each user's presence is their live items, and each bucket's `contributors` the users
whose latest live day (per cell and crop) it is (domain.disclosure). A presence without live
items equals an absent one. `drift` compares
that with what the table holds, ignoring bookkeeping (createdAt, updatedAt, correlationId and
a bucket's write counter `version`; a marker's `version` is the source version applied and is
compared), and treating a zero counter as an absent one and an all-zero bucket as absent.
Buckets are compared day slot by day slot (`supply3`: Thursday's supply, store.derived).

A cell's crops index (`AGG#{cell}#all`) has no counters; its `crops{n}` sets are only ever
ADDed to, so the table may hold crops whose items are no longer live: drift is reported only
when an expected crop is missing. (Day buckets `DAY#...`, stored before buckets held a week,
are drift: a rebuild deletes them and writes the week items.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from harvest.domain.contribution import (
    ALL_CROPS,
    Contribution,
    bucket_deltas,
    contribution_of,
    crops_to_index,
)
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.disclosure import latest_days
from harvest.services.aggregation import SOURCE_PREFIXES
from harvest.store.buckets import (
    COUNTERS,
    CROPS,
    bucket_key,
    delta_slots,
    slot,
    slot_of,
    week_of,
)
from harvest.store.derived import BUCKET_TYPE, MARKER_TYPE, marker_key
from harvest.store.items import contribution_source
from harvest.store.presence import PRESENCE_TYPE, is_presence, presence_key

__all__ = [
    "BOOKKEEPING",
    "Drift",
    "ItemKey",
    "drift",
    "expected_derived",
    "is_bucket",
    "is_marker",
    "item_key",
]

type ItemKey = tuple[str, str]

BOOKKEEPING: Final = frozenset({"version", "createdAt", "updatedAt", "correlationId"})


@dataclass(frozen=True, slots=True)
class Drift:
    """One attribute of one derived item that differs from the rebuild (None: absent)."""

    pk: str
    sk: str
    attribute: str
    expected: Any
    actual: Any

    def line(self) -> str:
        return (
            f"{self.pk} {self.sk}  {self.attribute}  "
            f"expected={_show(self.expected)}  actual={_show(self.actual)}"
        )


def item_key(item: Mapping[str, Any]) -> ItemKey:
    return (str(item["PK"]), str(item["SK"]))


def is_marker(key: ItemKey) -> bool:
    return key[0].startswith("AGG#SRC#")


def is_bucket(key: ItemKey) -> bool:
    """A (week) bucket or crops index (not a marker, not a presence)."""
    return key[1].startswith("WEEK#") and not is_marker(key) and not is_presence(key[0])


def expected_derived(
    core_items: Iterable[Mapping[str, Any]], catalog: CropCatalog | None = None
) -> dict[ItemKey, dict[str, Any]]:
    """Every marker, bucket and presence the pipeline should hold, keyed by (PK, SK), without
    the bookkeeping attributes except a marker's `version` (the source version)."""
    crops = catalog if catalog is not None else load_catalog()
    found: dict[ItemKey, dict[str, Any]] = {}
    live: list[Contribution] = []
    for item in core_items:
        pk = str(item.get("PK", ""))
        if not pk.startswith(SOURCE_PREFIXES):
            continue
        contribution = contribution_of(contribution_source(item), crops)
        if contribution is None:
            continue
        marker = marker_key(pk)
        found[(marker["PK"], marker["SK"])] = {
            **marker,
            "type": MARKER_TYPE,
            "version": int(item["version"]),
            "sourceKey": pk,
            "contribution": contribution.to_json(),
        }
        _add_buckets(found, contribution)
        if contribution.live:
            live.append(contribution)
    _add_presence(found, live)
    return found


def _add_presence(found: dict[ItemKey, dict[str, Any]], live: list[Contribution]) -> None:
    for contribution in live:
        key = presence_key(contribution.owner, contribution.cells[0], contribution.crop)
        presence = found.setdefault(
            (key["PK"], key["SK"]),
            {**key, "type": PRESENCE_TYPE, "ownerId": contribution.owner,
             "area": contribution.cells[0], "crop": contribution.crop, "live": {}},
        )  # fmt: skip
        place = f"{contribution.cells[2]}#{contribution.day.isoformat()}"
        presence["live"][place] = presence["live"].get(place, 0) + 1
    for (_, cell, crop), day in latest_days(live).items():
        key = bucket_key(cell, crop, day)
        bucket = found[(key["PK"], key["SK"])]  # a live item of that day made it
        name = slot("contributors", day)
        bucket[name] = Decimal(bucket.get(name, 0)) + 1


def _add_buckets(found: dict[ItemKey, dict[str, Any]], contribution: Contribution) -> None:
    for delta in bucket_deltas(None, contribution):
        key = bucket_key(delta.cell, delta.crop, delta.day)
        bucket = found.setdefault(
            (key["PK"], key["SK"]),
            {
                **key,
                "type": BUCKET_TYPE,
                "cell": delta.cell,
                "crop": delta.crop,
                "week": week_of(delta.day).isoformat(),
            },
        )
        for name, change in delta_slots(delta):
            bucket[name] = Decimal(bucket.get(name, 0)) + change
    for cell, day, crop in crops_to_index(bucket_deltas(None, contribution)):
        key = bucket_key(cell, ALL_CROPS, day)
        index = found.setdefault(
            (key["PK"], key["SK"]),
            {**key, "type": BUCKET_TYPE, "cell": cell, "crop": ALL_CROPS,
             "week": week_of(day).isoformat()},
        )  # fmt: skip
        name = slot(CROPS, day)
        index[name] = set(index.get(name, set())) | {crop}


def drift(
    expected: Mapping[ItemKey, Mapping[str, Any]], actual: Mapping[ItemKey, Mapping[str, Any]]
) -> list[Drift]:
    """What differs between the rebuild and the table, in key order."""
    found: list[Drift] = []
    for key in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(key), actual.get(key)
        if is_marker(key):
            found += _marker_drift(key, want, have)
        elif is_presence(key[0]):
            found += _presence_drift(key, want, have)
        else:
            found += _bucket_drift(key, want, have)
    return found


def _marker_drift(
    key: ItemKey, want: Mapping[str, Any] | None, have: Mapping[str, Any] | None
) -> list[Drift]:
    if want is None or have is None:
        return [Drift(*key, "item", _presence(want), _presence(have))]
    found: list[Drift] = []
    if int(want["version"]) != int(have.get("version", 0)):
        found.append(Drift(*key, "version", int(want["version"]), have.get("version")))
    wanted, held = _contribution(want), _contribution(have)
    if wanted != held:
        found.append(
            Drift(*key, "contribution", want.get("contribution"), have.get("contribution"))
        )
    return found


def _presence_drift(
    key: ItemKey, want: Mapping[str, Any] | None, have: Mapping[str, Any] | None
) -> list[Drift]:
    wanted, held = _live(want), _live(have)
    return [] if wanted == held else [Drift(*key, "live", wanted or None, held or None)]


def _live(item: Mapping[str, Any] | None) -> dict[str, int]:
    """A presence's non-zero live counts (an absent presence has none)."""
    raw = (item or {}).get("live") or {}
    return {str(place): int(n) for place, n in dict(raw).items() if int(n) != 0}


def _contribution(item: Mapping[str, Any]) -> Contribution | None:
    raw = item.get("contribution")
    try:
        return Contribution.from_json(raw) if raw else None
    except (KeyError, TypeError, ValueError):
        return None


def _totals(item: Mapping[str, Any] | None) -> dict[str, Decimal]:
    """The non-zero day counters of a bucket (an absent bucket has none), by attribute
    (`supply3`; a day bucket stored before weeks: `supply`)."""
    if item is None:
        return {}
    found: dict[str, Decimal] = {}
    for name, value in item.items():
        if slot_of(name)[0] in COUNTERS:
            number = Decimal(str(value))
            if number != 0:
                found[name] = number
    return found


def _bucket_drift(
    key: ItemKey, want: Mapping[str, Any] | None, have: Mapping[str, Any] | None
) -> list[Drift]:
    wanted, held = _totals(want), _totals(have)
    found = [
        Drift(*key, name, wanted.get(name), held.get(name))
        for name in sorted(wanted.keys() | held.keys())
        if wanted.get(name) != held.get(name)
    ]
    for name in sorted(_crop_slots(want)):
        expected_crops = frozenset(str(c) for c in (want or {}).get(name, ()))
        held_crops = frozenset(str(c) for c in (have or {}).get(name, ()))
        if not expected_crops <= held_crops:
            found.append(Drift(*key, name, sorted(expected_crops), sorted(held_crops)))
    return found


def _crop_slots(item: Mapping[str, Any] | None) -> set[str]:
    """The `crops{n}` attributes of a crops index."""
    return {name for name in item or {} if slot_of(name)[0] == CROPS}


def _presence(item: Mapping[str, Any] | None) -> str | None:
    return None if item is None else "present"


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)
