"""Signals right "as of now" for an area with no new events (issue 9 point 5, issue 11's
"signals stay O(1)"): the items of an area age out of the 7-day window, nothing happens in
the area, the scheduled refresher (DueIndex -> InsightService) recomputes it, and the route
answers the updated figures from one GetItem.

Buckets and insights are written by the real API and the real derivation consumer (as the
stream would deliver the items); days later is a later clock for the refresher and the
route, nothing else."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from harvest.api import views
from harvest.consumers import derivation, refresh
from harvest.domain.geo import encode
from harvest.domain.signals import SignalPolicy
from harvest.services.insights import InsightService
from harvest.services.refresh import RefreshService
from harvest.services.signals import AreaSignalsView, SignalService
from harvest.settings import RefreshSettings, current_settings
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.refresh_index import DueInsightIndex
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.clock import FakeClock
from support.stored_records import LongContext, stored_item_record

CELL6 = encode(payloads.BERLIN["lat"], payloads.BERLIN["lon"], 6)
AREAS = (CELL6[:4], CELL6[:5], CELL6)
# A precision-6 area publishes nothing (domain.release): its insight never falls due.
PUBLISHING = AREAS[:2]
MAX_ROUTE_RCU = 10


@pytest.fixture(autouse=True)
def fresh_consumers(table: str) -> Iterator[None]:
    derivation.derivation.reset()
    refresh.refresher.reset()
    yield
    derivation.derivation.reset()
    refresh.refresher.reset()


class Meter:
    """Read units and calls of one client, from DynamoDB's own ConsumedCapacity."""

    def __init__(self, client: Any) -> None:
        self.units = 0.0
        self.calls: list[str] = []
        for operation in ("GetItem", "Query", "Scan", "BatchGetItem"):
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", self._ask)
            client.meta.events.register(f"after-call.dynamodb.{operation}", self._add)

    @staticmethod
    def _ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _add(self, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        self.calls.append(str(model.name))
        consumed = parsed.get("ConsumedCapacity") or {}
        # Batch operations answer one entry per table, single-item ones a mapping.
        entries = consumed if isinstance(consumed, list) else [consumed]
        self.units += sum(float(entry.get("CapacityUnits", 0)) for entry in entries)

    def take(self) -> tuple[float, list[str]]:
        taken = (self.units, self.calls)
        self.units, self.calls = 0.0, []
        return taken


def _table() -> Table:
    return Table(make_client("us-east-1"), current_settings().table_name)


def _seed(api: Api, dynamodb: Any, table: str) -> None:
    """Tomato: 3 growers x 10 kg today (k = 3), through the API and the derivation consumer."""
    pks = []
    for user in ("grower-a", "grower-b", "grower-c"):
        made = api.post("/listings", payloads.listing(quantity=10), user=user)
        assert made.status == 201, made.body
        pks.append(f"LISTING#{made.body['listingId']}")
    records = [stored_item_record(dynamodb, table, pk, n) for n, pk in enumerate(pks, start=1)]
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}


def _later(days: int) -> FakeClock:
    return FakeClock(datetime.combine(datetime.now(UTC).date(), time(0, 30), UTC) + timedelta(days))


def _route(table: Table, clock: Callable[[], datetime]) -> SignalService:
    return SignalService(
        DerivedRepository(table), clock=clock, insights=InsightRepository(table),
        policy=SignalPolicy(k=3),
    )  # fmt: skip


def _refresher(table: Table, clock: Callable[[], datetime]) -> RefreshService:
    signals = SignalService(DerivedRepository(table), clock=clock, policy=SignalPolicy(k=3))
    return RefreshService(
        DueInsightIndex(table), InsightService(signals, InsightRepository(table)), clock
    )


def _tomato(view: AreaSignalsView, days: int) -> Any:
    [window] = [w for w in view.signals.windows if w.days == days]
    found = [crop for crop in window.crops if crop.crop == "tomato"]
    return found[0].supply if found else None


def _published(view: AreaSignalsView) -> dict[str, Any]:
    """The route's body without what names the area (also in the summaries) or the moment
    asked."""
    text = views.signals(view).model_dump_json(by_alias=True)
    body = json.loads(text.replace(view.signals.geohash, "AREA"))
    return {k: v for k, v in body.items() if k not in ("geohash", "asOf")}


@pytest.mark.usefixtures("no_noise")  # asserts exact figures
def test_items_leaving_the_7_day_window_are_refreshed_and_served_in_one_read(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)
    store = _table()
    meter = Meter(store.client)
    eight_days_later = _later(8)
    route = _route(store, eight_days_later)
    # Given: eight days without an event; the refresher has not run yet
    for area in PUBLISHING:
        stale = route.published(area)
        units, calls = meter.take()
        # Then the route still reads one item, and answers the last figures
        assert calls == ["GetItem"], area
        assert units <= MAX_ROUTE_RCU
        assert _tomato(stale, 7) == 30
    # When the scheduled refresh runs
    report = _refresher(store, eight_days_later).run("tick-1")
    assert report.failed == {}
    assert report.refreshed == len(PUBLISHING)
    # A precision-4 area recomputes its moved cells before summing them (services.insights),
    # so a cell the index lists after its area may already be current: "unchanged".
    assert report.decisions["written"] >= 1
    assert set(report.decisions) <= {"written", "unchanged"}
    meter.take()  # the refresher's reads: off the request path
    # Then the route answers the figures as of now, still from one read
    for area in PUBLISHING:
        view = route.published(area)
        units, calls = meter.take()
        assert calls == ["GetItem"], area
        assert units <= MAX_ROUTE_RCU
        assert _tomato(view, 7) is None, "the listings left the 7-day window"
        assert _tomato(view, 14) == 30
        assert _tomato(view, 30) == 30
        # exactly what a recomputation from the buckets gives
        assert view.signals == route.for_area(area).signals
        meter.take()
    # And a second tick the same day finds nothing due: coalesced, idempotent
    again = _refresher(store, eight_days_later).run("tick-2")
    assert (again.refreshed, again.failed) == (0, {})


def test_an_area_whose_window_drops_under_k_looks_exactly_like_an_empty_area(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)
    store = _table()
    clock = _later(31)  # every listing has left every window
    _refresher(store, clock).run("tick")
    route = _route(store, clock)
    for area in AREAS:
        empty = _published(route.published("u" + "0" * (len(area) - 1)))  # nobody there
        assert _published(route.published(area)) == empty, area
    assert empty["dataUpdatedAt"] is None
    # and nothing is due any more: no bucket is in any window
    assert list(DueInsightIndex(store).due_areas(clock().date() + timedelta(days=365))) == []


def test_the_due_index_names_exactly_the_areas_past_valid_until(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)
    index = DueInsightIndex(_table(), page_size=1)  # one area per page: pagination too
    today = datetime.now(UTC).date()
    # The first bucket leaves the 7-day window after today + 6
    assert list(index.due_areas(today + timedelta(days=6))) == []
    assert sorted(index.due_areas(today + timedelta(days=7))) == sorted(PUBLISHING)


def _tick(message_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {"messageId": message_id, "body": json.dumps(body), "eventSource": "aws:sqs"}


SCHEDULED = {"id": "t-1", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def test_the_refresh_function_runs_a_tick_and_fails_a_poison_message(
    api: Api, dynamodb: Any, table: str
) -> None:
    _seed(api, dynamodb, table)
    clock = _later(8)
    # The handler's own composition root, eight days on
    refresh.refresher.override(
        refresh.bootstrap(RefreshSettings.from_environ(os.environ), clock=clock)
    )
    event = {
        "Records": [
            _tick("m-1", SCHEDULED),
            _tick("m-2", {"source": "harvest.listings", "detail-type": "listing.created"}),
        ]
    }

    response = refresh.handler(event, LongContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    stored = InsightRepository(_table()).current(PUBLISHING[0])
    assert stored is not None
    assert stored.insight.as_of_day == clock().date()
    assert stored.correlation_id == "refresh-t-1"
    assert list(DueInsightIndex(_table()).due_areas(clock().date())) == []
