"""The AI worker as the SQS consumer of its queue (issue 9): a poison message fails alone by
its messageId, redeliveries and duplicates change nothing, and events out of order (queues
keep none) never explain an older insight over a newer one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harvest.consumers import advisor, derivation
from harvest.domain.insight import window_shape
from harvest.once import Once
from harvest.settings import current_settings
from harvest.store.advice import AdviceRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.queue_messages import message, queue_messages
from support.stored_records import LongContext, stored_item_record

PRO = {"user": "pia", "tier": "pro"}


@pytest.fixture(autouse=True)
def fresh_workers(table: str) -> Iterator[None]:
    Once.reset_all()
    yield
    Once.reset_all()


def _insight_record(dynamodb: Any, table: str, area: str, sequence: int) -> dict[str, Any]:
    image = dynamodb.get_item(
        TableName=table, Key={"PK": {"S": f"INSIGHT#{area}"}, "SK": {"S": "CURRENT"}}
    )["Item"]
    return {
        "eventID": f"i{sequence}",
        "eventName": "INSERT" if image["version"]["N"] == "1" else "MODIFY",
        "dynamodb": {
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "OldImage": {**image, "version": {"N": str(int(image["version"]["N"]) - 1)}},
            "SequenceNumber": f"{sequence:021d}",
        },
    }


def _offer(
    api: Api, dynamodb: Any, table: str, growers: tuple[str, ...], n: int, crop: str = "tomato"
) -> str:
    """Listings by each grower, through the derivation consumer; returns the geohash."""
    records: list[dict[str, Any]] = []
    for grower in growers:
        made = api.post("/listings", payloads.listing(crop=crop, quantity=4), user=grower)
        assert made.status == 201, made.body
        pk = f"LISTING#{made.body['listingId']}"
        records.append(stored_item_record(dynamodb, table, pk, n + len(records)))
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}
    return str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"])


def _latest(area: str) -> dict[int, str | None]:
    store = AdviceRepository(Table(make_client("us-east-1"), current_settings().table_name))
    found = {days: store.latest(area, days) for days in (7, 14, 30)}
    return {days: latest.shape if latest else None for days, latest in found.items()}


def test_a_poison_message_fails_alone_and_the_rest_of_the_batch_is_done(
    api: Api, dynamodb: Any, table: str
) -> None:
    # Given a batch with a message that is no domain event, one of a type the worker does
    # not handle, and a guidance request
    asked = api.post("/me/guidance", {"geohash": "u33dc", "crop": "tomato"}, **PRO)
    guidance_id = asked.body["guidanceId"]
    [good] = queue_messages(stored_item_record(dynamodb, table, f"GUIDANCE#{guidance_id}", 5))
    poison = message({"not": "an event"})
    foreign = json.loads(good["body"])
    foreign["detail"]["detailType"] = "listing.created"
    stranger = message(foreign)
    # When the worker takes the batch
    response = advisor.handler({"Records": [poison, good, stranger]}, LongContext())
    # Then the two bad messages are reported by messageId (they come back, then go to the
    # DLQ after maxReceiveCount receives) and the guidance is answered
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": poison["messageId"]},
            {"itemIdentifier": stranger["messageId"]},
        ]
    }
    assert api.get(f"/me/guidance/{guidance_id}", **PRO).status == 200


def test_a_redelivered_insight_event_explains_nothing_again(
    api: Api, dynamodb: Any, table: str
) -> None:
    geohash = _offer(api, dynamodb, table, ("ann", "ben", "cem"), 1)
    area = geohash[:5]
    [event] = queue_messages(_insight_record(dynamodb, table, area, 50))

    assert advisor.handler({"Records": [event]}, LongContext()) == {"batchItemFailures": []}
    first = _latest(area)
    assert first[7] is not None, "a published window is explained"
    items_before = dynamodb.scan(TableName=table)["Items"]
    # The same message again (visibility timeout), and the same event in another message
    [copy] = queue_messages(_insight_record(dynamodb, table, area, 50), receive_count=2)
    for delivery in (event, copy):
        assert advisor.handler({"Records": [delivery]}, LongContext()) == {"batchItemFailures": []}

    assert _latest(area) == first
    assert dynamodb.scan(TableName=table)["Items"] == items_before, "no write at all"


def test_an_older_insight_event_arriving_last_explains_the_newest_insight(
    api: Api, dynamodb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given no debounce (so only the order decides), an insight version 1 with tomatoes
    # published and a version 2 with zucchini published too
    monkeypatch.setenv("AI_EXPLAIN_DEBOUNCE_MINUTES", "0")
    geohash = _offer(api, dynamodb, table, ("ann", "ben", "cem"), 1)
    area = geohash[:5]
    [older] = queue_messages(_insight_record(dynamodb, table, area, 60))
    _offer(api, dynamodb, table, ("dan", "eve", "fay"), 10, crop="zucchini")
    [newer] = queue_messages(_insight_record(dynamodb, table, area, 61))
    assert json.loads(older["body"])["detail"]["version"] == 1
    assert json.loads(newer["body"])["detail"]["version"] == 2
    # When the queue delivers the newer event first and the older one last
    for delivery in (newer, older):
        assert advisor.handler({"Records": [delivery]}, LongContext()) == {"batchItemFailures": []}
    # Then what is explained last is the newest insight, not the one the late event names
    insights = InsightRepository(Table(make_client("us-east-1"), current_settings().table_name))
    newest = insights.current(area)
    assert newest is not None
    assert newest.version == 2
    assert _latest(area) == {w.days: window_shape(w) for w in newest.insight.windows}
