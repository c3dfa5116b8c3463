"""What the matching worker costs per core write: read and write units, sets touched, CPU.

    .venv/bin/python bench/matching_cost.py [--sizes 200 2000 20000] [--writes 40]

A figure printer, not a test (DESIGN §10): a table on stdout, progress on stderr.

For N live items (80 % listings, 20 % open requests, 10 crops, spread uniformly within
8 km of Berlin's centre, so the density grows with N on the same area) the core items are
bulk-loaded into a DynamoDB Local table created from template.yaml, and every MATCH# set is
loaded as the worker leaves it (each item's own set, computed by MatchingService.own_set
over an in-memory copy of the FeedIndex: the state `harvest rebuild` writes). Then
`--writes` new items (the same mix, random places in the area) are written as the API
stores them, and for each the worker's service runs once, as its queue message would make it
(MatchingService.refresh on the table: its search, the sets it reads, offers, writes).

Figures per core write (mean and max over the measured writes):
  RCU / WCU  ConsumedCapacity as DynamoDB Local reports it for the worker's client
             (ReturnConsumedCapacity=TOTAL on every call; Local computes reads like the
             service: 4 KB units, half for eventually consistent reads; a Put is billed on
             the larger of the old and new item, per 1 KB)
  rows       CropIndex rows the candidate search read (bounded: the feed's page limits)
  sets       MATCH# sets read (GetItem/BatchGetItem) and written
  CPU ms     time.process_time() around refresh (this process: Python, botocore)
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3

from harvest.domain import geo
from harvest.domain.common import Location
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.matching import MAX_MATCHES, Side
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.local.engines import DynamoDbLocalEngine
from harvest.services.matching import MatchingService, MatchOutcome, entity_id, side_of
from harvest.store import keys
from harvest.store.dynamo import CLIENT_CONFIG, make_client, serialize
from harvest.store.feed_index import FeedRows
from harvest.store.items import ListingItem, RequestItem
from harvest.store.matches import MatchRepository, MatchSet, match_set_item
from harvest.store.repository import EntityPage, Repository
from harvest.store.table import Table
from harvest.tools.template import create_table

REGION = "us-east-1"
CENTRE = (52.52, 13.405)
AREA_KM = 8.0
CROPS = ("tomato", "apple", "zucchini", "potato", "carrot", "lettuce", "pear", "plum", "bean",
         "onion")  # fmt: skip
NOW = datetime.now(UTC).replace(microsecond=0)
METERED = ("GetItem", "BatchGetItem", "Query", "PutItem")
WRITES = {"PutItem"}


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def place(rng: random.Random) -> Location:
    distance = AREA_KM * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    lat = CENTRE[0] + distance * math.cos(angle) / 111.2
    lon = CENTRE[1] + distance * math.sin(angle) / (111.2 * math.cos(math.radians(CENTRE[0])))
    return Location(round(lat, 6), round(lon, 6), geo.encode(lat, lon, 7))


def make_entity(rng: random.Random, number: int) -> Listing | Request:
    crop = rng.choice(CROPS)
    created = NOW - timedelta(minutes=rng.randrange(1, 60 * 24 * 5))
    owner = f"user-{number // 4:06d}"
    ident = uuid.UUID(int=rng.getrandbits(128)).hex
    if rng.random() < 0.8:
        return Listing(ident, owner, crop, "kg", Decimal(5), Decimal(5),
                       created - timedelta(days=1), NOW + timedelta(days=7), place(rng), None,
                       ListingStatus.ACTIVE, 1, created, created, "seed")  # fmt: skip
    return Request(ident, f"searcher-{number:06d}", crop, "kg", Decimal(2), NOW + timedelta(days=5),
                   place(rng), None, RequestStatus.OPEN, 1, created, created, "seed")  # fmt: skip


class MemoryFeed:
    """The FeedIndex (and CropIndex) of the seeded items in memory (sorted per partition),
    with Repository.feed_rows' contract, plus the core reads: for computing the warm sets."""

    def __init__(self, entities: list[Listing | Request]) -> None:
        self.by_id: dict[str, Listing | Request] = {entity_id(e): e for e in entities}
        self.rows: dict[str, list[tuple[str, Listing | Request]]] = {}
        for entity in entities:
            kind = "listing" if isinstance(entity, Listing) else "request"
            sort_key = keys.feed_sk(entity.location.geohash, kind, entity_id(entity))
            partition = entity.location.geohash[: keys.GEO_PARTITION_PRECISION]
            self.rows.setdefault(partition, []).append((sort_key, entity))
        for rows in self.rows.values():
            rows.sort(key=lambda row: row[0])
        # The CropIndex: the same rows per (partition, kind, crop), in the same order.
        self.by_crop: dict[tuple[str, str, str], list[tuple[str, Listing | Request]]] = {}
        for partition, rows in self.rows.items():
            for row in rows:
                self.by_crop.setdefault((partition, row[0].split("#")[1], row[1].crop), [])
                self.by_crop[(partition, row[0].split("#")[1], row[1].crop)].append(row)
        self.sort_keys = {p: [sk for sk, _ in rows] for p, rows in self.rows.items()}
        self.crop_keys = {k: [sk for sk, _ in rows] for k, rows in self.by_crop.items()}

    def feed_rows(
        self,
        partition: str,
        *,
        cell: str | None = None,
        kind: str | None = None,
        crop: str | None = None,
        after: str | None = None,
        until: str | None = None,
        limit: int,
    ) -> FeedRows:
        rows, sort_keys = self.rows.get(partition, []), self.sort_keys.get(partition, [])
        if kind is not None and crop is not None:  # the CropIndex: that kind and crop only
            rows = self.by_crop.get((partition, kind, crop), [])
            sort_keys = self.crop_keys.get((partition, kind, crop), [])
        prefix = keys.feed_cell_prefix(cell, kind) if cell else ""
        if after is not None:
            start, high = bisect.bisect_right(sort_keys, after), until or prefix + "\uffff"
        else:
            start, high = bisect.bisect_left(sort_keys, prefix), prefix + "\uffff"
        read = [r for r in rows[start : start + limit] if r[0] <= high]
        more = start + limit < len(rows) and len(read) == limit
        kept = [
            (sk, e)
            for sk, e in read
            if (kind is None or sk.split("#")[1] == kind) and (crop is None or e.crop == crop)
        ]
        return FeedRows(kept, read[-1][0] if more and read else None, len(read))

    def listing_by_id(self, listing_id: str) -> Listing | None:
        found = self.by_id.get(listing_id)
        return found if isinstance(found, Listing) else None

    def request_by_id(self, request_id: str) -> Request | None:
        found = self.by_id.get(request_id)
        return found if isinstance(found, Request) else None

    def profile_by_user(self, user_id: str) -> Profile | None:
        return None

    def requests_by_owner(
        self, owner_id: str, limit: int = 20, start_key: dict[str, str] | None = None
    ) -> EntityPage[Request]:
        raise AssertionError("the warm-up refreshes no owner")


@dataclass
class Meter:
    rcu: float = 0.0
    wcu: float = 0.0

    def instrument(self, client: Any) -> None:
        def before(params: dict[str, Any], **_: Any) -> None:
            params["ReturnConsumedCapacity"] = "TOTAL"

        def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            consumed = parsed.get("ConsumedCapacity") or []
            entries = consumed if isinstance(consumed, list) else [consumed]
            units = sum(float(entry.get("CapacityUnits", 0)) for entry in entries)
            if model.name in WRITES:
                self.wcu += units
            else:
                self.rcu += units

        for operation in METERED:
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", before)
            client.meta.events.register(f"after-call.dynamodb.{operation}", after)


def batches(items: list[dict[str, Any]], size: int = 25) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def load(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    for chunk in batches(items):
        pending: Any = {table: [{"PutRequest": {"Item": serialize(item)}} for item in chunk]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")


def warm_sets(entities: list[Listing | Request]) -> list[dict[str, Any]]:
    """Every non-empty own set, as the worker (or a rebuild) would have stored it."""
    memory = MemoryFeed(entities)
    service = MatchingService(memory, _NoSets(), lambda: NOW)
    items = []
    for entity in entities:
        entries = service.own_set(entity, NOW, MatchOutcome())
        if entries:
            base = MatchSet(side_of(entity), entity_id(entity), entity.owner_id, entity.crop)
            items.append(match_set_item(replace(base, entries=tuple(entries)), 0, "seed", NOW))
    return items


class _NoSets:
    def match_sets(self, side: Side, entity_ids: Any) -> dict[str, MatchSet]:
        return {}

    def save(self, match_set: MatchSet, correlation_id: str, now: Any = None) -> int:
        raise AssertionError("the warm-up computes sets, it never saves them")


@dataclass
class Sample:
    rcu: float
    wcu: float
    rows: int
    sets_read: int
    sets_written: int
    cpu_ms: float


def measure(size: int, writes: int, endpoint: str, seed: int) -> list[Sample]:
    rng = random.Random(seed + size)  # noqa: S311 - a reproducible synthetic area
    name = f"matching-bench-{size}-{uuid.uuid4().hex[:6]}"
    plumbing = boto3.client("dynamodb", region_name=REGION, config=CLIENT_CONFIG)
    create_table(plumbing, name)
    entities = [make_entity(rng, n) for n in range(size)]
    log(f"{size}: computing the warm sets")
    started = time.perf_counter()
    sets = warm_sets(entities)
    log(f"{size}: {len(sets)} sets in {time.perf_counter() - started:.1f} s; loading")
    core = [
        ListingItem.encode(e) if isinstance(e, Listing) else RequestItem.encode(e) for e in entities
    ]
    load(plumbing, name, core + sets)
    client = make_client(REGION, endpoint)
    meter = Meter()
    meter.instrument(client)
    table = Table(client, name)
    service = MatchingService(Repository(table), MatchRepository(table), lambda: NOW)
    samples: list[Sample] = []
    for number in range(writes):
        entity = make_entity(rng, size + number)
        item = ListingItem.encode(entity) if isinstance(entity, Listing) else (
            RequestItem.encode(entity))  # fmt: skip
        plumbing.put_item(TableName=name, Item=serialize(item))
        rcu, wcu = meter.rcu, meter.wcu
        cpu = time.process_time()
        outcome = service.refresh(side_of(entity), entity_id(entity), f"bench-{number}")
        samples.append(
            Sample(meter.rcu - rcu, meter.wcu - wcu, outcome.rows_read, outcome.sets_read,
                   outcome.sets_written, (time.process_time() - cpu) * 1000)
        )  # fmt: skip
    plumbing.delete_table(TableName=name)
    return samples


def row(size: int, samples: list[Sample]) -> str:
    def both(values: list[float], digits: int = 1) -> str:
        return f"{statistics.mean(values):.{digits}f} / {max(values):.{digits}f}"

    return (
        f"| {size:,} | {both([s.rcu for s in samples])} | {both([s.wcu for s in samples])} | "
        f"{both([float(s.rows) for s in samples], 0)} | "
        f"{both([float(s.sets_read) for s in samples], 0)} | "
        f"{both([float(s.sets_written) for s in samples], 0)} | "
        f"{both([s.cpu_ms for s in samples], 0)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--writes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args(argv)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",  # noqa: S106  # nosec B106
        AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, POWERTOOLS_TRACE_DISABLED="1",
    )  # fmt: skip
    log("starting DynamoDB Local")
    engine = DynamoDbLocalEngine()
    engine.start()
    try:
        os.environ["AWS_ENDPOINT_URL"] = engine.endpoint_url
        rows = [row(size, measure(size, args.writes, engine.endpoint_url, args.seed))
                for size in args.sizes]  # fmt: skip
    finally:
        engine.stop()
    print(f"matching worker per core write ({args.writes} writes per size, 80 % listings, "
          f"{len(CROPS)} crops, within {AREA_KM:g} km; at most {MAX_MATCHES} per set); "
          "mean / max")  # fmt: skip
    print("| live items | RCU | WCU | CropIndex rows | sets read | sets written | CPU ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for line in rows:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
