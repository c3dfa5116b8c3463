"""What one core write costs downstream: write/read units, item sizes, hot keys, handler CPU.

    .venv/bin/python bench/pipeline_cost.py [--sizes 1000 10000] [--json PATH] [--scan]
    .venv/bin/python bench/pipeline_cost.py --sizes 100000 --writes-alone 20  # the city

A figure printer, not a test (DESIGN §10): tables on stdout, progress on stderr. For a
synthetic area with N live listings (one geohash-4 cell, spread over its 1,024 precision-6
cells, 10 crops and the last 30 days; 4 listings per owner; a quarter as many open requests)
it prints per stage (the API's core write, the derivation consumer: buckets then insights,
the AI worker behind its rule and queue, the publisher):
write and read units per core write, records and handler CPU per record, the hottest derived
partition keys, and the sizes of the derived items. `--sizes 1000 10000 100000` is the
synthetic city (its seed alone takes ~15 minutes on 2 cores).

Warm state. Driving the pipeline over N seed writes would take hours on DynamoDB Local, so
the core items are built as the API stores them (harvest.store.items) and the AGG# items
computed from them by the rebuild's own function (services.rebuild.expected_derived, with
the attributes DerivedRepository.replace adds); both are bulk-loaded with BatchWriteItem
into a table created from template.yaml, then services.insight_rebuild.rebuild_insight
writes each area's insight on that table through the real repositories (cells first, then
the precision-4 area summed from them; the stream is
enabled after all that, so the seed is not measured): the state `harvest rebuild`
leaves, bucket write counters at 1. The AI cache is then warmed by the AI worker's own
service for the areas the measured writes touch.

Measured writes go through the real services (MIX below); DynamoDB Local's table stream is
read and each stream consumer gets the records its template FilterCriteria match, in stream
order; the events the publisher puts are matched against the template's rules and handed
to the AI worker as the SQS messages its queue would deliver:
  alone    every record and message in its own invocation (batch size 1: a quiet stream, or
           records spread over many shards; the worst case);
  batched  core writes 100 at a time, then the template's BatchSize per consumer (a busy
           shard: the derivation consumer refreshes each area of a batch once).
The publisher's PutEvents is answered in-process (no bus; it never touches the table).

Figures.
  WCU local   ConsumedCapacity as DynamoDB Local reports it: a botocore hook adds
              ReturnConsumedCapacity=TOTAL to every call of the stage's client. Local bills
              a transaction as 2 x 2 x its largest item rather than per item, and counts
              index writes (the API's items have two GSIs), hence also:
  WCU billed  as DynamoDB bills a derived write, from the stream: per record ceil(max(old,
              new item size) / 1 KB), twice for an item written by TransactWriteItems.
              Conditional writes that failed (no record) are counted, not billed.
  RCU         as reported (Local computes reads like the service: 4 KB units, half for an
              eventually consistent read).
  CPU         time.process_time() around the handler call, per record delivered: Python CPU
              including botocore and Powertools logging/metrics at INFO (output discarded),
              excluding DynamoDB Local (another process). Wall time is mostly DynamoDB
              Local's on this machine, not an AWS latency.
  model       with --model ID, Bedrock's Converse is answered in-process (a before-call
              hook, as PutEvents) and each call counted: model calls per core write.
  signals     read units of one GET /communities/{area}/signals on the area at the end: as
              the route answers it (the stored INSIGHT# item, one eventually consistent
              GetItem), and recomputed from the buckets (the route's fallback once the
              insight's windows have moved: eventually consistent Queries).
  Item sizes  of every derived item at the end: the seed's items as loaded, updated from
              the stream's new images (`--scan` reads them back from the table instead).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import itertools
import json
import logging
import math
import os
import platform
import random
import signal
import statistics
import sys
import time
import uuid
import warnings
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from harvest.consumers import advisor, derivation, publisher
from harvest.domain import geo
from harvest.domain.common import Actor, Location, iso
from harvest.domain.contribution import ALL_CROPS
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.request import Request, RequestStatus
from harvest.domain.signals import SignalPolicy
from harvest.local.engines import DynamoDbLocalEngine
from harvest.local.filters import compile_pattern, matches_any
from harvest.local.mappings import mappings_from_template
from harvest.local.queues import bus_event
from harvest.local.records import ShardReader, make_streams_client
from harvest.local.rules import topology_from_template
from harvest.once import Once
from harvest.services.insight_rebuild import areas_of, rebuild_insight, rebuild_order
from harvest.services.listings import ListingChanges, ListingDraft, ListingService
from harvest.services.rebuild import expected_derived, is_marker
from harvest.services.requests import RequestDraft, RequestService
from harvest.services.signals import SignalService
from harvest.services.support import ServiceContext
from harvest.settings import current_settings
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import CLIENT_CONFIG, make_client
from harvest.store.insights import InsightRepository, insight_key
from harvest.store.items import ListingItem, RequestItem
from harvest.store.repository import Repository
from harvest.store.sizes import item_size
from harvest.store.table import Item, Table
from harvest.tools.template import TABLE_LOGICAL_ID, create_table, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION: Final = "us-east-1"
CROPS: Final = ("tomato", "apple", "zucchini", "lettuce", "potato", "carrot", "basil", "egg",
                "cucumber", "strawberry")  # fmt: skip
MIX: Final = (("create listing", 40), ("change quantity", 25), ("cancel listing", 15),
              ("create request", 20))  # fmt: skip
# The table stream's readers (two at most) and the subscribers of the bus (rule -> queue).
CONSUMERS: Final = {
    "derivation": ("AggregatorFunction", derivation.handler),
    "publisher": ("PublisherFunction", publisher.handler),
}
SUBSCRIBERS: Final = {"advisor": ("AdvisorFunction", advisor.handler)}
STAGES: Final = ("api", "derivation", "advisor", "publisher")
DERIVED: Final = ("AGG#", "INSIGHT#", "AICACHE#", "AIUSAGE#")
WRITES: Final = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
METERED: Final = (*WRITES, "GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems")
PARTITION_WCU_PER_S: Final = 1000  # DynamoDB's write limit per partition (so per item too)

type ItemKey = tuple[str, str]
type Wire = dict[str, Any]  # an item in DynamoDB JSON: {"PK": {"S": "..."}, ...}


def log(message: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------ wire form
def to_wire(value: object) -> dict[str, Any]:
    """boto3's TypeSerializer for the types these items hold, at a fraction of its cost (the
    seed serializes ~400k items at 100k listings); same output, sets sorted."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, set | frozenset):
        return {"SS": sorted(value)}
    if isinstance(value, Mapping):
        return {"M": {name: to_wire(inner) for name, inner in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_wire(inner) for inner in value]}
    raise TypeError(f"no wire form for {type(value).__name__}")


def wire_item(item: Mapping[str, Any]) -> Wire:
    return {name: to_wire(value) for name, value in item.items()}


def wired(items: Iterable[Item], sizes: dict[ItemKey, tuple[str, int]]) -> Iterator[Wire]:
    """The items in wire form; notes each one's type and size on the way."""
    for item in items:
        wire = wire_item(item)
        sizes[(str(item["PK"]), str(item["SK"]))] = (str(item["type"]), item_size(wire))
        yield wire


# ------------------------------------------------------------------ metering
@dataclass
class Meter:
    """What one stage did during one measured round."""

    invocations: int = 0
    records: int = 0
    calls: int = 0
    failed_writes: int = 0
    local_wcu: float = 0.0
    local_rcu: float = 0.0
    billed_wcu: float = 0.0
    item_writes: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0


def family_of(pk: str) -> str:
    """Which family of items a key is in: what grows from 1k to 100k listings shows up as a
    family whose units per write grow (bigger items, or more of them written or read)."""
    parts = pk.split("#")
    if pk.startswith("AGG#SRC#"):
        return "agg marker"
    if pk.startswith("AGG#WHO#"):
        return "agg presence"
    if parts[0] == "AGG" and len(parts) == 3:
        return "crops index" if parts[2] == ALL_CROPS else "agg bucket"
    if parts[0] == "INSIGHT" and len(parts) == 2:
        return f"insight p{len(parts[1])}"
    if pk.startswith("AICACHE#AREA#"):
        return "ai latest"
    return parts[0].lower() if pk else "?"


def read_family(model: str, params: Mapping[str, Any]) -> str:
    """The family a read addresses (GetItem, Query by its :pk, BatchGetItem's first key)."""
    if model == "GetItem":
        return family_of(str(params["Key"]["PK"].get("S", "")))
    if model == "Query":
        bound: Mapping[str, Any] = params.get("ExpressionAttributeValues", {})
        pk: Mapping[str, Any] = bound.get(":pk") or next(iter(bound.values()), {})
        return family_of(str(pk.get("S", ""))) + ("" if "IndexName" not in params else " (index)")
    if model == "BatchGetItem":
        keys = [key for body in params["RequestItems"].values() for key in body["Keys"]]
        return family_of(str(keys[0]["PK"].get("S", ""))) if keys else "?"
    return model


def stage_of(pk: str) -> str:
    """Who writes a key: each derived family has exactly one writer (DESIGN §3)."""
    if pk.startswith(("AGG#", "INSIGHT#")):
        return "derivation"
    return "advisor" if pk.startswith(("AICACHE#", "AIUSAGE#")) else "api"


@dataclass
class Metering:
    meters: dict[str, Meter] = field(default_factory=dict)
    transactional: Counter[ItemKey] = field(default_factory=Counter)
    writes: Counter[ItemKey] = field(default_factory=Counter)
    wcu: defaultdict[ItemKey, float] = field(default_factory=lambda: defaultdict(float))
    largest: defaultdict[ItemKey, int] = field(default_factory=lambda: defaultdict(int))
    # Every derived item now in the table: (type, size). Kept across rounds.
    inventory: dict[ItemKey, tuple[str, int]] = field(default_factory=dict)
    # Per item family: writes and billed WCU; per (stage, operation, family): calls and RCU.
    family_writes: Counter[str] = field(default_factory=Counter)
    family_wcu: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    reads: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    read_units: defaultdict[tuple[str, str, str], float] = field(
        default_factory=lambda: defaultdict(float)
    )

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.meters = {stage: Meter() for stage in STAGES}
        for counts in (self.writes, self.wcu, self.largest, self.family_writes, self.family_wcu,
                       self.reads, self.read_units):  # fmt: skip
            counts.clear()

    def instrument(self, client: DynamoDBClient, stage: str) -> None:
        """Every call of `client` asks for ConsumedCapacity and adds it to `stage`'s meter;
        the items a transaction writes are noted, to bill their stream records twice."""

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            params["ReturnConsumedCapacity"] = "TOTAL"
            if model.name not in WRITES:
                context["bench_read"] = (stage, model.name, read_family(model.name, params))
            if model.name == "TransactWriteItems":
                context["bench_keys"] = [
                    (image["PK"]["S"], image["SK"]["S"])
                    for operation in params["TransactItems"]
                    for kind, body in operation.items()
                    if kind != "ConditionCheck"
                    for image in [body.get("Key") or body["Item"]]
                ]
                self.transactional.update(context["bench_keys"])

        def after(http_response: Any, parsed: Mapping[str, Any], model: Any, **kw: Any) -> None:
            meter = self.meters[stage]
            meter.calls += 1
            consumed = parsed.get("ConsumedCapacity") or []
            entries = consumed if isinstance(consumed, list) else [consumed]
            units = sum(float(entry.get("CapacityUnits", 0)) for entry in entries)
            if model.name not in WRITES:
                meter.local_rcu += units
                read = kw["context"].get("bench_read")
                if read is not None:
                    self.reads[read] += 1
                    self.read_units[read] += units
                return
            meter.local_wcu += units
            if http_response.status_code >= 300:  # a failed condition: no stream record
                meter.failed_writes += 1
                self.transactional.subtract(kw["context"].get("bench_keys", []))

        for operation in METERED:
            client.meta.events.register(f"provide-client-params.dynamodb.{operation}", before)
            client.meta.events.register(f"after-call.dynamodb.{operation}", after)

    def bill(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write units as DynamoDB bills them, from the stream records of the writes."""
        for record in records:
            body = record["dynamodb"]
            key = (body["Keys"]["PK"]["S"], body["Keys"]["SK"]["S"])
            new = body.get("NewImage")
            if key[0].startswith(DERIVED):
                if new:
                    self.inventory[key] = (str(new["type"]["S"]), item_size(new))
                else:
                    self.inventory.pop(key, None)
            if record.get("userIdentity"):  # a TTL deletion by the service: free
                continue
            size = max(item_size(body.get("OldImage", {})), item_size(new or {}))
            units = max(1, math.ceil(size / 1024))
            if self.transactional[key] > 0:
                self.transactional[key] -= 1
                units *= 2
            meter = self.meters[stage_of(key[0])]
            meter.billed_wcu += units
            meter.item_writes += 1
            self.writes[key] += 1
            self.wcu[key] += units
            if key[0].startswith(DERIVED):
                self.family_writes[family_of(key[0])] += 1
                self.family_wcu[family_of(key[0])] += units
            self.largest[key] = max(size, self.largest[key])


# ------------------------------------------------------------------ the synthetic area
@dataclass(frozen=True)
class Population:
    listings: list[Listing]
    requests: list[Request]
    growers: list[str]
    searchers: list[str]

    def core_items(self) -> Iterator[Item]:
        yield from map(ListingItem.encode, self.listings)
        yield from map(RequestItem.encode, self.requests)


def synthesize(count: int, args: argparse.Namespace, catalog: CropCatalog) -> Population:
    rng = random.Random(args.seed * 1_000_003 + count)  # noqa: S311 - synthetic data
    box, now = geo.bounds(args.area), datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    until = now + timedelta(days=14)

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def created() -> datetime:  # a moment of one of the last 30 days, never in the future
        ago = rng.randrange(30)
        day = midnight - timedelta(days=ago)
        return day + timedelta(
            seconds=rng.uniform(0, (now - day).total_seconds() - 1 if ago == 0 else 86_400)
        )

    def place() -> Location:
        lat = round(rng.uniform(box.lat_min, box.lat_max), 6)
        lon = round(rng.uniform(box.lon_min, box.lon_max), 6)
        return Location(lat, lon, geo.encode(lat, lon, 7))

    wanted = round(count * args.requests)
    growers = [str(uuid4()) for _ in range(max(1, count // args.per_owner))]  # Cognito subs
    searchers = [str(uuid4()) for _ in range(max(1, wanted // args.per_owner))]
    listings, requests = [], []
    for index in range(count):
        crop, moment, amount = rng.choice(CROPS[: args.crops]), created(), rng.randint(1, 20)
        unit = catalog.get(crop).canonical_unit
        listings.append(Listing(
            uuid4().hex, rng.choice(growers), crop, unit, Decimal(amount), Decimal(amount),
            moment, until, place(), None, ListingStatus.ACTIVE, 1, moment, moment, f"seed-{index}",
        ))  # fmt: skip
    for index in range(wanted):
        crop, moment = rng.choice(CROPS[: args.crops]), created()
        requests.append(Request(
            uuid4().hex, rng.choice(searchers), crop, catalog.get(crop).canonical_unit,
            Decimal(rng.randint(1, 10)), until, place(), None, RequestStatus.OPEN, 1, moment,
            moment, f"seed-r{index}",
        ))  # fmt: skip
    return Population(listings, requests, growers, searchers)


def derive(population: Population, catalog: CropCatalog) -> list[Item]:
    """The markers and buckets a rebuild writes for these core items, as
    DerivedRepository.replace Puts them (bucket write counters at 1, as rebuild's _fresh)."""
    moment = iso(datetime.now(UTC))
    expected = expected_derived(population.core_items(), catalog)
    return [
        {"createdAt": moment, **(item if is_marker(key) else {**item, "version": 1}),
         "updatedAt": moment, "correlationId": "seed"}
        for key, item in expected.items()
    ]  # fmt: skip


def derive_insights(table: Table, areas: Iterable[str], catalog: CropCatalog, k: int) -> int:
    """The insights `harvest rebuild` writes, by its own function on the real repositories
    (the seeded table, stream still off); returns how many areas were written."""
    signals = SignalService(DerivedRepository(table), catalog, policy=SignalPolicy(k=k))
    store = InsightRepository(table)

    def one(area: str) -> bool:
        return rebuild_insight(area, signals, store, "seed")

    # Cells first: a precision-4 insight is summed from its cells' (rebuild_order).
    by_precision: dict[int, list[str]] = defaultdict(list)
    for area in sorted(areas, key=rebuild_order):
        by_precision[len(area)].append(area)
    written = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for precision in sorted(by_precision, reverse=True):
            written += sum(pool.map(one, by_precision[precision]))
    return written


def note_insight_sizes(
    client: DynamoDBClient, table: str, areas: Iterable[str],
    inventory: dict[ItemKey, tuple[str, int]],
) -> None:  # fmt: skip
    """Each area's INSIGHT# item, read by key (BatchGetItem; a Scan of the whole table at
    100k listings does not finish): its type and size into `inventory`."""
    keys = [insight_key(area) for area in sorted(areas)]
    for start in range(0, len(keys), 100):
        pending: list[Any] = [to_wire(key)["M"] for key in keys[start : start + 100]]
        while pending:
            response = client.batch_get_item(RequestItems={table: {"Keys": pending}})
            for item in response.get("Responses", {}).get(table, []):
                key = (str(item["PK"].get("S")), str(item["SK"].get("S")))
                inventory[key] = (str(item.get("type", {}).get("S")), item_size(item))
            left: Mapping[str, Any] = response.get("UnprocessedKeys", {}).get(table) or {}
            pending = list(left.get("Keys", []))


def bulk_load(client: DynamoDBClient, table: str, items: Iterable[Wire], total: int) -> None:
    def send(chunk: list[Wire]) -> int:
        pending: Any = {table: [{"PutRequest": {"Item": item}} for item in chunk]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
        return len(chunk)

    done, started, shown = 0, time.perf_counter(), time.perf_counter()
    in_flight: deque[Future[int]] = deque()

    def settle_one() -> None:
        nonlocal done, shown
        done += in_flight.popleft().result()
        if time.perf_counter() - shown > 15 or done == total:
            shown = time.perf_counter()
            log(f"  loaded {done:,}/{total:,} items ({done / (shown - started):,.0f}/s)")

    with ThreadPoolExecutor(max_workers=2) as pool:  # DynamoDB Local gains nothing from more
        for chunk in itertools.batched(items, 25, strict=False):
            in_flight.append(pool.submit(send, list(chunk)))
            if len(in_flight) > 8:
                settle_one()
        while in_flight:
            settle_one()


def seed_template() -> dict[str, Any]:
    """template.yaml with the table's stream off: DynamoDB Local loads several times faster
    without it (and slows down as its stream fills); it is enabled once the seed is in."""
    document = copy.deepcopy(load_template())
    document["Resources"][TABLE_LOGICAL_ID]["Properties"].pop("StreamSpecification")
    return document


# ------------------------------------------------------------------ measured core writes
@dataclass(frozen=True)
class Op:
    kind: str
    owner: str
    crop: str
    quantity: Decimal
    location: Location
    listing_id: str = ""

    @property
    def areas(self) -> set[str]:
        return {self.location.geohash[:precision] for precision in (4, 5, 6)}


def plan(population: Population, rounds: Sequence[int], args: argparse.Namespace) -> list[Op]:
    """The core writes of each round in MIX's proportions, one round after the other;
    listings changed or cancelled are distinct seeded listings."""
    rng = random.Random(args.seed)  # noqa: S311 - synthetic data
    box = geo.bounds(args.area)
    targets = iter(rng.sample(population.listings, min(sum(rounds), len(population.listings))))
    ops: list[Op] = []
    for writes in rounds:
        kinds = [kind for kind, share in MIX for _ in range(round(writes * share / 100))]
        kinds += ["create listing"] * (writes - len(kinds))
        rng.shuffle(kinds)
        for kind in kinds[:writes]:
            lat = round(rng.uniform(box.lat_min, box.lat_max), 6)
            lon = round(rng.uniform(box.lon_min, box.lon_max), 6)
            where = Location(lat, lon, geo.encode(lat, lon, 7))
            crop = rng.choice(CROPS[: args.crops])
            if kind == "create listing":
                ops.append(Op(kind, rng.choice(population.growers), crop, Decimal(5), where))
            elif kind == "create request":
                ops.append(Op(kind, rng.choice(population.searchers), crop, Decimal(3), where))
            else:
                old = next(targets)
                more = old.quantity_total + rng.randint(1, 5)
                ops.append(Op(kind, old.owner_id, old.crop, more, old.location, old.listing_id))
    return ops


class CoreWriter:
    """The API's services (what the REST handlers call), on a metered client of their own."""

    def __init__(self, client: DynamoDBClient, table: str, catalog: CropCatalog) -> None:
        repository = Repository(Table(client, table))
        context = ServiceContext(CursorCodec(b"pipeline-cost-bench-cursor-key"))
        self.catalog = catalog
        self.listings = ListingService(repository, catalog, context)
        self.requests = RequestService(repository, catalog, context)

    def write(self, op: Op, name: str) -> None:
        actor = Actor(op.owner, "free", f"bench-{name}")
        unit, now = self.catalog.get(op.crop).canonical_unit, datetime.now(UTC)
        where = (op.location.lat, op.location.lon)
        if op.kind == "create listing":
            draft = ListingDraft(op.crop, op.quantity, unit, now, now + timedelta(days=7), *where)
            self.listings.create(actor, draft, idempotency_key=name)
        elif op.kind == "create request":
            need = RequestDraft(op.crop, op.quantity, unit, now + timedelta(days=7), *where)
            self.requests.create(actor, need, idempotency_key=name)
        elif op.kind == "change quantity":
            self.listings.update(actor, op.listing_id, ListingChanges(quantity=op.quantity), None)
        else:
            self.listings.cancel(actor, op.listing_id, None)


# ------------------------------------------------------------------ the stream and consumers
class BenchContext(LambdaContext):
    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 900_000


class Accepted:
    status_code = 200


MODEL_CALLS: Counter[str] = Counter()
ANSWER: Final = json.dumps(
    {"headline": "h", "reasoning": ["r"], "actions": ["a"]}, separators=(",", ":")
)


def answer_converse(**_: Any) -> tuple[Accepted, dict[str, Any]]:
    """Bedrock's Converse answered in-process with a valid explanation (a botocore
    before-call hook, as PutEvents), each call counted: `--model` runs count model calls."""
    MODEL_CALLS["converse"] += 1
    return Accepted(), {
        "output": {"message": {"role": "assistant", "content": [{"text": ANSWER}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1000, "outputTokens": 400, "totalTokens": 1400},
        "metrics": {"latencyMs": 1},
    }


PUT_ENTRIES: list[dict[str, Any]] = []  # what the publisher put, for the rules to route


def accept_put_events(params: Mapping[str, Any], **_: Any) -> tuple[Accepted, dict[str, Any]]:
    """PutEvents answered in-process, every entry accepted (a botocore before-call hook)."""
    entries = json.loads(params["body"])["Entries"]
    PUT_ENTRIES.extend(entries)
    return Accepted(), {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in entries]}


def _client_of(owner: object) -> DynamoDBClient:
    table = getattr(owner, "table", None)
    if not isinstance(table, Table):
        raise TypeError(f"{type(owner).__name__} holds no Table: the consumer wiring changed")
    return table.client


def connect_consumers(metering: Metering, table: str) -> None:
    """Fresh cached services on `table`, each client metered under its consumer's name."""
    os.environ["TABLE_NAME"] = table
    Once.reset_all()
    derive, advice = derivation.derivation(), advisor.advisor().advice
    insight = derive.insights
    owners: dict[str, list[object]] = {
        "derivation": [
            derive.aggregation.repository,
            insight.store,
            getattr(insight.signals, "derived", None),
        ],
        "advisor": [advice.repository, advisor.advisor().insights],
    }
    for stage, found in owners.items():
        for client in {id(c): c for c in map(_client_of, found)}.values():
            metering.instrument(client, stage)
    answer = cast("Callable[..., None]", accept_put_events)  # a before-call hook may answer
    publisher.publishing().events.client.meta.events.register(
        "before-call.eventbridge.PutEvents", answer
    )


class Discard(io.StringIO):
    """A text stream that keeps nothing."""

    def write(self, s: str, /) -> int:
        return len(s)


DISCARD: Final = Discard()


class Pipeline:
    """Reads the table stream (every record: the billing tap) and hands each consumer the
    records its FilterCriteria match, in stream order, in batches of up to its batch size,
    synchronously, until nothing new arrives."""

    def __init__(self, client: DynamoDBClient, table: str, metering: Metering) -> None:
        arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        mappings = {
            m.function_logical_id: m for m in mappings_from_template(load_template(), table)
        }
        self.metering = metering
        self.patterns = {
            name: mappings[logical].patterns for name, (logical, _) in CONSUMERS.items()
        }
        self.sizes = {
            name: mappings[logical].batch_size for name, (logical, _) in CONSUMERS.items()
        }
        topology = topology_from_template(load_template(), table)
        by_function = {m.function.logical_id: m for m in topology.mappings}
        self.queue_sizes = {
            name: by_function[logical].batch_size for name, (logical, _) in SUBSCRIBERS.items()
        }
        self.rules = {
            name: [
                compile_pattern(json.dumps(rule.pattern))
                for rule in topology.rules
                if by_function[logical].queue in rule.queues
            ]
            for name, (logical, _) in SUBSCRIBERS.items()
        }
        self.tap = ShardReader(
            make_streams_client(REGION), arn, REGION, (), batch_size=10_000, window_s=0,
            starting_position="LATEST", clock=time.monotonic, checkpoints={},
        )  # fmt: skip
        for shard in self.tap.ready_shards():  # pin LATEST before any measured write
            self.tap.read(shard)
            shard.buffer.clear()

    def drain(self, batched: bool) -> None:
        while records := self._read():
            self.metering.bill(records)
            for name, (_, handler) in CONSUMERS.items():
                matched = [record for record in records if matches_any(self.patterns[name], record)]
                size = self.sizes[name] if batched else 1
                for first in range(0, len(matched), size):
                    self._invoke(name, handler, matched[first : first + size])
            events = [bus_event(entry, region=REGION) for entry in PUT_ENTRIES]
            PUT_ENTRIES.clear()
            for name, (_, handler) in SUBSCRIBERS.items():
                messages = [
                    queue_message(event) for event in events if matches_any(self.rules[name], event)
                ]
                size = self.queue_sizes[name] if batched else 1
                for first in range(0, len(messages), size):
                    self._invoke(name, handler, messages[first : first + size])

    def _read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self.tap.ready_shards():
            while True:
                self.tap.read(shard)  # one GetRecords
                batch = self.tap.take_batch(shard)
                if batch is None:
                    break
                records += batch.records
                self.tap.settle(shard)
        return records

    def _invoke(
        self, name: str, handler: Callable[..., Any], records: list[dict[str, Any]]
    ) -> None:
        meter = self.metering.meters[name]
        with contextlib.redirect_stdout(DISCARD):  # Powertools prints its metrics
            cpu, wall = time.process_time(), time.perf_counter()
            response = handler({"Records": records}, BenchContext())
            meter.cpu_s += time.process_time() - cpu
            meter.wall_s += time.perf_counter() - wall
        meter.invocations += 1
        meter.records += len(records)
        if response["batchItemFailures"]:
            raise RuntimeError(f"{name} reported a failed record; rerun with --logs to see why")


def queue_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS record as the subscriber's queue delivers the event (local.queues.sqs_record)."""
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "bench",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
        "awsRegion": REGION,
    }


def quiet_consumer_logs(to_stderr: bool) -> None:
    """The consumers keep logging at INFO as deployed (that CPU is real), but not on stdout."""
    for module in (derivation, advisor, publisher):
        handler = module.logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr if to_stderr else DISCARD)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


# ------------------------------------------------------------------ one size
def warm_ai(table: Table, areas: set[str]) -> int:
    """The AI worker's cache as it stands once the seeded insights were explained."""
    explainer, explained, insights_read = advisor.advisor().explainer, 0, InsightRepository(table)
    for area in sorted(areas):
        stored = insights_read.current(area)
        for window in stored.insight.windows if stored else ():
            explainer.explain(area, window, "seed")
            explained += 1
    return explained


def measure(mode: str, ops: Sequence[Op], writer: CoreWriter, pipeline: Pipeline,
            metering: Metering, chunk: int) -> dict[str, Any]:  # fmt: skip
    metering.reset()
    calls_before = MODEL_CALLS["converse"]
    started, api = time.perf_counter(), metering.meters["api"]
    for first in range(0, len(ops), chunk):
        for sequence, op in enumerate(ops[first : first + chunk], start=first):
            cpu, wall = time.process_time(), time.perf_counter()
            writer.write(op, f"bench-{mode}-{sequence}")
            api.cpu_s += time.process_time() - cpu
            api.wall_s += time.perf_counter() - wall
            api.invocations, api.records = api.invocations + 1, api.records + 1
        pipeline.drain(batched=chunk > 1)
    found = figures(metering, len(ops), time.perf_counter() - started)
    found["model_calls_per_write"] = (MODEL_CALLS["converse"] - calls_before) / len(ops)
    return found


def figures(metering: Metering, writes: int, seconds: float) -> dict[str, Any]:
    stages: dict[str, dict[str, float]] = {}
    for stage, m in metering.meters.items():
        per_record = 1000 / m.records if m.records else 0.0
        stages[stage] = {
            "invocations": m.invocations, "records": m.records, "calls": m.calls,
            "failed_conditional_writes": m.failed_writes, "records_per_write": m.records / writes,
            "item_writes_per_write": m.item_writes / writes,
            "wcu_billed_per_write": m.billed_wcu / writes,
            "wcu_local_per_write": m.local_wcu / writes, "rcu_per_write": m.local_rcu / writes,
            "cpu_ms_per_record": m.cpu_s * per_record, "cpu_ms_per_write": 1000 * m.cpu_s / writes,
            "wall_ms_per_record": m.wall_s * per_record,
        }  # fmt: skip
    averages = {"cpu_ms_per_record", "wall_ms_per_record"}
    stages["derived total"] = {
        name: sum(stages[stage][name] for stage in STAGES if stage != "api")
        for name in stages["api"] if name not in averages
    }  # fmt: skip
    return {
        "writes": writes,
        "seconds": seconds,
        "stages": stages,
        "hot": hottest(metering, writes),
        "families": {
            family: {"writes_per_write": metering.family_writes[family] / writes,
                     "wcu_billed_per_write": metering.family_wcu[family] / writes}
            for family in sorted(metering.family_writes)
        },
        "reads": [
            {"stage": stage, "operation": operation, "family": family,
             "calls_per_write": metering.reads[read] / writes,
             "rcu_per_write": metering.read_units[read] / writes}
            for read in sorted(metering.reads)
            for stage, operation, family in [read]
            if stage != "api"
        ],
    }  # fmt: skip


def hottest(metering: Metering, writes: int, top: int = 3) -> list[dict[str, Any]]:
    """The derived partition keys written most often (and the costliest), per core write."""
    count: Counter[str] = Counter()
    units: defaultdict[str, float] = defaultdict(float)
    largest: defaultdict[str, int] = defaultdict(int)
    for (pk, sk), written in metering.writes.items():
        if pk.startswith(DERIVED):
            count[pk] += written
            units[pk] += metering.wcu[(pk, sk)]
            largest[pk] = max(largest[pk], metering.largest[(pk, sk)])
    picked = [pk for pk, _ in count.most_common(top)]
    costliest = max(units, key=units.__getitem__, default=None)
    picked += [costliest] if costliest is not None and costliest not in picked else []
    return [
        {
            "pk": pk,
            "writes_per_write": count[pk] / writes,
            "wcu_billed_per_write": units[pk] / writes,
            "largest_item_bytes": largest[pk],
            "core_writes_per_s_at_partition_limit": PARTITION_WCU_PER_S * writes / units[pk],
        }
        for pk in picked
    ]


def item_sizes(found: Iterable[tuple[ItemKey, str, int]]) -> dict[str, dict[str, Any]]:
    """Per item type: count, median and largest size (and the largest item's key)."""
    by_type: defaultdict[str, list[tuple[int, ItemKey]]] = defaultdict(list)
    for key, kind, size in found:
        by_type[kind].append((size, key))
    return {
        kind: {
            "items": len(sized),
            "median_bytes": round(statistics.median(size for size, _ in sized)),
            "max_bytes": max(sized)[0],
            "max_key": " ".join(max(sized)[1]),
        }
        for kind, sized in sorted(by_type.items())
    }


def scanned(client: DynamoDBClient, table: str) -> Iterator[tuple[ItemKey, str, int]]:
    condition = " OR ".join(f"begins_with(PK, :p{i})" for i in range(len(DERIVED)))
    prefixes: Any = {f":p{i}": {"S": prefix} for i, prefix in enumerate(DERIVED)}
    pages = client.get_paginator("scan").paginate(
        TableName=table, FilterExpression=condition, ExpressionAttributeValues=prefixes
    )
    for item in itertools.chain.from_iterable(page.get("Items", []) for page in pages):
        key = (str(item["PK"].get("S")), str(item["SK"].get("S")))
        yield key, str(item.get("type", {}).get("S")), item_size(item)


def run_size(count: int, args: argparse.Namespace, clients: tuple[DynamoDBClient, DynamoDBClient],
             catalog: CropCatalog, metering: Metering) -> dict[str, Any]:  # fmt: skip
    plumbing, api = clients
    started, table = time.perf_counter(), f"bench-pipeline-{count}"
    log(f"{count:,} listings: synthesizing the area, deriving its AGG# and INSIGHT# items")
    population = synthesize(count, args, catalog)
    derived = derive(population, catalog)
    core = count + len(population.requests)
    metering.inventory.clear()
    log(f"  loading {core:,} core and {len(derived):,} AGG# items")
    create_table(plumbing, table, seed_template())
    derived_items = wired(derived, metering.inventory)
    items = itertools.chain(map(wire_item, population.core_items()), derived_items)
    bulk_load(plumbing, table, items, core + len(derived))
    seeded_table = Table(plumbing, table)
    areas = areas_of((str(item["PK"]), str(item["SK"])) for item in derived)
    del derived
    log(f"  rebuilding the insights of {len(areas):,} areas")
    derive_insights(seeded_table, areas, catalog, current_settings().signal_k)
    note_insight_sizes(plumbing, table, areas, metering.inventory)
    seed_types = Counter(kind for kind, _ in metering.inventory.values())
    connect_consumers(metering, table)
    ops = plan(population, (args.writes_alone, args.writes_batched), args)
    view = load_template()["Resources"][TABLE_LOGICAL_ID]["Properties"]["StreamSpecification"]
    plumbing.update_table(TableName=table, StreamSpecification={
        "StreamEnabled": True, "StreamViewType": view["StreamViewType"]})  # fmt: skip
    pipeline, writer = Pipeline(plumbing, table, metering), CoreWriter(api, table, catalog)
    explained = warm_ai(seeded_table, set().union(*(op.areas for op in ops)))
    pipeline.drain(batched=True)  # AI cache writes: no consumer takes them; sizes noted
    seeded = time.perf_counter() - started
    log(f"  seeded in {seeded:.0f} s (AI cache warmed with {explained:,} explanations)")
    rounds = {}
    for mode, chunk, part in (("alone", 1, ops[: args.writes_alone]),
                              ("batched", args.batch, ops[args.writes_alone :])):  # fmt: skip
        log(f"  measuring {len(part)} core writes, records delivered {mode}")
        rounds[mode] = measure(mode, part, writer, pipeline, metering, chunk)
        log(f"  ... {rounds[mode]['seconds']:.0f} s")
    final: Iterable[tuple[ItemKey, str, int]] = (
        (key, kind, size) for key, (kind, size) in metering.inventory.items()
    )
    if args.scan:
        log("  scanning the derived items")
        final = scanned(plumbing, table)
    sizes = item_sizes(final)
    signals_rcu, recompute_rcu = signals_read_units(table, args.area)
    plumbing.delete_table(TableName=table)
    return {
        "listings": count, "requests": len(population.requests),
        "growers": len(population.growers), "searchers": len(population.searchers),
        "seed_items": {"core": core, **seed_types}, "seed_seconds": seeded,
        "ai_explanations_warmed": explained,
        "batch_sizes": {"core writes per stream read": args.batch, **pipeline.sizes},
        "rounds": rounds, "derived_items": sizes, "sizes_from": "scan" if args.scan else "stream",
        "signals_rcu_per_request": signals_rcu, "signals_recompute_rcu": recompute_rcu,
        "seconds": time.perf_counter() - started,
    }  # fmt: skip


def signals_read_units(table: str, area: str) -> tuple[float, float]:
    """Read units of one `GET /communities/{area}/signals`, from ConsumedCapacity: as the
    route answers it (SignalService.published: the stored insight, eventually consistent),
    and as it is computed from the buckets when the insight's windows have moved
    (SignalService.for_area: what the route falls back to)."""
    client, consumed = make_client(REGION), [0.0]

    def before(params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def after(parsed: Mapping[str, Any], **_: Any) -> None:
        consumed[0] += float((parsed.get("ConsumedCapacity") or {}).get("CapacityUnits", 0))

    for operation in ("Query", "GetItem"):
        client.meta.events.register(f"provide-client-params.dynamodb.{operation}", before)
        client.meta.events.register(f"after-call.dynamodb.{operation}", after)
    derived, policy = (
        DerivedRepository(Table(client, table)),
        SignalPolicy(k=current_settings().signal_k),
    )
    insights = InsightRepository(Table(client, table))
    SignalService(derived, policy=policy, insights=insights).published(area)
    route = consumed[0]
    consumed[0] = 0.0
    SignalService(derived, policy=policy).for_area(area)
    return route, consumed[0]


# ------------------------------------------------------------------ report
def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Aligned columns: the first to the left, the figures to the right."""
    table = [list(headers), *([cell(v) for v in row] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    return "\n".join(
        "  ".join(
            [
                line[0].ljust(widths[0]),
                *(v.rjust(w) for v, w in zip(line[1:], widths[1:], strict=True)),
            ]
        )
        for line in table
    )


STAGE_COLUMNS: Final = (
    ("invocations", "invocations"), ("records", "records"), ("rec/write", "records_per_write"),
    ("items/write", "item_writes_per_write"), ("WCU billed/write", "wcu_billed_per_write"),
    ("WCU local/write", "wcu_local_per_write"), ("RCU/write", "rcu_per_write"),
    ("CPU ms/rec", "cpu_ms_per_record"), ("CPU ms/write", "cpu_ms_per_write"),
    ("wall ms/rec", "wall_ms_per_record"),
)  # fmt: skip
HOT_COLUMNS: Final = (
    ("writes/write", "writes_per_write"), ("WCU billed/write", "wcu_billed_per_write"),
    ("largest item B", "largest_item_bytes"),
    ("core writes/s at 1,000 WCU/s", "core_writes_per_s_at_partition_limit"),
)  # fmt: skip


def print_size(result: dict[str, Any]) -> None:
    seed = ", ".join(f"{n:,} {kind}" for kind, n in result["seed_items"].items())
    print(f"\n== {result['listings']:,} live listings + {result['requests']:,} open requests "
          f"({result['growers']:,} growers, {result['searchers']:,} searchers)\n"
          f"seed: {seed} in {result['seed_seconds']:.0f} s")  # fmt: skip
    sizes = iter(result["batch_sizes"].items())
    per_read = next(sizes)[1]
    print(f"batched: {per_read} core writes per stream read, then BatchSize "
          + ", ".join(f"{name} {size}" for name, size in sizes))  # fmt: skip
    for mode, measured in result["rounds"].items():
        print(f"\n-- {measured['writes']} core writes, records delivered {mode} "
              f"({measured['seconds']:.0f} s)")  # fmt: skip
        rows = ([stage, *(f.get(key, "") for _, key in STAGE_COLUMNS)]
                for stage, f in measured["stages"].items())  # fmt: skip
        print(render(["stage", *(title for title, _ in STAGE_COLUMNS)], rows))
        print("hottest derived partition keys:")
        rows = ([hot["pk"], *(hot[key] for _, key in HOT_COLUMNS)] for hot in measured["hot"])
        print(render(["PK", *(title for title, _ in HOT_COLUMNS)], rows))
        print("derived writes by item family (as billed):")
        rows = ([family, f["writes_per_write"], f["wcu_billed_per_write"]]
                for family, f in measured.get("families", {}).items())  # fmt: skip
        print(render(["family", "writes/write", "WCU billed/write"], rows))
        print("consumers' reads by operation and item family:")
        rows = ([r["stage"], r["operation"], r["family"], r["calls_per_write"], r["rcu_per_write"]]
                for r in measured.get("reads", []))  # fmt: skip
        print(render(["stage", "operation", "family", "calls/write", "RCU/write"], rows))
    print(f"\nderived items at the end (sizes from the {result['sizes_from']}):")
    rows = ([kind, f["items"], f["median_bytes"], f["max_bytes"], f["max_key"]]
            for kind, f in result["derived_items"].items())  # fmt: skip
    print(render(["type", "items", "median B", "largest B", "largest item"], rows))


def print_summary(results: Sequence[dict[str, Any]]) -> None:
    rows = []
    for result in results:
        row: list[object] = [result["listings"]]
        for mode in ("alone", "batched"):
            total = result["rounds"][mode]["stages"]["derived total"]
            row += [
                total["wcu_billed_per_write"],
                total["rcu_per_write"],
                total["cpu_ms_per_write"],
            ]
        costliest = max(result["rounds"]["alone"]["hot"], key=lambda h: h["wcu_billed_per_write"])
        row += [
            max(f["max_bytes"] for f in result["derived_items"].values()),
            costliest["pk"],
            costliest["wcu_billed_per_write"],
            costliest["core_writes_per_s_at_partition_limit"],
            result["signals_rcu_per_request"],
            result["signals_recompute_rcu"],
            result["rounds"]["batched"].get("model_calls_per_write", 0.0),
        ]
        rows.append(row)
    print("\n== per core write, consumers only (WCU as billed; hottest key: records alone)")
    print(render(["listings", "alone WCU", "alone RCU", "alone CPU ms", "batched WCU",
                  "batched RCU", "batched CPU ms", "largest item B", "costliest PK",
                  "its WCU/write", "core writes/s at limit", "signals RCU/request",
                  "signals RCU recomputed", "model calls/write (batched)"],
                 rows))  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="What one core write costs downstream.")
    add = parser.add_argument
    add("--sizes", type=int, nargs="+", default=[1000, 10000], help="live listings (1000 10000)")
    add("--writes-alone", type=int, default=50, help="core writes measured, records alone (50)")
    add("--writes-batched", type=int, default=100, help="core writes measured, batched (100)")
    add("--batch", type=int, default=100, help="core writes per stream read when batched (100)")
    add("--per-owner", type=int, default=4, help="listings (and requests) per owner (4)")
    add("--requests", type=float, default=0.25, help="open requests per live listing (0.25)")
    add("--crops", type=int, default=len(CROPS), choices=range(1, len(CROPS) + 1))
    add("--area", default="u33d", help="the geohash-4 cell (u33d: Berlin)")
    add("--seed", type=int, default=7, help="random seed (7)")
    add("--scan", action="store_true", help="read the final item sizes back with a Scan")
    add("--json", type=Path, help="also write the figures to this file")
    add("--logs", action="store_true", help="consumer logs to stderr (default: discarded)")
    add("--model", default="", help="a Bedrock model id: Converse answered in-process, counted")
    args = parser.parse_args()
    geo.validate_geohash(args.area, min_precision=4, max_precision=4)
    return args


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    # Local engines accept any credentials: never send real ones. No model: fallbacks.
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "BEDROCK_MODEL_ID",
                 "POWERTOOLS_METRICS_DISABLED", "AWS_ENDPOINT_URL_DYNAMODB"):  # fmt: skip
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",  # noqa: S106  # nosec B106
        AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION, POWERTOOLS_TRACE_DISABLED="1",
    )  # fmt: skip
    if args.model:
        os.environ["BEDROCK_MODEL_ID"] = args.model
        # Clients made from the default session copy its handlers: the AI worker's too.
        boto3.setup_default_session(region_name=REGION)
        session = cast("Any", boto3.DEFAULT_SESSION)
        session.events.register("before-call.bedrock-runtime.Converse", answer_converse)
    quiet_consumer_logs(args.logs)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stops DynamoDB Local
    catalog = load_catalog()
    for crop in CROPS:
        catalog.get(crop)
    machine: dict[str, Any] = {
        "cores": os.cpu_count(), "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "engine": "DynamoDB Local (in-memory)", "load_average_at_start": os.getloadavg()[0],
    }  # fmt: skip
    print(f"pipeline cost on {machine['engine']}: {machine['cores']} cores, Python "
          f"{machine['python']}, {machine['platform']}, load average "
          f"{machine['load_average_at_start']:.1f} at start\n"
          f"area {args.area} (geohash-4, 1,024 precision-6 cells), {args.crops} crops, 30 days, "
          f"{args.per_owner} listings per owner, {args.requests:.0%} as many open requests, "
          f"k={current_settings().signal_k}\nmeasured core writes: "
          + ", ".join(f"{kind} {share} %" for kind, share in MIX), flush=True)  # fmt: skip
    log("starting DynamoDB Local")
    engine = DynamoDbLocalEngine()
    engine.start()
    results = []
    try:
        os.environ["AWS_ENDPOINT_URL"] = engine.endpoint_url
        metering = Metering()
        # The plumbing client (seed, stream setup, scan) is patient and not metered.
        patient = CLIENT_CONFIG.merge(Config(read_timeout=300))
        plumbing = boto3.client("dynamodb", region_name=REGION, config=patient)
        api = make_client(REGION)
        metering.instrument(api, "api")
        for count in args.sizes:
            results.append(run_size(count, args, (plumbing, api), catalog, metering))
            print_size(results[-1])
            sys.stdout.flush()
    finally:
        engine.stop()
    seconds = time.perf_counter() - started
    machine["load_average_at_end"] = os.getloadavg()[0]
    print_summary(results)
    each = ", ".join(f"{r['listings']:,}: {r['seconds']:.0f} s" for r in results)
    print(f"\nran in {seconds:.0f} s ({each}); load average "
          f"{machine['load_average_at_end']:.1f} at the end")  # fmt: skip
    if args.json:
        settings = {name: str(v) if isinstance(v, Path) else v for name, v in vars(args).items()}
        document = {"machine": machine, "settings": settings, "mix": dict(MIX),
                    "sizes": results, "seconds": seconds}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
