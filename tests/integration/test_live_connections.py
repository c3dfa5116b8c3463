"""The WebSocket routes and the delivery worker on a moto table from template.yaml: what a
connection stores, what a bad message leaves (nothing), and who hears which event."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harvest.api import websocket
from harvest.consumers import delivery
from harvest.settings import current_settings
from harvest.store.connections import ConnectionRepository
from harvest.store.dynamo import deserialize, make_client
from harvest.store.table import Table

GEOHASH = "u33dc0"


@pytest.fixture
def repository(table: str) -> ConnectionRepository:
    websocket.connections.reset()
    delivery.delivery.reset()
    delivery.management_post.reset()
    return ConnectionRepository(Table(make_client("us-east-1"), current_settings().table_name))


def _items(table: str) -> list[dict[str, Any]]:
    raw = make_client("us-east-1").scan(TableName=table)["Items"]
    return sorted((deserialize(i) for i in raw), key=lambda i: (i["PK"], i["SK"]))


def _route(route: str, connection: str, body: object = None, user: str | None = None) -> Any:
    context: dict[str, Any] = {"routeKey": route, "connectionId": connection}
    if user is not None:
        context["authorizer"] = {"principalId": user, "sub": user, "tier": "free"}
    event: dict[str, Any] = {"requestContext": context}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    return websocket.route(event)


def _frame(answer: dict[str, Any]) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(answer["body"])
    return frame


def _connect(connection: str, user: str, *topics: str) -> None:
    assert _route("$connect", connection, user=user)["statusCode"] == 200
    for topic in topics:
        answer = _route("subscribe", connection, {"action": "subscribe", "topic": topic})
        assert _frame(answer) == {"type": "subscribed", "topic": topic}, topic


def test_connect_subscribe_unsubscribe_disconnect_leave_only_their_own_items(
    table: str, repository: ConnectionRepository
) -> None:
    # Given a connection of alice subscribed to her claims and an area's signals
    _connect("c1", "alice", "claims", f"signals:{GEOHASH}")
    # Then the connection and one subscription per bound topic are stored, all expiring
    items = _items(table)
    assert [(i["PK"], i["SK"]) for i in items] == [
        ("CONN#c1", "CONN"),
        ("TOPIC#claims#alice", "CONN#c1"),
        (f"TOPIC#signals#{GEOHASH}", "CONN#c1"),
    ]
    assert all(i["expiresAt"] > i.get("connectedAt", 0) for i in items)
    assert items[0]["userId"] == "alice"
    assert set(items[0]["topics"]) == {"claims#alice", f"signals#{GEOHASH}"}

    # When she unsubscribes from the signals, then disconnects
    answer = _route("unsubscribe", "c1", {"action": "unsubscribe", "topic": f"signals:{GEOHASH}"})
    assert _frame(answer) == {"type": "unsubscribed", "topic": f"signals:{GEOHASH}"}
    assert [i["PK"] for i in _items(table)] == ["CONN#c1", "TOPIC#claims#alice"]
    assert _route("$disconnect", "c1")["statusCode"] == 200
    # Then nothing of hers is left, and a second $disconnect is harmless
    assert _items(table) == []
    assert _route("$disconnect", "c1")["statusCode"] == 200


def test_connect_without_an_authenticated_user_is_refused_and_writes_nothing(table: str) -> None:
    for user in (None, "", "bob#CONN", "x" * 200):
        answer = _route("$connect", "c1", user=user)
        assert answer["statusCode"] == 401
    assert _items(table) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "JSON object"),
        ([1, 2], "JSON object"),
        ({"action": "subscribe"}, "topic must be a string"),
        ({"action": "subscribe", "topic": 7}, "topic must be a string"),
        ({"action": "subscribe", "topic": "claims#bob"}, "unknown topic"),
        ({"action": "subscribe", "topic": "everything"}, "unknown topic"),
        ({"action": "subscribe", "topic": "signals:u33"}, "precision 4-6"),
        ({"action": "subscribe", "topic": "signals:u33dc0x"}, "precision 4-6"),
        ({"action": "subscribe", "topic": "signals:U33D"}, "precision 4-6"),
        ({"action": "subscribe", "topic": "signals:u33a"}, "precision 4-6"),
    ],
)
def test_a_bad_subscribe_message_gets_an_error_frame_and_writes_nothing(
    table: str, repository: ConnectionRepository, body: object, message: str
) -> None:
    _connect("c1", "alice")
    before = _items(table)
    answer = _route("subscribe", "c1", body)
    assert answer["statusCode"] == 400
    frame = _frame(answer)
    assert frame["type"] == "error"
    assert message in frame["message"]
    assert _items(table) == before


def test_subscriptions_per_connection_are_bounded_and_unknown_connections_refused(
    table: str, repository: ConnectionRepository
) -> None:
    _connect("c1", "alice")
    cells = [f"u33d{a}{b}" for a in "0123" for b in "01234"]
    for cell in cells:
        assert _route("subscribe", "c1", {"topic": f"signals:{cell}"})["statusCode"] == 200
    # Subscribing again to a topic it holds is fine; a 21st topic is not
    assert _route("subscribe", "c1", {"topic": f"signals:{cells[0]}"})["statusCode"] == 200
    refused = _route("subscribe", "c1", {"topic": "claims"})
    assert refused["statusCode"] == 409
    assert not [i for i in _items(table) if i["PK"] == "TOPIC#claims#alice"]
    # A connection that is gone (or never was) cannot subscribe
    assert _route("subscribe", "nope", {"topic": "claims"})["statusCode"] == 410
    assert _route("other", "c1", {"action": "other"})["statusCode"] == 400


# ---------------------------------------------------------------- delivery


class RecordingPost:
    """The Management API as a recorder: connection id -> frames pushed to it."""

    def __init__(self, fail: Callable[[str], None] | None = None) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = {}
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, connection_id: str, data: bytes) -> None:
        if self.fail is not None:
            self.fail(connection_id)
        with self.lock:
            self.frames.setdefault(connection_id, []).append(json.loads(data))


def _detail(detail_type: str, data: dict[str, Any], entity: str = "e1") -> dict[str, Any]:
    return {
        "id": f"id-{detail_type}-{entity}",
        "detailType": detail_type,
        "entityId": entity,
        "version": 2,
        "correlationId": "corr-1",
        "data": data,
    }


CLAIM = {"claimId": "c-1", "claimerId": "alice", "ownerId": "bob", "status": "confirmed"}
MATCH_FOR_ALICE = {"matchId": "m-1", "recipientId": "alice", "side": "request"}
MATCH_FOR_BOB = {"matchId": "m-1", "recipientId": "bob", "side": "listing"}
INSIGHT = {"area": GEOHASH, "version": 3}


def test_a_third_party_subscribed_to_every_topic_receives_nothing_private(
    table: str, repository: ConnectionRepository
) -> None:
    # Given alice (claimer, searcher) and bob (grower) listening to their own topics, and
    # mallory subscribed to every topic there is, also trying to name other users' topics
    _connect("alice-1", "alice", "claims", "matches")
    _connect("bob-1", "bob", "claims", "matches")
    _connect("mallory-1", "mallory", "claims", "matches", f"signals:{GEOHASH[:4]}")
    for attempt in ("claims#alice", "matches#bob", "claims:alice", "TOPIC#claims#alice"):
        assert _route("subscribe", "mallory-1", {"topic": attempt})["statusCode"] == 400
    injected = {"action": "subscribe", "topic": "claims", "userId": "alice", "sub": "alice"}
    assert _route("subscribe", "mallory-1", injected)["statusCode"] == 200
    post = RecordingPost()

    # When a claim of alice on bob's listing is confirmed, a match between them is suggested,
    # and the area's insight is generated
    for detail in (
        _detail("claim.confirmed", CLAIM),
        _detail("match.suggested", MATCH_FOR_ALICE, "m-1a"),
        _detail("match.suggested", MATCH_FOR_BOB, "m-1b"),
        _detail("insight.generated", INSIGHT, GEOHASH),
    ):
        outcome = delivery.push(detail, repository, post, now=0)
        assert outcome.retryable == 0

    # Then both parties hear the claim and the match, and mallory only the public insight
    heard = {c: [f["detailType"] for f in frames] for c, frames in post.frames.items()}
    assert heard == {
        "alice-1": ["claim.confirmed", "match.suggested"],
        "bob-1": ["claim.confirmed", "match.suggested"],
        "mallory-1": ["insight.generated"],
    }
    assert post.frames["mallory-1"][0]["topic"] == f"signals:{GEOHASH[:4]}"
    assert post.frames["alice-1"][0]["topic"] == "claims"
    assert post.frames["alice-1"][0]["event"]["data"] == CLAIM
    assert post.frames["alice-1"][1]["event"]["data"] == MATCH_FOR_ALICE
    assert post.frames["bob-1"][1]["event"]["data"] == MATCH_FOR_BOB


def _gone(connection_id: str) -> None:
    raise ClientError({"Error": {"Code": "GoneException", "Message": "gone"}}, "PostToConnection")


def _sqs_event(*details: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": f"m{n}", "body": json.dumps({"detail": detail})}
            for n, detail in enumerate(details)
        ]
    }


class _Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_a_gone_connection_is_deleted_and_a_retryable_failure_fails_only_its_message(
    table: str, repository: ConnectionRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect("alice-1", "alice", "claims")
    _connect("alice-old", "alice", "claims")
    _connect("bob-1", "bob", "claims")

    def fail(connection_id: str) -> None:
        if connection_id == "alice-old":
            _gone(connection_id)
        if connection_id == "bob-1":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
                "PostToConnection",
            )

    post = RecordingPost(fail)
    monkeypatch.setattr(delivery, "management_post", lambda: post)
    other_claim = {**CLAIM, "claimId": "c-2", "ownerId": "carol"}
    response = delivery.handler(
        _sqs_event(_detail("claim.confirmed", CLAIM), _detail("claim.created", other_claim)),
        _Context(),
    )
    # The message whose push to bob was throttled comes again; the other one is done
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert [f["detailType"] for f in post.frames["alice-1"]] == [
        "claim.confirmed",
        "claim.created",
    ]
    # The gone connection and its subscription are deleted; the others stay
    pks = {i["PK"] for i in _items(table)}
    assert "CONN#alice-old" not in pks
    assert {"CONN#alice-1", "CONN#bob-1"} <= pks
    assert [i["SK"] for i in _items(table) if i["PK"] == "TOPIC#claims#alice"] == ["CONN#alice-1"]


def test_a_slow_connection_does_not_hold_up_the_others(
    table: str, repository: ConnectionRepository
) -> None:
    # The slow connection's push waits until the fast one has had its frame: pushed one
    # after the other with the slow one first, it would wait out its deadline and fail.
    _connect("a-slow", "alice", "claims")
    _connect("b-fast", "bob", "claims")
    fast_done = threading.Event()

    def post(connection_id: str, data: bytes) -> None:
        if connection_id == "a-slow":
            if not fast_done.wait(timeout=30):
                raise AssertionError("the fast connection waited for the slow one")
        else:
            fast_done.set()

    outcome = delivery.push(_detail("claim.confirmed", CLAIM), repository, post, now=0)
    assert outcome.delivered == 2


def test_an_expired_subscription_is_not_pushed_to(
    table: str, repository: ConnectionRepository
) -> None:
    _connect("c1", "alice", "claims")
    [subscriber] = repository.subscribers("claims#alice", now=0)
    assert subscriber.connection_id == "c1"
    expires = repository.get("c1")
    assert expires is not None
    assert repository.subscribers("claims#alice", now=expires.expires_at) == []
