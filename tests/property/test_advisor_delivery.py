"""The AI worker's effects are exactly once under anything SQS and EventBridge do (issue 9).

Listings in 1-2 areas go through the real derivation consumer in random batches (so areas
get several insight versions), guidance requests are stored, and the table's stream gives
the publisher's events (harvest.store.stream.events_from_record, as the publisher's filter
takes them). They are put on moto's EventBridge, on the bus and rule of template.yaml, in a
random order and some twice, next to poison messages sent straight to the queue; moto's
SQS holds them (the template's queue, with a visibility timeout of 0 so what fails comes
back at once), and the local SQS event source (harvest.local.queues.SqsPoller) hands them
to the real AI worker in random batch sizes, with transient failures (a message fails its
first 1-3 receives, before its effect) and lost acknowledgements (a message handled, then
reported failed once: as a lost delete or an expired visibility timeout, it comes again).

Afterwards: every guidance request is answered exactly once, the latest explanation of every
window with a published crop is of the newest insight (no older event, however late, wins),
the DLQ holds exactly the poison messages, and the derived AGG#/INSIGHT# items show no drift
from a rebuild over the core items.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from harvest.consumers import advisor, derivation
from harvest.domain.common import Actor
from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.events import to_put_events_entry
from harvest.domain.guidance import Guidance
from harvest.domain.insight import window_shape
from harvest.local import moto_patches
from harvest.local.filters import matches_any
from harvest.local.mappings import mappings_from_template
from harvest.local.queues import SqsPoller
from harvest.local.records import make_streams_client
from harvest.local.rules import QueueMapping, provision, topology_from_template
from harvest.once import Once
from harvest.services.insight_rebuild import insight_drift
from harvest.services.listings import ListingDraft, ListingService
from harvest.services.rebuild import drift, expected_derived, item_key
from harvest.services.support import ServiceContext
from harvest.settings import current_settings, signal_policy
from harvest.store.advice import AdviceRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import stored_insight
from harvest.store.items import GuidanceItem
from harvest.store.repository import Repository
from harvest.store.scan import (
    CORE_SOURCE_PREFIXES,
    DERIVED_AGG_PREFIXES,
    DERIVED_INSIGHT_PREFIXES,
    scan_segment,
)
from harvest.store.stream import events_from_record
from harvest.store.table import Table
from harvest.tools.template import create_table, load_template
from support.delivery import StreamTail
from support.stored_records import LongContext

REGION: Final = "us-east-1"
TABLE: Final = "harvest-advisor-property"
PLACES: Final = ((52.52, 13.405), (45.76, 4.835))  # two geohash-4 cells
CROPS: Final = ("tomato", "zucchini")
GROWERS: Final = ("g1", "g2", "g3")  # k = 3: a crop of an area is often published
POISON: Final = "not a domain event"
EVERY_OFFER: Final = [(0, grower, crop) for grower in GROWERS for crop in CROPS]


def _template() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    template["Resources"]["AdvisorQueue"]["Properties"]["VisibilityTimeout"] = 0
    return template


TEMPLATE: Final = _template()
TOPOLOGY: Final = topology_from_template(TEMPLATE, TABLE)
PUBLISHER: Final = next(
    m
    for m in mappings_from_template(TEMPLATE, TABLE)
    if m.function_logical_id == "PublisherFunction"
)
DERIVATION: Final = next(
    m
    for m in mappings_from_template(TEMPLATE, TABLE)
    if m.function_logical_id == "AggregatorFunction"
)
MAX_RECEIVES: Final = TOPOLOGY.queues["AdvisorQueue"].max_receive_count or 5


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    # No debounce: every event explains again, so only the order of the events could make
    # an older insight's explanation the last one (with a debounce it would be kept 30 min).
    monkeypatch.setenv("AI_EXPLAIN_DEBOUNCE_MINUTES", "0")
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_patches.transact_write_items)
    Once.reset_all()
    with mock_aws():
        yield
    Once.reset_all()


plans = st.fixed_dictionaries(
    {
        # Every grower offers every crop in the first area, in any order, with a few more
        # offers anywhere: the area goes through insight versions with one crop published,
        # then both (k = 3 growers each), whose explanations differ.
        "offers": st.lists(
            st.tuples(st.integers(0, 1), st.sampled_from(GROWERS), st.sampled_from(CROPS)),
            max_size=3,
        ).flatmap(lambda extra: st.permutations([*EVERY_OFFER, *extra])),
        "asks": st.lists(st.tuples(st.integers(0, 1), st.sampled_from((*CROPS, None))), max_size=3),
        "derivation_batch": st.integers(1, 4),
        "order": st.randoms(use_true_random=False),
        "duplicates": st.lists(st.integers(0, 99), max_size=4),
        # Failed receives of one event stay under maxReceiveCount: up to MAX_RECEIVES - 2
        # before its effect, and one lost acknowledgement after it.
        "transient": st.dictionaries(
            st.integers(0, 99), st.integers(1, MAX_RECEIVES - 2), min_size=1, max_size=3
        ),
        "lost_deletes": st.lists(st.integers(0, 99), min_size=1, max_size=3),
        "poison": st.integers(0, 2),
        "batch_size": st.integers(1, 10),
    }
)


def _write(table: Table, plan: Mapping[str, Any]) -> None:
    context = ServiceContext(cursors=CursorCodec(b"advisor-property"))
    listings = ListingService(Repository(table), load_catalog(), context)
    now = datetime.now(UTC)
    for number, (place, grower, crop) in enumerate(plan["offers"]):
        lat, lon = PLACES[place]
        draft = ListingDraft(
            crop=crop,
            quantity=Decimal(4),
            unit="kg",
            available_from=now,
            available_until=now.replace(year=now.year + 1),
            lat=lat + number * 0.001,
            lon=lon,
        )
        listings.create(Actor(user_id=grower, tier="free", correlation_id=f"o-{number}"), draft)
    serializer = TypeSerializer()
    for number, (place, crop) in enumerate(plan["asks"]):
        area = "u33dc" if place == 0 else "u05kq"
        asked = Guidance(
            f"guidance-{number:04d}", "pia", area, crop, "pro", 1, now, now, f"a-{number}"
        )
        item = {
            name: serializer.serialize(value) for name, value in GuidanceItem.encode(asked).items()
        }
        table.client.put_item(TableName=table.name, Item=item)


def _events(tail: StreamTail) -> list[dict[str, Any]]:
    """The PutEvents entries the publisher makes of the stream so far, in stream order."""
    return [
        to_put_events_entry(event, TOPOLOGY.bus_name)
        for record in tail.records
        if matches_any(PUBLISHER.patterns, record)
        for event in events_from_record(record)
    ]


def _derive(tail: StreamTail, size: int) -> None:
    """The derivation consumer over every listing record, in batches of `size`."""
    tail.poll()
    records = [r for r in tail.records if matches_any(DERIVATION.patterns, r)]
    for first in range(0, len(records), size):
        response = derivation.handler({"Records": records[first : first + size]}, LongContext())
        assert response == {"batchItemFailures": []}
    tail.poll()


class Faults:
    """Wraps advise_message: some events fail their first receives before any effect, some
    fail once after their effect (handled, then received again)."""

    def __init__(self, before: Mapping[str, int], after: set[str]) -> None:
        self.before, self.after = dict(before), set(after)
        self.original = advisor.advise_message
        self.fired: Counter[str] = Counter()

    def __call__(self, message: Mapping[str, Any]) -> None:
        key = _event_id(str(message.get("body", ""))) or POISON
        if self.before.get(key, 0) > 0:
            self.before[key] -= 1
            self.fired["before"] += 1
            raise RuntimeError("injected: before the effect")
        self.original(message)
        if key in self.after:
            self.after.discard(key)
            self.fired["after"] += 1
            raise RuntimeError("injected: after the effect")


def _scan(table: Table, prefixes: tuple[str, ...]) -> list[dict[str, Any]]:
    return list(scan_segment(table, prefixes, 0, 1))


@settings(
    # ~20-60 s an example on 2 busy cores (several insight versions, each explained)
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(plan=plans)
def test_the_ai_workers_effects_are_exactly_once_under_any_queue_delivery(
    aws: None, monkeypatch: pytest.MonkeyPatch, plan: dict[str, Any]
) -> None:
    Once.reset_all()
    dynamodb = make_client(REGION)
    if TABLE in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=TABLE)
    create_table(dynamodb, TABLE)
    table = Table(dynamodb, TABLE)
    _write(table, plan)
    tail = StreamTail(dynamodb, make_streams_client(REGION), TABLE)
    _derive(tail, plan["derivation_batch"])
    entries = _events(tail)

    # EventBridge: the template's bus, rule and queues; events in any order, some twice
    events, sqs = (
        boto3.client("events", region_name=REGION),
        boto3.client("sqs", region_name=REGION),
    )
    urls = provision(TOPOLOGY, events, sqs)
    sent = list(entries) + [entries[i % len(entries)] for i in plan["duplicates"] if entries]
    plan["order"].shuffle(sent)
    for entry in sent:
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    for _ in range(plan["poison"]):
        sqs.send_message(QueueUrl=urls["AdvisorQueue"], MessageBody=POISON)

    faults = _consume(sqs, urls["AdvisorQueue"], entries, plan, monkeypatch)

    for kind in sorted(faults.fired):
        event(f"faults fired: {kind}")
    if plan["poison"]:
        event("poison messages")
    if len(sent) > len(entries):
        event("duplicated events")
    # Every guidance request answered exactly once
    items = [
        i
        for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE)
        for i in page["Items"]
    ]
    answers = Counter(i["PK"]["S"] for i in items if i["SK"]["S"] == "ANSWER")
    assert answers == Counter(
        f"AICACHE#GUIDANCE#guidance-{n:04d}" for n in range(len(plan["asks"]))
    )
    # The DLQ holds the poison messages and nothing else
    assert sorted(_peek(sqs, urls["AdvisorDlq"])) == [POISON] * plan["poison"]
    _assert_explained_as_of_the_newest_insight(table)
    # ... and the derived items equal a rebuild from the core items
    core = _scan(table, CORE_SOURCE_PREFIXES)
    expected = expected_derived(core)
    derived = {item_key(item): item for item in _scan(table, DERIVED_AGG_PREFIXES)}
    insights = [stored_insight(i) for i in _scan(table, DERIVED_INSIGHT_PREFIXES)]
    # (with the signal policy the functions ran with: its noise is keyed, not random)
    policy = signal_policy(current_settings())
    drifts = drift(expected, derived) + insight_drift(expected, insights, policy)
    assert not drifts, "\n".join(d.line() for d in drifts)


def _consume(
    sqs: Any,
    url: str,
    entries: list[dict[str, Any]],
    plan: Mapping[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Faults:
    """The SQS event source until the queue is empty, with faults keyed by domain event id
    (a receive to look at the queue would count against maxReceiveCount)."""
    keyed = sorted({json.loads(entry["Detail"])["id"] for entry in entries})
    before = {keyed[i % len(keyed)]: n for i, n in plan["transient"].items()} if keyed else {}
    after = {keyed[i % len(keyed)] for i in plan["lost_deletes"]} if keyed else set()
    faults = Faults(before, after)
    monkeypatch.setattr(advisor, "advise_message", faults)
    [mapping] = [m for m in TOPOLOGY.mappings if m.function.logical_id == "AdvisorFunction"]
    sized = QueueMapping(mapping.function, mapping.queue, batch_size=plan["batch_size"],
                         report_batch_item_failures=True)  # fmt: skip
    poller = SqsPoller(sized, sqs, url, advisor.handler)
    for _ in range(500):
        if poller.poll_once() == 0 and _depth(sqs, url) == 0:
            return faults
    raise AssertionError("the queue never drained")


def _assert_explained_as_of_the_newest_insight(table: Table) -> None:
    """Every window with a published crop is explained as its newest insight shows it."""
    store = AdviceRepository(table)
    for stored in (stored_insight(i) for i in _scan(table, DERIVED_INSIGHT_PREFIXES)):
        for window in stored.insight.windows:
            latest = store.latest(stored.insight.area, window.days)
            if any(crop.published for crop in window.crops):
                assert latest is not None, (stored.insight.area, window.days)
                assert latest.shape == window_shape(window), (stored.insight.area, window.days)
            else:
                assert latest is None


def _event_id(body: str) -> str | None:
    try:
        return str(json.loads(body)["detail"]["id"])
    except (ValueError, KeyError, TypeError):
        return None


def _depth(sqs: Any, url: str) -> int:
    found = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(found["ApproximateNumberOfMessages"]) + int(
        found["ApproximateNumberOfMessagesNotVisible"]
    )


def _peek(sqs: Any, url: str) -> list[str]:
    """Every message body in the queue, left in it (received, then made visible again)."""
    bodies: dict[str, str] = {}
    receipts: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        fresh = [m for m in got.get("Messages", []) if m["MessageId"] not in bodies]
        if not fresh:
            break
        for message in fresh:
            bodies[message["MessageId"]] = message["Body"]
            receipts.append(message["ReceiptHandle"])
    for receipt in receipts:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return list(bodies.values())
