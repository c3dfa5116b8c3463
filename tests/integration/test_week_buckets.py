"""Buckets hold a week of day slots (store.buckets): what a day's write lands in, what a
window's read returns across week boundaries, and the sizes that keep a 30-day Query at one
read unit however busy the cell (issue 9, point 4)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from harvest.domain.contribution import BucketDelta
from harvest.store.buckets import bucket_key, week_of
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import deserialize, make_client, serialize
from harvest.store.sizes import item_size
from harvest.store.table import Table

CELL, CROP = "u33db", "tomato"
THURSDAY = date(2026, 5, 7)  # slot 3 of the week of Monday 2026-05-04


def _repository(table: str) -> DerivedRepository:
    return DerivedRepository(Table(make_client("us-east-1"), table))


def _stored(table: str, day: date, crop: str = CROP) -> dict[str, Any]:
    client = make_client("us-east-1")
    raw = client.get_item(TableName=table, Key=serialize(bucket_key(CELL, crop, day)))
    return deserialize(raw["Item"])


def _delta(day: date, quantity: str, count: int, contributors: int = 0) -> BucketDelta:
    return BucketDelta(CELL, CROP, day, "supply", Decimal(quantity), count, contributors)


def test_two_days_of_one_week_are_one_item_written_once_per_record(table: str) -> None:
    repository = _repository(table)
    friday = THURSDAY + timedelta(days=1)

    # One record moving a contributor from Thursday to Friday: one update of one item.
    repository.apply(
        "LISTING#a", None, 1, None, [_delta(THURSDAY, "4", 1, -1), _delta(friday, "0", 0, 1)], "c1"
    )
    repository.apply("LISTING#b", None, 1, None, [_delta(THURSDAY, "2.5", 1, 1)], "c2")

    item = _stored(table, THURSDAY)
    assert item["SK"] == "WEEK#2026-05-04"
    assert (item["supply3"], item["listings3"], item["contributors3"]) == (Decimal("6.5"), 2, 0)
    assert item["contributors4"] == 1
    assert "supply4" not in item  # a zero delta is not written
    assert item["version"] == 2  # two transactions, each touching the item once
    assert item["correlationId"] == "c2"
    assert item["week"] == "2026-05-04"


def test_a_window_reads_only_its_days_across_week_boundaries(table: str) -> None:
    repository = _repository(table)
    days = [THURSDAY + timedelta(days=offset) for offset in range(-10, 11, 2)]
    for index, day in enumerate(days):
        repository.apply(f"LISTING#{index}", None, 1, None, [_delta(day, "1", 1, 1)], "c")
    since, until = THURSDAY - timedelta(days=5), THURSDAY + timedelta(days=5)

    rows = repository.bucket_rows(CELL, CROP, since, until, consistent=True)

    assert [row.totals.day for row in rows] == [d for d in days if since <= d <= until]
    assert all(row.totals.supply == 1 and row.totals.contributors == 1 for row in rows)
    # The write counter is counted once per item read: the sum is the items' sum.
    weeks = {week_of(row.totals.day) for row in rows}
    held = {week: int(_stored(table, week)["version"]) for week in weeks}
    assert sum(row.version for row in rows) == sum(held.values())
    quiet = until + timedelta(days=2)  # a day without a write, in a week item read
    assert repository.buckets(CELL, CROP, quiet, quiet) == []


def test_the_crops_index_names_the_crops_of_each_day(table: str) -> None:
    repository = _repository(table)
    repository.index_crop(CELL, THURSDAY, "tomato", "c", "2026-05-07T10:00:00.000Z")
    repository.index_crop(CELL, THURSDAY, "kale", "c", "2026-05-07T10:00:00.000Z")
    repository.index_crop(CELL, THURSDAY, "kale", "c", "2026-05-07T10:00:00.000Z")  # replayed
    repository.index_crop(CELL, THURSDAY + timedelta(days=4), "leek", "c", "2026-05-11T10:00Z")

    rows = repository.area_days(CELL, THURSDAY, THURSDAY + timedelta(days=4), consistent=True)

    assert [(row.totals.day, sorted(row.crops)) for row in rows] == [
        (THURSDAY, ["kale", "tomato"]),
        (THURSDAY + timedelta(days=4), ["leek"]),  # Monday: the next week's item
    ]


def test_a_busy_week_stays_under_a_write_unit_and_thirty_days_under_a_read_unit(
    table: str,
) -> None:
    """The figures of point 4 rest on these two sizes: a full week item is one write unit
    (1 KB) and the five or six items of a 30-day window one strongly consistent read (4 KB)."""
    repository = _repository(table)
    today = THURSDAY
    since = today - timedelta(days=29)
    correlation = "8f14e45f-ceea-467a-9575-0f6b1c1a1d2e"  # as long as a request's id
    for offset in range(30):
        day = since + timedelta(days=offset)
        big = BucketDelta(CELL, CROP, day, "supply", Decimal("123456.789"), 9999, 9999)
        wanted = BucketDelta(CELL, CROP, day, "demand", Decimal("98765.4321"), 9999)
        repository.apply(f"LISTING#{offset}", None, 1, None, [big], correlation)
        repository.apply(f"REQUEST#{offset}", None, 1, None, [wanted], correlation)
    client = make_client("us-east-1")
    weeks = sorted({week_of(since + timedelta(days=n)) for n in range(30)})

    sizes = [item_size(serialize(_stored(table, week))) for week in weeks]
    read = client.query(
        TableName=table,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :since AND :until",
        ExpressionAttributeValues=serialize(
            {
                ":pk": bucket_key(CELL, CROP, today)["PK"],
                ":since": bucket_key(CELL, CROP, since)["SK"],
                ":until": bucket_key(CELL, CROP, today)["SK"],
            }
        ),
        ConsistentRead=True,
        ReturnConsumedCapacity="TOTAL",
    )

    assert len(sizes) in (5, 6)
    assert all(len(_stored(table, week)) == 10 + 35 for week in weeks[1:-1])  # every slot
    assert max(sizes) <= 1024, sizes  # one write unit per week written
    assert sum(sizes) <= 4096, sizes  # one strongly consistent read unit for the window
    assert read["Count"] == len(sizes)
    # Billed by size on DynamoDB Local (make conformance); moto bills a constant.
    assert read["ConsumedCapacity"]["CapacityUnits"] == 1.0
