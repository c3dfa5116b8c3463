"""Read units of one `GET /communities/{geohash}/signals`, before and after issue 11, on
DynamoDB Local (its ConsumedCapacity is DynamoDB's own arithmetic), in a dense city.

A precision-5 cell holds `--listings` live listings (and a quarter as many requests) over 30
days and `--crops` crops, and `--cells` of the 32 cells of its precision-4 area are as
busy. Buckets are constant-size counters (domain.disclosure), so the figures do not move
with the number of listings, only with crops, days and cells. The insight worker's own code
(InsightService) writes each area's INSIGHT# item; then, eventually consistent as the route:
- before: the previous route, 30 days of the area's own crop partitions (1 + crops Queries);
- served: the route now, one GetItem of the INSIGHT# item while its windows hold;
- stale: the route the next day, a bucket having left a window and no event since, before
  the refresher's tick: still one GetItem (the route never recomputes, issue 9 point 5);
- refresh: what the refresher (services.refresh) reads to recompute that area, off the
  request path, once per due area and day (the route paid this before issue 9 point 5).

    .venv/bin/python bench/signals_rcu.py [--listings 1000 10000 100000] [--crops 12] [--cells 8]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from harvest.domain.geo import BASE32
from harvest.domain.signals import SignalPolicy
from harvest.local.engines import DynamoDbLocalEngine
from harvest.services.insights import InsightService
from harvest.services.refresh import RefreshService
from harvest.services.signals import LOOKBACK_DAYS, SignalService
from harvest.store.buckets import bucket_key, slot, week_of
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client, serialize
from harvest.store.insights import InsightRepository
from harvest.store.refresh_index import DueInsightIndex
from harvest.store.table import Table
from harvest.tools.template import create_table, load_template

TABLE = "signals-rcu"
AREA4 = "u33d"
CROPS = ("tomato", "zucchini", "potato", "carrot", "kale", "leek", "apple", "bean", "beetroot",
         "cucumber", "lettuce", "onion")  # fmt: skip


def bucket_item(
    cell: str, crop: str, days: list[date], crops: tuple[str, ...], per_day: int
) -> dict[str, Any]:
    """A bucket (week) item with `per_day` activity on each of `days` (store.derived)."""
    item: dict[str, Any] = {
        **bucket_key(cell, crop, days[0]), "type": "agg-bucket", "cell": cell, "crop": crop,
        "week": week_of(days[0]).isoformat(), "version": per_day * len(days),
        "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z",
        "correlationId": "bench",
    }  # fmt: skip
    for day in days:
        if crop == "all":  # the crops index: no counters
            item[slot("crops", day)] = set(crops)
            continue
        item |= {
            slot("listings", day): per_day, slot("requests", day): per_day // 4 + 3,
            slot("contributors", day): per_day // 3 + 3, slot("supply", day): Decimal(per_day * 4),
            slot("demand", day): Decimal(per_day),
        }  # fmt: skip
    return item


def seed(
    client: Any, name: str, cells: list[str], crops: tuple[str, ...], listings: int, today: date
) -> None:
    per_day = max(1, listings // (LOOKBACK_DAYS * len(crops)))
    weeks: dict[date, list[date]] = {}
    for offset in range(LOOKBACK_DAYS):
        day = today - timedelta(days=offset)
        weeks.setdefault(week_of(day), []).append(day)
    for cell in cells:
        for days in weeks.values():
            for crop in (*crops, "all"):
                item = bucket_item(cell, crop, days, crops, per_day)
                client.put_item(TableName=name, Item=serialize(item))


def metered(client: Any) -> Callable[[], float]:
    consumed = [0.0]

    def ask(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def add(parsed: Mapping[str, Any], **_: Any) -> None:
        consumed[0] += float((parsed.get("ConsumedCapacity") or {}).get("CapacityUnits", 0))

    for operation in ("Query", "GetItem"):
        client.meta.events.register(f"provide-client-params.dynamodb.{operation}", ask)
        client.meta.events.register(f"after-call.dynamodb.{operation}", add)

    def take() -> float:
        value, consumed[0] = consumed[0], 0.0
        return value

    return take


def previous_route(derived: DerivedRepository, cell: str, today: date) -> None:
    """What the route read before: the area's own all-crops rows, then each crop's."""
    since = today - timedelta(days=LOOKBACK_DAYS - 1)
    rows = derived.area_days(cell, since, today)
    for crop in sorted({slug for row in rows for slug in row.crops}):
        derived.bucket_rows(cell, crop, since, today)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--crops", type=int, default=12, choices=range(1, len(CROPS) + 1))
    parser.add_argument("--cells", type=int, default=8, choices=range(1, 33))
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",  # noqa: S106  # nosec B106
                      AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1")  # fmt: skip
    engine = DynamoDbLocalEngine()
    engine.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = engine.endpoint_url
        client = make_client("us-east-1")
        heads = ("listings", "area", "pre-#11", "served", "stale", "stale was", "ratio")
        print(f"{args.crops} crops, 30 days, {args.cells} busy cells in {AREA4}: read units "
              "per request (stale was: the route's old recomputation)")  # fmt: skip
        print("  ".join(h.rjust(9) for h in heads))
        for listings in args.listings:
            measure(client, listings, args.crops, args.cells)
    finally:
        engine.stop()


def measure(client: Any, listings: int, crops_wanted: int, cells: int) -> None:
    now = datetime.now(UTC)
    tomorrow = now + timedelta(days=1)
    crops = CROPS[:crops_wanted]
    cells5 = [AREA4 + char for char in BASE32[:cells]]
    busy = cells5[0]
    name = f"{TABLE}-{listings}"  # a table per size: each starts with nothing refreshed
    create_table(client, name, load_template())
    seed(client, name, [AREA4, *cells5, busy + "0"], crops, listings, now.date())
    table = Table(client, name)
    derived, insights = DerivedRepository(table), InsightRepository(table)
    policy = SignalPolicy(k=3)
    worker = InsightService(SignalService(derived, policy=policy), insights)
    route = SignalService(derived, clock=lambda: now, policy=policy, insights=insights)
    route_tomorrow = SignalService(
        derived, clock=lambda: tomorrow, policy=policy, insights=insights
    )
    refresher = RefreshService(
        DueInsightIndex(table),
        InsightService(SignalService(derived, clock=lambda: tomorrow, policy=policy), insights),
        clock=lambda: tomorrow,
    )
    take = metered(client)
    areas = (AREA4, busy, busy + "0")
    rows: dict[str, list[float]] = {}
    for area in areas:
        worker.refresh(area, "bench")
        take()
        previous_route(derived, area, now.date())
        before = take()
        view = route.published(area)
        served = take()
        stale = route_tomorrow.published(area)
        stale_units = take()
        route_tomorrow.for_area(area)  # what the route read for a stale area before
        stale_was = take()
        if view.signals.geohash != area or stale.signals.geohash != area:
            raise SystemExit(f"the route answered for another area than {area}")
        rows[area] = [before, served, stale_units, stale_was]
    # The 30-day-old buckets leave the 30-day window tomorrow: every area with one is due.
    report = refresher.run("bench")
    refresh_units = take()
    for area in areas:
        before, served, stale_units, stale_was = rows[area]
        ratio = f"{stale_was / stale_units:,.0f}x" if stale_units and stale_was else "-"
        print(f"{listings:>9,}  {area:>9}  {before:>9.1f}  {served:>9.1f}  {stale_units:>9.1f}  "
              f"{stale_was:>9.1f}  {ratio:>9}")  # fmt: skip
    print(f"{'':>9}  the refresher's tick, off the request path: {report.refreshed} due areas, "
          f"{refresh_units:.1f} RCU (due-index Query included)")  # fmt: skip


if __name__ == "__main__":
    main()
