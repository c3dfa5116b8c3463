"""Derived state equals a rebuild from core, whatever Lambda's delivery of the stream does.

Random sequences of core writes go through the real services (listings and requests created
on different days in 1-3 areas and 2-3 crops, edited, cancelled, completed; claims created,
confirmed, cancelled, marked no-show or completed, which move the listings' remaining
quantity; creates retried with the same client id) onto a moto table built from
template.yaml. Its real stream is then delivered to the real consumer handlers under a random
schedule (support.delivery): batch sizes; a record that fails before or after its effect and
is retried from the reported sequence number; function errors with bisection; duplicated
batches; replays from TRIM_HORIZON in the middle and at the end; a record that keeps failing
until Lambda gives up on it, redriven after the mapping has moved on. Afterwards the derived
AGG# and INSIGHT# items must show no drift from a rebuild over the core items, exactly as
`harvest audit` compares them. A second property delivers the same stream twice from scratch
in different batch sizes and wants the same stored items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any, Final, cast

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from harvest.consumers import derivation
from harvest.domain.claim import ClaimStatus
from harvest.domain.common import Actor
from harvest.domain.crops import COUNT_UNITS, load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import DomainError
from harvest.domain.listing import ListingStatus
from harvest.domain.request import RequestStatus
from harvest.local import moto_patches
from harvest.local.records import make_streams_client
from harvest.services.claims import ClaimDraft, ClaimService
from harvest.services.insight_rebuild import insight_drift
from harvest.services.listings import ListingChanges, ListingDraft, ListingService
from harvest.services.rebuild import drift, expected_derived, item_key
from harvest.services.requests import RequestChanges, RequestDraft, RequestService
from harvest.services.support import ServiceContext
from harvest.store.derived import BUCKET_TYPE
from harvest.store.dynamo import make_client
from harvest.store.insights import stored_insight
from harvest.store.repository import Repository
from harvest.store.scan import (
    CORE_SOURCE_PREFIXES,
    DERIVED_AGG_PREFIXES,
    DERIVED_INSIGHT_PREFIXES,
    scan_segment,
)
from harvest.store.table import Item, Table
from harvest.tools.template import create_table
from support.delivery import (
    FAULT_KINDS,
    Consumer,
    DeliveryLog,
    Fault,
    Handler,
    Poll,
    StreamTail,
    consumer_for,
    deliver,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# The stream consumers that write derived items, in the order a round of delivery visits
# them, each with its own mapping from template.yaml (filters, bisection) over the same
# stream: the derivation consumer alone (buckets, then the insights of its batch's areas).
CONSUMERS: Final[list[Handler]] = [derivation.handler]

REGION: Final = "us-east-1"
TABLE: Final = "harvest-pipeline-property"
# Three areas in three different geohash-4 cells; three spots per area, in different
# precision-5/6 cells of the same precision-4 cell.
AREAS: Final = {"berlin": (52.52, 13.405), "hamburg": (53.55, 9.99), "lyon": (45.76, 4.835)}
SPOTS: Final = ((0.0, 0.0), (0.01, 0.01), (0.03, -0.02))
CROP_UNITS: Final = {
    "tomato": ("kg", "g", "each"),
    "egg": ("dozen", "each", "box"),
    "zucchini": ("kg", "each"),
}
GROWERS: Final = ("grower-a", "grower-b", "grower-c")
SEARCHERS: Final = ("searcher-a", "searcher-b")
# The clock starts 12 days and 18 hours before today's midnight and never passes 18 hours
# before it: every item is created on one of the 13 days before today, so each day bucket
# lies inside the 30-day window of a read made now.
SPAN: Final = timedelta(days=12)
# Bookkeeping of when a write happened (an empty presence's expiresAt is its write time + 7
# days), not what it says.
IGNORED: Final = frozenset({"createdAt", "updatedAt", "correlationId", "expiresAt"})


# ---------------------------------------------------------------- core writes


@dataclass(frozen=True, slots=True)
class Tick:
    hours: int


@dataclass(frozen=True, slots=True)
class CreateListing:
    owner: str
    area: int
    spot: int
    crop: int
    unit: int
    amount: Decimal
    starts_in_hours: int
    open_days: int
    client_id: bool


@dataclass(frozen=True, slots=True)
class CreateRequest:
    owner: str
    area: int
    spot: int
    crop: int
    unit: int
    amount: Decimal
    needed_in_days: int
    client_id: bool


@dataclass(frozen=True, slots=True)
class RetryCreate:
    """The client sends a create again with its own id: a replay, nothing is written."""

    listing: bool
    index: int


@dataclass(frozen=True, slots=True)
class EditListing:
    index: int
    amount: Decimal | None
    until_days: int | None


@dataclass(frozen=True, slots=True)
class CloseListing:
    index: int
    status: ListingStatus


@dataclass(frozen=True, slots=True)
class EditRequest:
    index: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class MoveRequest:
    index: int
    status: RequestStatus


@dataclass(frozen=True, slots=True)
class MakeClaim:
    listing: int
    claimer: int
    percent: int | None  # None: everything that remains
    confirm: bool  # the listing's owner confirms it right away (a second write)


@dataclass(frozen=True, slots=True)
class MoveClaim:
    index: int
    status: ClaimStatus
    by_claimer: bool


type Op = (
    Tick
    | CreateListing
    | CreateRequest
    | RetryCreate
    | EditListing
    | CloseListing
    | EditRequest
    | MoveRequest
    | MakeClaim
    | MoveClaim
)

CLOSING: Final = (ListingStatus.CANCELLED, ListingStatus.COMPLETED)
REQUEST_MOVES: Final = (RequestStatus.MATCHED, RequestStatus.CLOSED, RequestStatus.CANCELLED)
amounts = st.integers(1, 40).map(lambda n: Decimal(n) / 2)


def _fit(amount: Decimal, unit: str) -> Decimal:
    """Count units take whole numbers (the services refuse 1.5 eggs): round up."""
    return amount.to_integral_value(ROUND_CEILING) if unit in COUNT_UNITS else amount


indices = st.integers(0, 15)


def _listings(areas: int, crops: int) -> st.SearchStrategy[CreateListing]:
    return st.builds(
        CreateListing,
        owner=st.sampled_from(GROWERS),
        area=st.integers(0, areas - 1),
        spot=st.integers(0, len(SPOTS) - 1),
        crop=st.integers(0, crops - 1),
        unit=st.integers(0, 2),
        amount=amounts,
        starts_in_hours=st.integers(0, 36),
        open_days=st.integers(1, 20),
        client_id=st.booleans(),
    )


def _ops(areas: int, crops: int) -> st.SearchStrategy[Op]:
    requests = st.builds(
        CreateRequest,
        owner=st.sampled_from(SEARCHERS),
        area=st.integers(0, areas - 1),
        spot=st.integers(0, len(SPOTS) - 1),
        crop=st.integers(0, crops - 1),
        unit=st.integers(0, 2),
        amount=amounts,
        needed_in_days=st.integers(1, 20),
        client_id=st.booleans(),
    )
    claim_moves = st.sampled_from(
        [ClaimStatus.CONFIRMED, ClaimStatus.CANCELLED, ClaimStatus.NO_SHOW, ClaimStatus.COMPLETED]
    )
    weighted: list[tuple[int, st.SearchStrategy[Op]]] = [
        (1, st.builds(Tick, st.integers(1, 40))),
        (3, _listings(areas, crops)),
        (2, requests),
        (1, st.builds(RetryCreate, st.booleans(), indices)),
        (2, st.builds(EditListing, indices, amounts | st.none(), st.integers(1, 30) | st.none())),
        (1, st.builds(CloseListing, indices, st.sampled_from(list(CLOSING)))),
        (1, st.builds(EditRequest, indices, amounts)),
        (1, st.builds(MoveRequest, indices, st.sampled_from(list(REQUEST_MOVES)))),
        (
            2,
            st.builds(
                MakeClaim,
                indices,
                st.integers(0, 4),
                st.integers(1, 100) | st.none(),
                st.booleans(),
            ),
        ),
        (3, st.builds(MoveClaim, indices, claim_moves, st.booleans())),
    ]
    return st.one_of(*[strategy for weight, strategy in weighted for _ in range(weight)])


@dataclass(frozen=True, slots=True)
class World:
    areas: tuple[str, ...]
    crops: tuple[str, ...]
    ops: tuple[Op, ...]


@st.composite
def worlds(draw: st.DrawFn, max_ops: int = 24) -> World:
    areas = draw(st.lists(st.sampled_from(sorted(AREAS)), min_size=1, max_size=3, unique=True))
    crops = draw(st.lists(st.sampled_from(sorted(CROP_UNITS)), min_size=2, max_size=3, unique=True))
    first = draw(_listings(len(areas), len(crops)))
    rest = draw(st.lists(_ops(len(areas), len(crops)), min_size=5, max_size=max_ops))
    return World(tuple(areas), tuple(crops), (first, *rest))


class NothingToDo(Exception):
    """The operation names an entity of a kind none of which exists yet."""


class Clock:
    def __init__(self, start: datetime) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: int) -> None:
        self.now = min(self.now + timedelta(hours=hours), self.start + SPAN)


@dataclass
class Writer:
    """Applies generated operations through the real services; refused ones write nothing."""

    world: World
    table: Table
    clock: Clock
    listings: list[tuple[str, str, ListingDraft]] = field(default_factory=list)
    requests: list[tuple[str, str, RequestDraft]] = field(default_factory=list)
    claims: list[tuple[str, str, str]] = field(default_factory=list)  # id, owner, claimer
    applied: dict[str, int] = field(default_factory=dict)
    refused: int = 0

    def __post_init__(self) -> None:
        repository = Repository(self.table)
        context = ServiceContext(cursors=CursorCodec(b"pipeline-property"), clock=self.clock)
        catalog = load_catalog()
        self.listing_service = ListingService(repository, catalog, context)
        self.request_service = RequestService(repository, catalog, context)
        self.claim_service = ClaimService(repository, context)

    def run(self) -> None:
        for number, op in enumerate(self.world.ops):
            try:
                self._apply(number, op)
            except (DomainError, NothingToDo):
                self.refused += 1
                continue
            name = type(op).__name__
            self.applied[name] = self.applied.get(name, 0) + 1

    def _actor(self, user: str, number: int) -> Actor:
        return Actor(user_id=user, tier="free", correlation_id=f"op-{number}")

    def _place(self, area: int, spot: int) -> tuple[float, float]:
        lat, lon = AREAS[self.world.areas[area]]
        dlat, dlon = SPOTS[spot]
        return lat + dlat, lon + dlon

    def _crop(self, crop: int, unit: int) -> tuple[str, str]:
        slug = self.world.crops[crop]
        units = CROP_UNITS[slug]
        return slug, units[unit % len(units)]

    def _apply(self, number: int, op: Op) -> None:  # noqa: PLR0912 - one branch per operation
        now = self.clock()
        match op:
            case Tick(hours):
                self.clock.advance(hours)
            case CreateListing():
                slug, unit = self._crop(op.crop, op.unit)
                lat, lon = self._place(op.area, op.spot)
                starts = now + timedelta(hours=op.starts_in_hours)
                draft = ListingDraft(
                    crop=slug,
                    quantity=_fit(op.amount, unit),
                    unit=unit,
                    available_from=starts,
                    available_until=starts + timedelta(days=op.open_days),
                    lat=lat,
                    lon=lon,
                    listing_id=f"listing-{number:04d}" if op.client_id else None,
                )
                made = self.listing_service.create(self._actor(op.owner, number), draft)
                self.listings.append((made.entity.listing_id, op.owner, draft))
            case CreateRequest():
                slug, unit = self._crop(op.crop, op.unit)
                lat, lon = self._place(op.area, op.spot)
                draft_request = RequestDraft(
                    crop=slug,
                    quantity=_fit(op.amount, unit),
                    unit=unit,
                    needed_by=now + timedelta(days=op.needed_in_days),
                    lat=lat,
                    lon=lon,
                    request_id=f"request-{number:04d}" if op.client_id else None,
                )
                asked = self.request_service.create(self._actor(op.owner, number), draft_request)
                self.requests.append((asked.entity.request_id, op.owner, draft_request))
            case RetryCreate(listing=True) if self.listings:
                _, owner, draft = self.listings[op.index % len(self.listings)]
                if draft.listing_id is None:
                    raise NothingToDo
                again = self.listing_service.create(self._actor(owner, number), draft)
                assert again.replayed
            case RetryCreate(listing=False) if self.requests:
                _, owner, draft_request = self.requests[op.index % len(self.requests)]
                if draft_request.request_id is None:
                    raise NothingToDo
                retried = self.request_service.create(self._actor(owner, number), draft_request)
                assert retried.replayed
            case EditListing() if self.listings:
                listing_id, owner, made_as = self.listings[op.index % len(self.listings)]
                until = now + timedelta(days=op.until_days) if op.until_days else None
                amount = None if op.amount is None else _fit(op.amount, made_as.unit)
                changes = ListingChanges(quantity=amount, available_until=until)
                self.listing_service.update(self._actor(owner, number), listing_id, changes, None)
            case CloseListing() if self.listings:
                listing_id, owner, _ = self.listings[op.index % len(self.listings)]
                closing = ListingChanges(status=op.status)
                self.listing_service.update(self._actor(owner, number), listing_id, closing, None)
            case EditRequest() if self.requests:
                request_id, owner, asked_as = self.requests[op.index % len(self.requests)]
                edit = RequestChanges(quantity=_fit(op.amount, asked_as.unit))
                self.request_service.update(self._actor(owner, number), request_id, edit, None)
            case MoveRequest() if self.requests:
                request_id, owner, _ = self.requests[op.index % len(self.requests)]
                moved = RequestChanges(status=op.status)
                self.request_service.update(self._actor(owner, number), request_id, moved, None)
            case MakeClaim() if self.listings:
                self._claim(number, op)
            case MoveClaim() if self.claims:
                claim_id, owner, claimer = self.claims[op.index % len(self.claims)]
                by_claimer = op.by_claimer and op.status in (
                    ClaimStatus.CANCELLED,
                    ClaimStatus.COMPLETED,
                )
                actor = self._actor(claimer if by_claimer else owner, number)
                self.claim_service.transition(actor, claim_id, op.status, None)
            case _:
                raise NothingToDo

    def _claim(self, number: int, op: MakeClaim) -> None:
        listing_id, owner, made_as = self.listings[op.listing % len(self.listings)]
        people = [person for person in (*SEARCHERS, *GROWERS) if person != owner]
        claimer = people[op.claimer % len(people)]
        remaining = self.listing_service.get(listing_id).quantity_remaining
        if op.percent is None:
            wanted = remaining
        else:
            wanted = max(
                Decimal("0.001"), (remaining * op.percent / 100).quantize(Decimal("0.001"))
            )
        if made_as.unit in COUNT_UNITS:  # whole items only, never more than remain
            wanted = min(remaining, wanted.to_integral_value(ROUND_CEILING))
        draft = ClaimDraft(quantity=wanted)
        made = self.claim_service.create(self._actor(claimer, number), listing_id, draft)
        self.claims.append((made.entity.claim_id, owner, claimer))
        if op.confirm:
            confirming = self._actor(owner, number)
            self.claim_service.transition(
                confirming, made.entity.claim_id, ClaimStatus.CONFIRMED, None
            )


# ---------------------------------------------------------------- delivery schedules

# `at` is taken modulo the batch length: 0 (the first record) fails the whole batch.
faults = st.builds(Fault, st.integers(0, 11), st.sampled_from(FAULT_KINDS))
polls = st.builds(
    Poll,
    size=st.integers(1, 6) | st.sampled_from([10, 100]),
    # About half of the polls fail at least once (retried, resumed, bisected, ...).
    faults=st.just(()) | st.lists(faults, min_size=1, max_size=3).map(tuple),
    # One poll in four has a record that fails until Lambda gives up on it, to be redriven.
    poison=st.sampled_from([None, None, None, 0, 1, 2, 3, 5, 8]),
    duplicate=st.booleans(),
    replay=st.integers(0, 9).map(lambda n: n == 0),  # one poll in ten restarts the mapping
)
schedules = st.lists(polls, min_size=1, max_size=10).map(tuple)


# ---------------------------------------------------------------- the table


@dataclass
class Harness:
    """One moto mock and its clients for all the examples of a test; a fresh table each."""

    dynamodb: DynamoDBClient
    streams: DynamoDBStreamsClient
    consumers: list[Consumer]

    def fresh_table(self) -> Table:
        if TABLE in self.dynamodb.list_tables()["TableNames"]:
            self.dynamodb.delete_table(TableName=TABLE)
        create_table(self.dynamodb, TABLE)
        return Table(self.dynamodb, TABLE)

    def tail(self) -> StreamTail:
        return StreamTail(self.dynamodb, self.streams, TABLE)

    def write(self, world: World) -> Writer:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        writer = Writer(world, self.fresh_table(), Clock(today - SPAN - timedelta(hours=18)))
        writer.run()
        return writer


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    # moto deep-copies the whole table, stream included, before every transaction operation
    # (0.1-0.5 s per aggregator record here). The local runtime's moto engine replaces that
    # with check-every-condition-then-write (same outcome, pinned against plain moto and
    # DynamoDB Local by tests/integration/test_moto_patches.py); patched for this test only.
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_patches.transact_write_items)
    derivation.derivation.reset()
    with mock_aws():
        # Clients cost ~0.1 s each to create: made once per test, shared by its examples. The
        # aggregator's cached client stays valid too: same mock, same table name.
        yield Harness(
            make_client(REGION),
            make_streams_client(REGION),
            [consumer_for(handler) for handler in CONSUMERS],
        )
    derivation.derivation.reset()


def _scan(table: Table, prefixes: tuple[str, ...]) -> list[Item]:
    return list(scan_segment(table, prefixes, 0, 1))


def _describe(writer: Writer, log: DeliveryLog) -> str:
    return f"writes applied {writer.applied}, refused {writer.refused}; delivery {log}"


# ---------------------------------------------------------------- properties

# A fixture shared by the examples is the point here (one mock, clients made once); every
# example starts from a fresh table, so nothing carries over between examples.
SHARED_HARNESS: Final = [HealthCheck.function_scoped_fixture]


@settings(max_examples=20, deadline=None, suppress_health_check=SHARED_HARNESS)
@given(
    world=worlds(),
    plans=st.lists(schedules, min_size=len(CONSUMERS), max_size=len(CONSUMERS)),
    final_replay=st.booleans(),
)
def test_derived_state_equals_a_rebuild_from_core_under_any_delivery(
    harness: Harness, world: World, plans: list[tuple[Poll, ...]], final_replay: bool
) -> None:
    writer = harness.write(world)
    log = deliver(harness.tail(), harness.consumers, plans, final_replay=final_replay)

    for name in sorted(writer.applied):
        event(f"write: {name}")
    for kind in sorted(log.faults_fired):
        event(f"fault fired: {kind}")
    for name in ("resumed", "bisected", "duplicates", "replays", "redriven"):
        if getattr(log, name):
            event(f"delivery: {name}")
    core = _scan(writer.table, CORE_SOURCE_PREFIXES)
    derived = {item_key(item): item for item in _scan(writer.table, DERIVED_AGG_PREFIXES)}
    expected = expected_derived(core)
    stored = [stored_insight(item) for item in _scan(writer.table, DERIVED_INSIGHT_PREFIXES)]
    drifts = drift(expected, derived) + insight_drift(expected, stored)
    assert not drifts, "\n".join([_describe(writer, log), *(d.line() for d in drifts)])
    assert len(core) == len(writer.listings) + len(writer.requests)


def _content(table: Table) -> list[str]:
    """The AGG# items as stored (DynamoDB JSON), without bookkeeping, in key order: sets
    sorted (DynamoDB sets have no order), one JSON text per item."""
    found: list[str] = []
    for page in table.client.get_paginator("scan").paginate(TableName=table.name):
        for stored in page.get("Items", []):
            raw = cast("dict[str, dict[str, Any]]", stored)
            if not raw["PK"]["S"].startswith(DERIVED_AGG_PREFIXES):
                continue
            kept: dict[str, Any] = {}
            for name, value in raw.items():
                is_bucket = raw["type"]["S"] == BUCKET_TYPE
                if name in IGNORED or (name == "version" and is_bucket):
                    continue
                kept[name] = {
                    tag: sorted(inner) if tag in ("SS", "NS") else inner
                    for tag, inner in value.items()
                }
            found.append(json.dumps(kept, sort_keys=True))
    return sorted(found)


def _clear_derived(table: Table) -> None:
    for item in _scan(table, (*DERIVED_AGG_PREFIXES, *DERIVED_INSIGHT_PREFIXES)):
        table.client.delete_item(
            TableName=table.name, Key={"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}}
        )


@settings(max_examples=6, deadline=None, suppress_health_check=SHARED_HARNESS)
@given(
    world=worlds(max_ops=10),
    sizes=st.lists(st.integers(1, 8) | st.just(100), min_size=2, max_size=2, unique=True),
)
def test_batch_size_does_not_change_the_derived_items(
    harness: Harness, world: World, sizes: list[int]
) -> None:
    writer = harness.write(world)
    contents = []
    for size in sizes:
        _clear_derived(writer.table)
        # A new mapping from TRIM_HORIZON: the same core records, in other batches.
        plans: list[list[Poll]] = [[] for _ in harness.consumers]
        deliver(harness.tail(), harness.consumers, plans, then_size=size)
        contents.append(_content(writer.table))
    assert contents[0], "no derived items: the example proves nothing"
    assert contents[0] == contents[1]
