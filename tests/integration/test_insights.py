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
from harvest.domain.insight import STORED_ROW_FIELDS, Insight
from harvest.domain.signals import Classification, SignalPolicy
from harvest.services.insights import InsightService
from harvest.services.signals import SignalService
from harvest.settings import current_settings
from harvest.store.buckets import bucket_key
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client, serialize
from harvest.store.insights import InsightRepository, StoredInsight
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record

SUPPLY = STORED_ROW_FIELDS.index("supply")


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


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_source_changes_become_one_published_insight_per_area_exactly_once(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, records = _community(api, dynamodb, table)

    # A duplicate delivery of the whole batch.
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}

    # Precision 6 publishes nothing (domain.release): no insight to keep, the route
    # answers it empty without reading anything.
    assert repository.current(geohash[:6]) is None
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
    assert raw["windows"]["L"][1:] == [], "no hidden crop"  # [[7, 14, 30], row per crop]
    assert "tomato" not in str(raw)


def test_a_bucket_change_that_publishes_nothing_new_writes_nothing(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    before = repository.current(geohash[:5])
    assert before is not None
    today = datetime.now(UTC).date()
    dynamodb.update_item(
        TableName=table,
        # A bucket of the cell (only the published precision has buckets).
        Key=serialize(bucket_key(geohash[:5], "tomato", today)),
        UpdateExpression="ADD #v :one",
        ExpressionAttributeNames={"#v": "version"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    outcome = derivation.derivation().insights.refresh(geohash[:5], "corr-counter")

    assert outcome.decision == "unchanged"
    assert repository.current(geohash[:5]) == before  # not even updatedAt: no write unit


def test_a_cell_is_written_only_over_the_insight_its_computation_read(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    area = geohash[:5]
    stored = repository.current(area)
    assert stored is not None
    read = (stored.version, stored.insight.input_version)
    newer = Insight(area, stored.insight.as_of_day, read[1] + 1, stored.insight.windows)

    assert not repository.put_cell(newer, stored.version + 1, None, "not-absent")
    assert repository.put_cell(newer, stored.version + 1, read, "first")
    # A second computation that read the same insight lost the race: it must start over.
    assert not repository.put_cell(newer, stored.version + 1, read, "second")
    held = repository.current(area)
    assert held is not None
    assert (held.version, held.correlation_id) == (stored.version + 1, "first")


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


# ------------------------------------------------------------------ precision-4 sums
ELSEWHERE = {"lat": 52.4075, "lon": 13.3868}  # another precision-5 cell of Berlin's u33d


def _offer(
    api: Api, dynamodb: Any, table: str, location: dict[str, float], first: int
) -> list[dict[str, Any]]:
    """k growers offering tomatoes at `location`; their stored records from sequence `first`."""
    records = []
    for n, grower in enumerate(("gil", "hal", "ida"), start=first):
        body = payloads.listing(quantity=2, location=dict(location))
        created = api.post("/listings", body, user=f"{grower}-{first}")
        assert created.status == 201, created.body
        pk = f"LISTING#{created.body['listingId']}"
        records.append(stored_item_record(dynamodb, table, pk, n))
    return records


def _deliver(records: list[dict[str, Any]]) -> None:
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}


def _assert_sum_is_the_area(repository: InsightRepository, area: str) -> StoredInsight:
    """The stored precision-4 insight shows what its cells' buckets make (domain.release)."""
    stored = repository.current(area)
    assert stored is not None
    computed = derivation.derivation().insights.signals.for_area(area, consistent=True)
    assert stored.insight.windows == computed.signals.windows
    return stored


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_a_precision_4_insight_is_the_sum_of_its_cells_and_follows_their_changes(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    elsewhere = _offer(api, dynamodb, table, ELSEWHERE, 20)
    _deliver(elsewhere)
    area = geohash[:4]
    stored = _assert_sum_is_the_area(repository, area)
    [tomato] = stored.insight.windows[0].crops
    assert (tomato.supply, tomato.listings) == (Decimal(12 + 6), 6)  # both cells, summed
    cell = str(elsewhere[0]["dynamodb"]["NewImage"]["geohash"]["S"])[:5]
    assert stored.cells is not None
    assert set(stored.cells) == {geohash[:5], cell}
    assert stored.cells[cell].version == repository.current(cell).version  # type: ignore[union-attr]

    # One grower of the second cell cancels: under k there, the crop leaves that cell's
    # figures and the area's sum (a swap, no re-read of the 32 cells).
    listing = str(elsewhere[0]["dynamodb"]["NewImage"]["PK"]["S"])
    location = f"/listings/{listing.removeprefix('LISTING#')}"
    current = api.get(location, user="gil-20")
    cancelled = api.patch(
        location, {"status": "cancelled"}, user="gil-20", headers={"If-Match": current.etag}
    )
    assert cancelled.status == 200, cancelled.body
    _deliver([stored_item_record(dynamodb, table, listing, 30)])
    after = _assert_sum_is_the_area(repository, area)
    [tomato] = after.insight.windows[0].crops
    assert (tomato.supply, tomato.listings) == (Decimal(12), 3)
    assert after.version == stored.version + 1
    assert after.revision == stored.revision + 1


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_a_sum_left_behind_by_a_crash_or_another_worker_is_summed_again(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    area, worker = geohash[:4], derivation.derivation().insights
    before = _assert_sum_is_the_area(repository, area)

    # A crash between the cell's write and the area's: the cell is written, the area is not,
    # and the container that knew what changed is gone.
    elsewhere = _offer(api, dynamodb, table, ELSEWHERE, 20)
    for record in elsewhere:
        derivation.aggregate_record(record)
    cell = str(elsewhere[0]["dynamodb"]["NewImage"]["geohash"]["S"])[:5]
    assert worker.refresh(cell, "corr-crash").decision == "written"
    worker.changed.clear()
    assert repository.current(area) == before  # behind its cell
    _deliver(elsewhere)  # the redelivery: the cell is up to date, the sum is summed again
    caught_up = _assert_sum_is_the_area(repository, area)
    assert caught_up.cells is not None
    assert cell in caught_up.cells

    # The sum holds another version of the cell than the one this worker replaced (another
    # worker's write in between): it sums again rather than swapping (a swap would keep the
    # figure that version stands for here, 999 kg).
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": f"INSIGHT#{area}"}, "SK": {"S": "CURRENT"}},
        # (each crop is stored as a row across the windows, [slug, *w7, *w14, *w30], its
        # 7-day supply at its place in STORED_ROW_FIELDS)
        UpdateExpression=f"SET cells.#cell = :share, windows[1][{SUPPLY}] = :other",
        ExpressionAttributeNames={"#cell": cell},
        ExpressionAttributeValues={
            ":other": {"N": "999"},
            ":share": {"S": f"999/{datetime.now(UTC).date() + timedelta(days=5)}"},
        },
    )
    more = _offer(api, dynamodb, table, ELSEWHERE, 40)
    _deliver(more)
    repaired = _assert_sum_is_the_area(repository, area)
    held = repository.current(cell)
    assert held is not None
    assert repaired.cells is not None
    assert repaired.cells[cell].version == held.version
    [tomato] = repaired.insight.windows[0].crops
    assert tomato.listings == 3 + 3 + 3


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_days_later_a_cell_moves_on_without_a_new_version_and_a_sum_recomputes_moved_cells(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    cell, area = geohash[:5], geohash[:4]
    before = repository.current(cell)
    assert before is not None

    def worker(days: int) -> InsightService:
        moment = datetime.now(UTC) + timedelta(days=days)
        derived = DerivedRepository(Table(make_client("us-east-1"), current_settings().table_name))
        signals = SignalService(
            derived, clock=lambda: moment, policy=SignalPolicy(k=current_settings().signal_k)
        )
        return InsightService(signals, repository)

    # A day on, nothing published changes: the same version, as of the new day.
    assert worker(1).refresh(cell, "corr-day").decision == "unchanged"
    moved = repository.current(cell)
    assert moved is not None
    assert (moved.version, moved.insight.as_of_day) == (
        before.version,
        before.insight.as_of_day + timedelta(days=1),
    )

    # Eight days on, out of the 7-day window: the sum's cells no longer hold, so it
    # recomputes them (from their buckets) before summing them again.
    later = worker(8)
    assert later.refresh(area, "corr-week").decision == "written"
    week, fortnight = (repository.current(area).insight.windows[i] for i in (0, 1))  # type: ignore[union-attr]
    assert week.crops == ()
    assert [c.crop for c in fortnight.crops] == ["tomato"]
    recomputed = repository.current(cell)
    assert recomputed is not None
    assert recomputed.version == before.version + 1
    assert recomputed.insight.windows == later.signals.for_area(cell).signals.windows


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_a_write_that_lost_its_race_reads_again_and_lands(
    api: Api, dynamodb: Any, table: str, repository: InsightRepository, monkeypatch: Any
) -> None:
    geohash, _ = _community(api, dynamodb, table)
    lost: list[str] = []
    put_cell, put_area = InsightRepository.put_cell, InsightRepository.put_area

    def cell_once(self: InsightRepository, insight: Insight, *args: Any, **kw: Any) -> bool:
        if "cell" not in lost:  # another worker wrote between our read and our write
            lost.append("cell")
            return False
        return put_cell(self, insight, *args, **kw)

    def area_once(self: InsightRepository, insight: Insight, *args: Any, **kw: Any) -> bool:
        if "area" not in lost:
            lost.append("area")
            return False
        return put_area(self, insight, *args, **kw)

    monkeypatch.setattr(InsightRepository, "put_cell", cell_once)
    monkeypatch.setattr(InsightRepository, "put_area", area_once)
    derivation.derivation.reset()
    _deliver(_offer(api, dynamodb, table, payloads.BERLIN, 20))

    assert lost == ["cell", "area"]
    _assert_sum_is_the_area(repository, geohash[:4])
    [tomato] = _assert_sum_is_the_area(repository, geohash[:5]).insight.windows[0].crops
    assert tomato.listings == 6
