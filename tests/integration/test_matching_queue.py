"""The matching worker as the SQS consumer of its queue, on the table engine (moto by default):
listing and request events -> MATCH# sets -> match.suggested through the publisher's rules;
idempotent under redelivery and replay; covered by audit and rebuild."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harvest.consumers import matching
from harvest.domain.events import DetailType
from harvest.services.rebuild import Drift
from harvest.store.dynamo import deserialize, make_client
from harvest.store.stream import events_from_record
from harvest.store.table import Table
from harvest.tools.audit import audit, scan_snapshot
from harvest.tools.rebuild import State, rebuild_table
from support import payloads
from support.apigw import Api
from support.queue_messages import message, queue_messages
from support.stored_records import LongContext, stored_item_record

SEARCHER = {"user": "sam", "tier": "free"}
GROWER = {"user": "gia", "tier": "free"}
NEAR = {"lat": 52.529, "lon": 13.405}  # ~1 km north of payloads.BERLIN


@pytest.fixture(autouse=True)
def fresh_worker(table: str) -> Iterator[None]:
    matching.matching.reset()
    yield
    matching.matching.reset()


def _set_image(dynamodb: Any, table: str, side: str, entity_id: str) -> dict[str, Any] | None:
    key = {"PK": {"S": f"MATCH#{side.upper()}#{entity_id}"}, "SK": {"S": "SET"}}
    found: dict[str, Any] | None = dynamodb.get_item(TableName=table, Key=key).get("Item")
    return found


def _ids(dynamodb: Any, table: str, side: str, entity_id: str) -> list[str]:
    image = _set_image(dynamodb, table, side, entity_id)
    if image is None:
        return []
    return [str(e["matchId"]) for e in deserialize(image)["entries"]]


def _run(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(matching.handler({"Records": messages}, LongContext()))


def _listed(api: Api, dynamodb: Any, table: str, sequence: int, **body: Any) -> tuple[str, Any]:
    made = api.post("/listings", payloads.listing(**body), user=GROWER["user"])
    assert made.status == 201, made.body
    record = stored_item_record(dynamodb, table, f"LISTING#{made.body['listingId']}", sequence)
    return str(made.body["listingId"]), queue_messages(record)


def _requested(api: Api, dynamodb: Any, table: str, sequence: int) -> tuple[str, Any]:
    made = api.post("/requests", payloads.request(location=dict(payloads.BERLIN)), user="sam")
    assert made.status == 201, made.body
    record = stored_item_record(dynamodb, table, f"REQUEST#{made.body['requestId']}", sequence)
    return str(made.body["requestId"]), queue_messages(record)


def test_a_share_radius_change_rematches_the_owners_open_requests_at_once(
    api: Api, dynamodb: Any, table: str
) -> None:
    far = {"lat": 52.61, "lon": 13.405}  # ~10 km north: beyond 5 km, within 20
    made = api.put("/me", {"displayName": "Sam", "shareRadiusKm": 5}, user="sam")
    assert made.status == 200, made.body
    request_id, request_messages = _requested(api, dynamodb, table, 1)
    listing_id, listing_messages = _listed(api, dynamodb, table, 2, location=far)
    assert _run(request_messages + listing_messages) == {"batchItemFailures": []}
    assert _ids(dynamodb, table, "request", request_id) == []
    before = stored_item_record(dynamodb, table, "USER#sam", 3, sk="PROFILE")

    grown = api.put(
        "/me", {"displayName": "Sam", "shareRadiusKm": 20}, user="sam",
        headers={"If-Match": made.etag},
    )  # fmt: skip
    assert grown.status == 200, grown.body
    profile = stored_item_record(dynamodb, table, "USER#sam", 4, sk="PROFILE")
    profile["dynamodb"]["OldImage"] = before["dynamodb"]["NewImage"]
    assert _run(queue_messages(profile)) == {"batchItemFailures": []}

    match_id = f"{request_id}.{listing_id}"
    assert _ids(dynamodb, table, "request", request_id) == [match_id]
    assert _ids(dynamodb, table, "listing", listing_id) == [match_id]


def test_a_listing_near_an_open_request_is_suggested_to_both_owners(
    api: Api, dynamodb: Any, table: str
) -> None:
    request_id, request_messages = _requested(api, dynamodb, table, 1)
    assert _run(request_messages) == {"batchItemFailures": []}
    listing_id, listing_messages = _listed(api, dynamodb, table, 2, location=NEAR)

    assert _run(listing_messages) == {"batchItemFailures": []}

    match_id = f"{request_id}.{listing_id}"
    assert _ids(dynamodb, table, "request", request_id) == [match_id]
    assert _ids(dynamodb, table, "listing", listing_id) == [match_id]
    # The publisher turns each set's new entry into match.suggested for the set's owner.
    told: dict[str, dict[str, Any]] = {}
    for side, entity_id in (("request", request_id), ("listing", listing_id)):
        image = _set_image(dynamodb, table, side, entity_id)
        assert image is not None
        keys = {"PK": image["PK"], "SK": image["SK"]}
        record = {"eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": image}}
        [event] = events_from_record(record)
        assert event.detail_type is DetailType.MATCH_SUGGESTED
        told[str(event.data["recipientId"])] = dict(event.data)
    assert set(told) == {"sam", "gia"}
    # Privacy: the searcher sees the listing's published cell, never its point.
    listing_item = deserialize(
        dynamodb.get_item(
            TableName=table, Key={"PK": {"S": f"LISTING#{listing_id}"}, "SK": {"S": "LISTING"}}
        )["Item"]
    )
    assert told["sam"]["area"] == listing_item["geohash"][:5]
    stored = json.dumps(deserialize(_set_image(dynamodb, table, "request", request_id) or {}),
                        default=str)  # fmt: skip
    assert str(listing_item["lat"]) not in stored
    assert str(listing_item["geohash"]) not in stored


def test_redelivery_and_replay_change_nothing_and_a_poison_message_fails_alone(
    api: Api, dynamodb: Any, table: str
) -> None:
    request_id, request_messages = _requested(api, dynamodb, table, 1)
    listing_id, listing_messages = _listed(api, dynamodb, table, 2, location=NEAR)
    assert _run(request_messages + listing_messages) == {"batchItemFailures": []}
    before = _set_image(dynamodb, table, "request", request_id)

    poison = message({"not": "an event"})
    again = [*listing_messages, *request_messages, poison, *listing_messages]
    response = _run([dict(m, messageId=f"m{i}") for i, m in enumerate(again)])

    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert _set_image(dynamodb, table, "request", request_id) == before
    assert _ids(dynamodb, table, "listing", listing_id) == [f"{request_id}.{listing_id}"]


def test_a_cancelled_listing_leaves_the_set_and_audit_and_rebuild_cover_match_sets(
    api: Api, dynamodb: Any, table: str
) -> None:
    request_id, request_messages = _requested(api, dynamodb, table, 1)
    kept_id, kept_messages = _listed(api, dynamodb, table, 2, location=NEAR)
    gone_id, gone_messages = _listed(api, dynamodb, table, 3, location=payloads.BERLIN)
    assert _run(request_messages + kept_messages + gone_messages) == {"batchItemFailures": []}
    assert _ids(dynamodb, table, "request", request_id)[0] == f"{request_id}.{gone_id}"

    cancelled = api.patch(
        f"/listings/{gone_id}", {"status": "cancelled"}, user="gia", headers={"If-Match": '"1"'}
    )
    assert cancelled.status == 200, cancelled.body
    event = {"detail": {"entityType": "listing", "entityId": gone_id, "correlationId": "c"}}
    assert _run([message(event)]) == {"batchItemFailures": []}
    assert _ids(dynamodb, table, "request", request_id) == [f"{request_id}.{kept_id}"]

    store = Table(make_client("us-east-1"), table)
    assert _match_drifts(store, table) == []
    # A lost write: the request's set forgets its match.
    key = {"PK": {"S": f"MATCH#REQUEST#{request_id}"}, "SK": {"S": "SET"}}
    dynamodb.update_item(
        TableName=table, Key=key, UpdateExpression="SET entries = :none",
        ExpressionAttributeValues={":none": {"L": []}},
    )  # fmt: skip
    [found] = _match_drifts(store, table)
    assert (found.pk, found.attribute) == (f"MATCH#REQUEST#{request_id}", "matches")
    assert found.expected == [f"{request_id}.{kept_id}"]

    rebuilt = rebuild_table(store, State(None, 2))

    assert rebuilt.match_sets == 2
    assert _ids(dynamodb, table, "request", request_id) == [f"{request_id}.{kept_id}"]
    assert _match_drifts(store, table) == []
    version = _set_image(dynamodb, table, "request", request_id)
    rebuild_table(store, State(None, 2))
    assert _set_image(dynamodb, table, "request", request_id) == version


def _match_drifts(store: Table, table: str) -> list[Drift]:
    # The derivation consumer does not run here: its AGG# drift is not this test's subject.
    found = audit(table, 2, scan_snapshot(store, 2))
    assert any(line.startswith("compared 3 match sets") for line in found.lines())
    return [d for d in found.drifts if d.pk.startswith("MATCH#")]
