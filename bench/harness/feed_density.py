"""The nearby feed at city density, today's read beside the FeedIndex read, on one table.

`bench/api_load.py --density N` calls `measure`: N live listings and N/4 open requests
within 5 km of the centre are written straight into the runtime's table (no API, no stream
consumers running), each item carrying both index shapes: the FeedIndex keys the code writes
now and the GeoIndex keys the feed used before (LIVE#{KIND}#{gh4} / {gh7}#{id}). Then:

- today's read, reproduced exactly: every GeoIndex partition cell the radius touches, per
  kind, paginated up to 1,000 items (MAX_CELL_ITEMS), filtered by exact distance, sorted,
  one page cut (every later page re-reads it all);
- the FeedIndex read: FeedService.nearby, following its cursor for pages 1..5;

each measured with ReturnConsumedCapacity=TOTAL (items read, bytes, RCU) and timed in this
process (the handler's DynamoDB work without HTTP), plus how many of the items in range each
one can ever serve. Prints nothing itself; api_load.py prints the table.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from harvest.domain import geo
from harvest.domain.common import Location
from harvest.domain.cursor import CursorCodec
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.request import Request, RequestStatus
from harvest.services.feed import FeedQuery, FeedService, partition_cells
from harvest.services.support import ServiceContext
from harvest.store import keys
from harvest.store.dynamo import deserialize, serialize
from harvest.store.items import ListingItem, RequestItem
from harvest.store.repository import Repository
from harvest.store.table import Table

OLD_MAX_CELL_ITEMS = 1000  # today's silent cap per partition query chain
RADIUS_KM = 5.0
PAGE = 20


@dataclass
class Meter:
    """What the instrumented client's Query calls cost since the last reset."""

    calls: int = 0
    items: int = 0  # ScannedCount: what DynamoDB read and billed
    bytes: int = 0
    rcu: float = 0.0

    def reset(self) -> None:
        self.calls = self.items = self.bytes = 0
        self.rcu = 0.0


def instrument(client: Any) -> Meter:
    meter = Meter()

    def ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def count(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        meter.calls += 1
        meter.items += int(parsed.get("ScannedCount", 0))
        meter.bytes += len(http_response.content or b"")
        meter.rcu += float(parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0))

    client.meta.events.register("provide-client-params.dynamodb.Query", ask_for_capacity)
    client.meta.events.register("after-call.dynamodb.Query", count)
    return meter


def _point_within(
    rng: random.Random, centre: tuple[float, float], km: float
) -> tuple[float, float]:
    # Uniform over the disk: radius ~ sqrt(u); flat-earth offsets are fine at 5 km.
    distance = km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / 111.2
    dlon = distance * math.sin(bearing) / (111.2 * math.cos(math.radians(centre[0])))
    return centre[0] + dlat, centre[1] + dlon


def seed(client: Any, table: str, listings: int, centre: tuple[float, float]) -> list[Any]:
    """`listings` live listings and a quarter as many open requests within 5 km, with both
    index shapes on every item."""
    rng = random.Random(10)  # noqa: S311 - a reproducible city, not a secret
    now = datetime.now(UTC).replace(microsecond=0)
    entities: list[Listing | Request] = []
    for n in range(listings + listings // 4):
        lat, lon = _point_within(rng, centre, RADIUS_KM)
        where = Location(lat, lon, geo.encode(lat, lon, 7))
        crop = ("tomato", "kale", "apple", "zucchini")[n % 4]
        if n < listings:
            entities.append(Listing(
                f"bench-lst-{n:06d}", f"grower-{n % 997}", crop, "kg", Decimal(5), Decimal(5),
                now - timedelta(hours=1), now + timedelta(days=7), where,
                "ripe, pick up at the gate", ListingStatus.ACTIVE, 1, now, now, f"seed-{n}",
            ))  # fmt: skip
        else:
            entities.append(Request(
                f"bench-req-{n:06d}", f"searcher-{n % 991}", crop, "kg", Decimal(2),
                now + timedelta(days=5), where, None, RequestStatus.OPEN, 1, now, now, f"seed-{n}",
            ))  # fmt: skip
    batch: list[dict[str, Any]] = []
    for entity in entities:
        if isinstance(entity, Listing):
            item, kind, entity_id = ListingItem.encode(entity), "listing", entity.listing_id
        else:
            item, kind, entity_id = RequestItem.encode(entity), "request", entity.request_id
        item["GSI2PK"] = f"LIVE#{kind.upper()}#{entity.location.geohash[:4]}"  # today's shape
        item["GSI2SK"] = f"{entity.location.geohash}#{entity_id}"
        batch.append({"PutRequest": {"Item": serialize(item)}})
        if len(batch) == 25:
            _write(client, table, batch)
            batch = []
    if batch:
        _write(client, table, batch)
    return entities


def _write(client: Any, table: str, batch: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: batch}
    while pending:
        pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})


def today_page(client: Any, table: str, lat: float, lon: float) -> list[tuple[float, str, str]]:
    """Today's feed read for one page, as the code did it (services/feed.py before)."""
    found: list[tuple[float, str, str]] = []
    now = datetime.now(UTC)
    for cell in partition_cells(lat, lon, RADIUS_KM):
        for kind in ("LISTING", "REQUEST"):
            start: dict[str, Any] | None = None
            read = 0
            while read < OLD_MAX_CELL_ITEMS:
                request: dict[str, Any] = {
                    "TableName": table,
                    "IndexName": keys.GEO_INDEX,
                    "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :cell)",
                    "ExpressionAttributeNames": {"#pk": "GSI2PK", "#sk": "GSI2SK"},
                    "ExpressionAttributeValues": serialize(
                        {":pk": f"LIVE#{kind}#{cell[:4]}", ":cell": cell}
                    ),
                    "Limit": min(OLD_MAX_CELL_ITEMS - read, 500),
                }
                if start:
                    request["ExclusiveStartKey"] = start
                response = client.query(**request)
                rows = [deserialize(raw) for raw in response.get("Items", [])]
                read += len(rows)
                for row in rows:
                    entity: Listing | Request = (
                        ListingItem.decode(row) if kind == "LISTING" else RequestItem.decode(row)
                    )
                    if not entity.is_live(now):
                        continue
                    where = entity.location
                    distance = geo.haversine_km(lat, lon, where.lat, where.lon)
                    if distance <= RADIUS_KM:
                        found.append((math.ceil(distance * 2) / 2, kind, str(row["PK"])))
                start = response.get("LastEvaluatedKey")
                if not start:
                    break
    found.sort()
    return found


@dataclass
class Figures:
    items: list[int] = field(default_factory=list)
    kb: list[float] = field(default_factory=list)
    rcu: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, meter: Meter, elapsed_s: float) -> None:
        self.items.append(meter.items)
        self.kb.append(meter.bytes / 1024)
        self.rcu.append(meter.rcu)
        self.ms.append(elapsed_s * 1000)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.ms)
        return {
            "items": round(statistics.median(self.items), 1),
            "kb": round(statistics.median(self.kb), 1),
            "rcu": round(statistics.median(self.rcu), 1),
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)], 1),
        }


def _timed(meter: Meter, figures: Figures, action: Callable[[], Any]) -> Any:
    meter.reset()
    started = time.perf_counter()
    result = action()
    figures.add(meter, time.perf_counter() - started)
    return result


def measure(
    endpoint_url: str, table: str, listings: int, centre: tuple[float, float], repeats: int
) -> dict[str, Any]:
    """Seed, then the figures of both reads (see the module docstring)."""
    from harvest.store.dynamo import make_client  # noqa: PLC0415 - after the runtime's env

    client = make_client("us-east-1", endpoint_url)
    entities = seed(client, table, listings, centre)
    in_range = sum(
        geo.haversine_km(*centre, e.location.lat, e.location.lon) <= RADIUS_KM for e in entities
    )
    published = sum(
        geo.haversine_km(*centre, *geo.approximate(e.location.lat, e.location.lon)) <= RADIUS_KM
        for e in entities
    )
    meter = instrument(client)
    service = FeedService(Repository(Table(client, table)), ServiceContext(CursorCodec(b"b" * 32)))
    query = FeedQuery(*centre, radius_km=RADIUS_KM)
    today, first, fifth = Figures(), Figures(), Figures()
    served_today = 0
    for _ in range(repeats):
        served_today = len(_timed(meter, today, lambda: today_page(client, table, *centre)))
        cursor = None
        for page_number in range(1, 6):
            figures = first if page_number == 1 else fifth if page_number == 5 else Figures()
            page = _timed(meter, figures, partial(service.nearby, query, PAGE, cursor))
            cursor = page.next_cursor
    served_now = 0
    cursor = None
    while True:  # completeness: page through everything once (not timed)
        page = service.nearby(query, 100, cursor)
        served_now += len(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return {
        "live_items": len(entities),
        "in_range_exact": in_range,
        "in_range_published": published,
        "today": {**today.summary(), "can_serve": served_today},
        "new_page1": first.summary(),
        "new_page5": fifth.summary(),
        "new_can_serve": served_now,
    }
