"""Topics of the WebSocket API (domain.push), the Management API's answers as the delivery
worker reads them (botocore Stubber), and `harvest watch`'s printing."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from harvest.cli import UsageError
from harvest.cli.watch import print_events, subscribe
from harvest.consumers.delivery import _push_one, client_topic, post_with
from harvest.domain.errors import ValidationFailed
from harvest.domain.push import Topic, bind_topic, topics_for_event
from harvest.store.connections import Subscriber


def test_private_topics_are_bound_to_the_authenticated_user() -> None:
    assert bind_topic("claims", "alice") == Topic("claims", "claims#alice")
    assert bind_topic("matches", "bob") == Topic("matches", "matches#bob")
    assert bind_topic("signals:u33dc", "alice") == Topic("signals:u33dc", "signals#u33dc")
    for bad in ("claims#bob", "signals:", "signals:u33", "signals:u33dc0q", None, ["claims"]):
        with pytest.raises(ValidationFailed):
            bind_topic(bad, "alice")


def test_events_reach_the_parties_and_areas_they_concern_only() -> None:
    claim = {"claimerId": "alice", "ownerId": "bob", "listingId": "l1"}
    assert topics_for_event("claim.confirmed", claim) == ["claims#alice", "claims#bob"]
    assert topics_for_event("claim.created", {"claimerId": "alice"}) == ["claims#alice"]
    # One match.suggested per side, addressed to that side's owner only
    match = {"recipientId": "alice", "side": "request", "listingId": "l1", "ownerId": "bob"}
    assert topics_for_event("match.suggested", match) == ["matches#alice"]
    # An area's insight reaches its cell and the coarser cells down to precision 4
    assert topics_for_event("insight.generated", {"area": "u33dc0"}) == [
        "signals#u33d",
        "signals#u33dc",
        "signals#u33dc0",
    ]
    assert topics_for_event("insight.generated", {"area": "u33"}) == []
    assert topics_for_event("insight.generated", {"area": 5}) == []
    assert topics_for_event("listing.created", {"ownerId": "bob"}) == []
    assert topics_for_event("profile.updated", {"userId": "bob"}) == []


def test_client_topic_names_what_the_client_subscribed_to() -> None:
    assert client_topic("claims#alice") == "claims"
    assert client_topic("signals#u33d") == "signals:u33d"


def _stubbed() -> tuple[Any, Stubber]:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/dev",
        region_name="us-east-1",
    )
    return client, Stubber(client)


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        ("GoneException", 410, "gone"),
        ("LimitExceededException", 429, "retryable"),
        ("InternalServerError", 500, "retryable"),
        ("ForbiddenException", 403, "dropped"),
        ("PayloadTooLargeException", 413, "dropped"),
    ],
)
def test_management_api_errors_are_told_apart(code: str, status: int, outcome: str) -> None:
    client, stubber = _stubbed()
    stubber.add_client_error(
        "post_to_connection",
        service_error_code=code,
        http_status_code=status,
        expected_params={"ConnectionId": "c1", "Data": b"frame"},
    )
    with stubber:
        assert _push_one(post_with(client), Subscriber("c1", "alice"), b"frame") == outcome
    stubber.assert_no_pending_responses()


def test_a_successful_post_is_delivered() -> None:
    client, stubber = _stubbed()
    stubber.add_response("post_to_connection", {}, {"ConnectionId": "c1", "Data": ANY})
    with stubber:
        assert _push_one(post_with(client), Subscriber("c1", "alice"), b"x") == "delivered"


class FakeSocket:
    def __init__(self, incoming: list[dict[str, Any]]) -> None:
        self.incoming = [json.dumps(frame) for frame in incoming]
        self.sent: list[dict[str, Any]] = []

    def send(self, message: str) -> None:
        self.sent.append(json.loads(message))

    def recv(self, timeout: float | None = None) -> str:
        return self.incoming.pop(0)

    def __iter__(self) -> Any:
        return iter(list(self.incoming))


def _event(event_id: str, detail_type: str) -> dict[str, Any]:
    return {
        "type": "event",
        "topic": "claims",
        "id": event_id,
        "detailType": detail_type,
        "event": {"entityId": "c-1", "data": {"status": "confirmed", "claimId": "c-1"}},
    }


def test_watch_prints_each_event_once_in_one_plain_line() -> None:
    socket = FakeSocket(
        [_event("e1", "claim.created"), _event("e1", "claim.created"), _event("e2", "claim.x")]
    )
    lines: list[str] = []
    print_events(socket, lines.append)
    assert lines == [
        'claim.created\tclaims\tc-1\t{"claimId":"c-1","status":"confirmed"}',
        'claim.x\tclaims\tc-1\t{"claimId":"c-1","status":"confirmed"}',
    ]


def test_watch_stops_on_a_refused_subscription() -> None:
    socket = FakeSocket(
        [{"type": "subscribed", "topic": "claims"}, {"type": "error", "message": "no"}]
    )
    with pytest.raises(UsageError, match="signals:zz"):
        subscribe(socket, ["claims", "signals:zz"])
    assert socket.sent == [
        {"action": "subscribe", "topic": "claims"},
        {"action": "subscribe", "topic": "signals:zz"},
    ]
