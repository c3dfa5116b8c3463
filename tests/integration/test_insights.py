"""Insights on the real table: listing and request changes delivered to the derivation
consumer as the stream would deliver them become one versioned INSIGHT# item per area, exactly
once, and never go backwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from harvest.consumers import derivation
from harvest.domain.insight import Insight
from harvest.domain.signals import Classification
from harvest.settings import current_settings
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository, StoredInsight
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record


@pytest.fixture
def repository(table: str) -> Iterator[InsightRepository]:
    derivation.derivation.reset()
    yield InsightRepository(Table(make_client("us-east-1"), current_settings().table_name))
    derivation.derivation.reset()


def _community(api: Api, dynamodb: Any, table: str) -> tuple[str, list[dict[str, Any]]]:
    """Three growers offer 4 kg each, three families ask for 1 kg each (k of each kind, as
    demand sums the requesters' items only); the derivation consumer has run. Returns the
    first listing's geohash and the records delivered."""
    records = []
    for n, grower in enumerate(("ann", "ben", "cem")):
        created = api.post("/listings", payloads.listing(quantity=4), user=grower)
        assert created.status == 201, created.body
        records.append(
            stored_item_record(dynamodb, table, f"LISTING#{created.body['listingId']}", n)
        )
    for n, family in enumerate(("dora", "emil", "finn"), start=9):
        body = payloads.request(quantity=1, location=dict(payloads.BERLIN))
        asked = api.post("/requests", body, user=family)
        assert asked.status == 201, asked.body
        pk = f"REQUEST#{asked.body['requestId']}"
        records.append(stored_item_record(dynamodb, table, pk, n))
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}
    return str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"]), records


def test_source_changes_become_one_published_insight_per_area_exactly_once(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, records = _community(api, dynamodb, table)

    # A duplicate delivery of the whole batch.
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}

    finer = repository.current(geohash[:6])
    assert finer is not None  # precision 6 publishes nothing (domain.release)
    assert all(window.crops == () for window in finer.insight.windows)
    for cell in (geohash[:4], geohash[:5]):
        stored = repository.current(cell)
        assert stored is not None
        assert stored.version == 1, "a replay must not make a new version"
        week = stored.insight.windows[0]
        [tomato] = week.crops
        assert (tomato.supply, tomato.demand, tomato.listings, tomato.requests) == (
            Decimal(12),
            Decimal(3),
            3,
            3,
        )
        assert tomato.classification is Classification.SURPLUS
        assert stored.correlation_id not in ("", "unknown")
        assert set(stored.digests) == {"7", "14", "30"}


def test_an_insight_under_k_contributors_stores_no_figures(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    created = api.post("/listings", payloads.listing(quantity=4), user="ann")
    record = stored_item_record(dynamodb, table, f"LISTING#{created.body['listingId']}", 1)
    assert derivation.handler({"Records": [record]}, LongContext()) == {"batchItemFailures": []}

    geohash = str(record["dynamodb"]["NewImage"]["geohash"]["S"])
    stored = repository.current(geohash[:5])
    assert stored is not None
    # Not even named: a crop under k looks like a crop nobody listed (issue 11).
    assert all(window.crops == () for window in stored.insight.windows)
    raw = dynamodb.get_item(
        TableName=table, Key={"PK": {"S": f"INSIGHT#{geohash[:5]}"}, "SK": {"S": "CURRENT"}}
    )["Item"]
    assert raw["windows"]["L"][0]["M"]["crops"]["L"] == [], "no hidden crop"
    assert "tomato" not in str(raw)


def test_a_counter_only_bucket_change_moves_the_guard_without_a_new_version(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    before = repository.current(geohash[:4])
    assert before is not None
    today = datetime.now(UTC).date().isoformat()
    dynamodb.update_item(
        TableName=table,
        # One of the precision-5 cells the precision-4 area is made of (domain.release).
        Key={"PK": {"S": f"AGG#{geohash[:5]}#tomato"}, "SK": {"S": f"DAY#{today}"}},
        UpdateExpression="ADD #v :one",
        ExpressionAttributeNames={"#v": "version"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    outcome = derivation.derivation().insights.refresh(geohash[:4], "corr-counter")

    after = repository.current(geohash[:4])
    assert outcome.decision == "unchanged"
    assert after is not None
    assert after.version == before.version
    assert after.insight.input_version == before.insight.input_version + 1


def _insight(area: str, day: date, input_version: int, template: StoredInsight) -> Insight:
    return Insight(area, day, input_version, template.insight.windows)


def test_an_older_computation_can_never_overwrite_a_newer_insight(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    area = geohash[:5]
    stored = repository.current(area)
    assert stored is not None
    day, version = stored.insight.as_of_day, stored.insight.input_version

    assert not repository.save(_insight(area, day, version, stored), "late-same")
    assert not repository.save(_insight(area, day, version - 1, stored), "late-older")
    assert not repository.save(_insight(area, day - timedelta(days=1), 10**6, stored), "late-day")
    assert not repository.advance(area, day, version)
    unchanged = repository.current(area)
    assert unchanged is not None
    assert (unchanged.version, unchanged.correlation_id) == (stored.version, stored.correlation_id)

    assert repository.save(_insight(area, day, version + 1, stored), "newer")
    newer = repository.current(area)
    assert newer is not None
    assert (newer.version, newer.correlation_id) == (stored.version + 1, "newer")
