"""The aggregator on the real table: listing changes made through the API, delivered as the
stream would deliver them (the stored images), land in the day buckets exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from botocore.stub import Stubber

from harvest.consumers import derivation
from harvest.domain.signals import DayTotals
from harvest.settings import current_settings
from harvest.store.derived import CoreKeyWriteRefused, DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record

PRECISIONS = (5,)  # only the published precision has buckets (domain.contribution)


@pytest.fixture
def derived(table: str) -> Iterator[DerivedRepository]:
    derivation.derivation.reset()
    yield DerivedRepository(Table(make_client("us-east-1"), current_settings().table_name))
    derivation.derivation.reset()


def _deliver(records: list[dict[str, Any]]) -> None:
    response = derivation.handler({"Records": records}, LongContext())
    assert response == {"batchItemFailures": []}


def _cells(geohash: str) -> list[str]:
    return [geohash[:p] for p in PRECISIONS]


def _all_buckets(derived: DerivedRepository, geohash: str, crop: str) -> list[DayTotals]:
    today = datetime.now(UTC).date()
    return [
        row
        for cell in _cells(geohash)
        for name in (crop, "all")
        for row in derived.buckets(cell, name, today - timedelta(days=1), today + timedelta(1))
    ]


def _day(derived: DerivedRepository, cell: str, crop: str) -> DayTotals:
    today = datetime.now(UTC).date()
    [row] = derived.buckets(cell, crop, today - timedelta(days=1), today + timedelta(days=1))
    return row


def test_listing_life_updates_the_published_cells_buckets_only(
    api: Api, dynamodb: Any, table: str, derived: DerivedRepository
) -> None:
    created = api.post("/listings", payloads.listing(quantity=2500, unit="g"), user="grower")
    assert created.status == 201, created.body
    listing_pk = f"LISTING#{created.body['listingId']}"
    records = [stored_item_record(dynamodb, table, listing_pk, 1)]
    _deliver(records)
    geohash = str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"])
    today = datetime.now(UTC).date()
    for unpublished in (geohash[:4], geohash[:6]):  # written by nothing, read by nothing
        assert derived.buckets(unpublished, "tomato", today - timedelta(days=1), today) == []
    for cell in _cells(geohash):
        tomato = _day(derived, cell, "tomato")
        assert (tomato.supply, tomato.listings, tomato.contributors) == (Decimal("2.5"), 1, 1)
        every = _day(derived, cell, "all")
        # The crops index counts nothing (no signal reads all-crops counts): it names crops.
        assert (every.supply, every.listings, every.contributors) == (Decimal(0), 0, 0)
        [index] = derived.area_days(cell, today - timedelta(days=1), today)
        assert index.crops == {"tomato"}

    # A claim for all of it, confirmed: nothing remains, the listing is claimed (not live).
    claim = api.post(f"{created.header('Location')}/claims", {"quantity": 2500}, user="searcher")
    assert claim.status == 201, claim.body
    confirmed = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "confirmed"},
        user="grower",
        headers={"If-Match": claim.etag},
    )
    assert confirmed.status == 200, confirmed.body
    records.append(stored_item_record(dynamodb, table, listing_pk, 2))
    _deliver(records[-1:])
    for cell in _cells(geohash):
        for crop in ("tomato", "all"):
            row = _day(derived, cell, crop)
            assert (row.supply, row.listings, row.contributors) == (Decimal(0), 0, 0)

    # The claimer does not show up: 2.5 kg are back; then the grower cancels the listing.
    no_show = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "no_show"},
        user="grower",
        headers={"If-Match": confirmed.etag},
    )
    assert no_show.status == 200, no_show.body
    records.append(stored_item_record(dynamodb, table, listing_pk, 3))
    _deliver(records[-1:])
    assert _day(derived, geohash[:5], "tomato").supply == Decimal("2.5")
    current = api.get(created.header("Location") or "", user="grower")
    cancelled = api.patch(
        created.header("Location") or "",
        {"status": "cancelled"},
        user="grower",
        headers={"If-Match": current.etag},
    )
    assert cancelled.status == 200, cancelled.body
    records.append(stored_item_record(dynamodb, table, listing_pk, 4))
    _deliver(records[-1:])
    after_cancel = _all_buckets(derived, geohash, "tomato")
    assert len(after_cancel) == 2
    assert all(r.supply == 0 and r.listings == 0 and not r.contributors for r in after_cancel)

    # Replaying every record twice, and an older record after the newest, changes nothing.
    _deliver(records + records)
    _deliver([records[0], records[2]])
    assert _all_buckets(derived, geohash, "tomato") == after_cancel
    marker = derived.marker(listing_pk)
    assert marker is not None
    assert marker.version == 4
    assert marker.contribution is not None
    assert not marker.contribution.live


def test_open_requests_count_as_demand_of_distinct_contributors(
    api: Api, dynamodb: Any, table: str, derived: DerivedRepository
) -> None:
    records = []
    for sequence, user in enumerate(("ann", "bob", "ann"), start=1):
        made = api.post("/requests", payloads.request(quantity=3), user=user)
        assert made.status == 201, made.body
        records.append(
            stored_item_record(dynamodb, table, f"REQUEST#{made.body['requestId']}", sequence)
        )
    _deliver(records)
    geohash = str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"])
    row = _day(derived, geohash[:5], "tomato")
    assert (row.demand, row.requests, row.supply) == (Decimal(9), 3, Decimal(0))
    assert row.contributors == 2  # ann (twice) and bob
    today = datetime.now(UTC).date()
    [area_day] = derived.area_days(geohash[:5], today - timedelta(days=1), today)
    assert area_day.crops == frozenset({"tomato"})
    assert area_day.totals.requests == 0  # the crops index counts nothing
    assert area_day.version == 3  # written once per request turning live (idempotent ADD)
    assert area_day.updated_at


def test_derived_repository_refuses_a_core_key_before_any_call(table: str) -> None:
    client = make_client("us-east-1")
    repository = DerivedRepository(Table(client, table))
    core_put = repository.table.put_new_op({"PK": "LISTING#x", "SK": "LISTING", "version": 1})
    with Stubber(client) as stubber:  # no responses queued: any call would fail differently
        with pytest.raises(CoreKeyWriteRefused):
            repository.write([core_put])
        with pytest.raises(CoreKeyWriteRefused):
            repository.write([repository.table.condition_op({"PK": "REQUEST#y"}, "x = :y", y=1)])
        stubber.assert_no_pending_responses()
