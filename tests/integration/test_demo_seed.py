"""`harvest seed --demo`: re-runnable after a failure, and a city with shortages as well as
surpluses (the signals have something worth acting on)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from harvest.domain.geo import encode
from harvest.local import moto_patches
from harvest.local.demo import AREAS, SHORTAGES, SeedReport, seed_demo
from harvest.store.repository import Repository
from harvest.store.table import Table
from support.engine import ENGINE

NOW = datetime(2026, 6, 15, tzinfo=UTC)


# A smaller city than the default, kept quick: 3 searchers in each area (the least that lets
# a shortage crop reach k = 3 distinct askers), 8 days so each crop gets all three.
def seed(
    repository: Repository, now: datetime = NOW, progress: Callable[[str], None] | None = None
) -> SeedReport:
    return seed_demo(repository, days=8, growers=12, searchers=18, now=now, progress=progress)


class Interrupted(Exception):
    """Stands for whatever stopped the first run half-way (a timeout, Ctrl-C, a crash)."""


def _items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = dynamodb.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _core_fingerprint(dynamodb: Any, table: str) -> Counter[str]:
    return Counter(
        f"{item['PK']['S']}|{item['SK']['S']}|{item['version']['N']}"
        for item in _items(dynamodb, table)
    )


@pytest.fixture
def quick_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """On moto, the runtime's own TransactWriteItems (local.moto_patches): plain moto
    deep-copies the whole table before every transaction, and a seed makes hundreds of them
    (most of these tests' time). Same outcome, pinned against plain moto and DynamoDB Local
    by test_moto_patches.py; the conformance run seeds on DynamoDB Local itself."""
    if ENGINE == "moto":
        monkeypatch.setattr(
            DynamoDBBackend, "transact_write_items", moto_patches.transact_write_items
        )


@pytest.fixture
def repository(quick_transactions: None, table: str, dynamodb: Any) -> Repository:
    return Repository(Table(dynamodb, table))


def test_a_rerun_after_a_failure_half_way_completes_without_duplicates(
    repository: Repository, dynamodb: Any, table: str
) -> None:
    def stop_after_day_four(line: str) -> None:
        if line.startswith("day 4/"):
            raise Interrupted(line)

    with pytest.raises(Interrupted):
        seed(repository, progress=stop_after_day_four)
    partial = len(_items(dynamodb, table))

    finished = seed(repository)
    after_rerun = _core_fingerprint(dynamodb, table)
    again = seed(repository)

    assert 0 < partial < sum(after_rerun.values())
    assert finished.listings == again.listings > 0
    assert finished.claims > 0
    assert _core_fingerprint(dynamodb, table) == after_rerun  # nothing new, nothing moved


def test_a_rerun_on_another_day_keeps_what_is_there(
    repository: Repository, dynamodb: Any, table: str
) -> None:
    first = seed(repository)
    before = _core_fingerprint(dynamodb, table)

    later = seed(repository, now=NOW + timedelta(days=3))

    assert _core_fingerprint(dynamodb, table) == before
    assert later.kept >= first.listings + first.requests
    assert (later.listings, later.requests) == (first.listings, first.requests)


def test_shortage_areas_ask_for_crops_nobody_there_lists(
    repository: Repository, dynamodb: Any, table: str
) -> None:
    seed(repository)
    plain = [
        {k: next(iter(v.values())) for k, v in item.items()} for item in _items(dynamodb, table)
    ]
    listed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    askers: dict[tuple[str, str], set[str]] = defaultdict(set)
    asked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in plain:
        if item.get("type") == "listing":
            listed[item["geohash"][:5], item["crop"]] += Decimal(item["quantityTotal"])
        elif item.get("type") == "request":
            askers[item["geohash"][:5], item["crop"]].add(item["ownerId"])
            asked[item["geohash"][:5], item["crop"]] += Decimal(item["quantity"])

    for area, crops in SHORTAGES.items():
        lat, lon = AREAS[area]
        cell = encode(lat, lon, 5)
        for crop in crops:
            assert len(askers[cell, crop]) >= 3, (area, crop)  # enough people to be published
            # demand well above what is on offer: a shortage by the policy's 1.5 ratio
            assert asked[cell, crop] >= Decimal("1.5") * (listed[cell, crop] + 1), (area, crop)
    surpluses = [key for key, quantity in listed.items() if quantity >= 3 * (asked[key] + 1)]
    assert surpluses, "the demo city shows no surplus anywhere"
