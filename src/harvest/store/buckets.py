"""The layout of the Aggregator's buckets: one item per cell, crop and week, a slot per day.

A bucket's key is `AGG#{cell}#{crop}` / `WEEK#{yyyy-mm-dd of its Monday}`; each per-day value
is an attribute `{name}{n}`, n the day's weekday (Monday 0): the counters `supply`,
`demand`, `listings`, `requests` and `contributors` (crop buckets), or `crops` (the crops
index, `AGG#{cell}#all`). Why weeks rather than a day per item: see store.derived.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Final

from harvest.domain.contribution import BucketDelta
from harvest.domain.signals import DayTotals
from harvest.store.table import Key

__all__ = [
    "COUNTERS",
    "CROPS",
    "WEEK_DAYS",
    "bucket_day_totals",
    "bucket_days",
    "bucket_key",
    "day_totals",
    "delta_slots",
    "slot",
    "slot_of",
    "week_of",
]

WEEK_DAYS: Final = 7
# The per-day attributes of a bucket, each stored once per weekday as `{name}{n}`.
COUNTERS: Final = ("supply", "demand", "listings", "requests", "contributors")
CROPS: Final = "crops"
# The counters a delta of each kind moves, besides `contributors`.
_QUANTITY: Final = {"supply": "supply", "demand": "demand"}
_COUNT: Final = {"supply": "listings", "demand": "requests"}


def week_of(day: date) -> date:
    """The Monday of the week a day is stored in."""
    return day - timedelta(days=day.weekday())


def bucket_key(cell: str, crop: str, day: date) -> Key:
    """The key of the bucket item holding `day` (its week's)."""
    return {"PK": f"AGG#{cell}#{crop}", "SK": f"WEEK#{week_of(day).isoformat()}"}


def slot(name: str, day: date) -> str:
    """The attribute holding a per-day value `name` (a counter or `crops`) of `day`."""
    return f"{name}{day.weekday()}"


def slot_of(attribute: str) -> tuple[str, int | None]:
    """An attribute's name without its weekday, and the weekday (None: no digits, as the
    unsuffixed counters of the day buckets stored before weeks)."""
    name = attribute.rstrip("0123456789")
    digits = attribute[len(name) :]
    return name, int(digits) if digits else None


def delta_slots(delta: BucketDelta) -> list[tuple[str, Decimal | int]]:
    """What a delta ADDs to its week's bucket: (slot attribute, change), non-zero only."""
    changes: tuple[tuple[str, Decimal | int], ...] = (
        (_QUANTITY[delta.kind], delta.quantity_delta),
        (_COUNT[delta.kind], delta.count_delta),
        ("contributors", delta.contributors_delta),
    )
    return [(slot(counter, delta.day), change) for counter, change in changes if change != 0]


def bucket_days(item: Mapping[str, Any]) -> dict[date, dict[str, Any]]:
    """The day slots of a bucket item (as stored, or as a rebuild computes it): day ->
    {counter or `crops`: value}, for each day that has at least one slot attribute."""
    week = date.fromisoformat(str(item["SK"]).removeprefix("WEEK#"))
    days: dict[date, dict[str, Any]] = {}
    for attribute, value in item.items():
        name, weekday = slot_of(attribute)
        if weekday is not None and weekday < WEEK_DAYS and name in (*COUNTERS, CROPS):
            days.setdefault(week + timedelta(days=weekday), {})[name] = value
    return dict(sorted(days.items()))


def bucket_day_totals(crop: str, item: Mapping[str, Any]) -> list[DayTotals]:
    """Every day of a bucket item as the signals' DayTotals, oldest first."""
    return [day_totals(crop, day, fields) for day, fields in bucket_days(item).items()]


def day_totals(crop: str, day: date, fields: Mapping[str, Any]) -> DayTotals:
    """One day's slots of a bucket as the signals' DayTotals."""
    return DayTotals(
        day=day,
        crop=crop,
        supply=Decimal(fields.get("supply", 0)),
        demand=Decimal(fields.get("demand", 0)),
        listings=int(fields.get("listings", 0)),
        requests=int(fields.get("requests", 0)),
        contributors=int(fields.get("contributors", 0)),
    )
