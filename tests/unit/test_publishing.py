"""EventPublisher against a real EventBridge client with botocore's Stubber (no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber

from harvest.domain.events import DetailType, DomainEvent, event_id, to_put_events_entry
from harvest.services.publishing import EventPublisher, PublishFailed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_events import EventBridgeClient

BUS = "harvest-test"


def domain_event(number: int, notes: str = "") -> DomainEvent:
    entity_id = f"listing-{number:04d}"
    return DomainEvent(
        id=event_id("listing", entity_id, 1, DetailType.LISTING_CREATED.value),
        source="harvest.listings",
        detail_type=DetailType.LISTING_CREATED,
        occurred_at="2026-05-01T08:00:00Z",
        correlation_id=f"corr-{number}",
        entity_type="listing",
        entity_id=entity_id,
        version=1,
        data={"listingId": entity_id, "crop": "tomato", "notes": notes},
    )


def entries(events: list[DomainEvent]) -> list[dict[str, Any]]:
    return [to_put_events_entry(event, BUS) for event in events]


def accepted(count: int) -> dict[str, Any]:
    return {
        "FailedEntryCount": 0,
        "Entries": [{"EventId": f"eb-{index}"} for index in range(count)],
    }


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def client() -> EventBridgeClient:
    return boto3.client("events", region_name="us-east-1")


@pytest.fixture
def stubber(client: EventBridgeClient) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def publisher(client: EventBridgeClient, sleeps: Sleeps, max_attempts: int = 5) -> EventPublisher:
    return EventPublisher(
        client, BUS, max_attempts=max_attempts, sleep=sleeps, rng=lambda: 0.5, base_delay_s=0.1
    )


def test_all_entries_accepted_in_one_call(client: EventBridgeClient, stubber: Stubber) -> None:
    # Given three events
    events = [domain_event(n) for n in range(3)]
    stubber.add_response("put_events", accepted(3), {"Entries": entries(events)})
    sleeps = Sleeps()
    # When they are published
    publisher(client, sleeps).publish(events)
    # Then one call carried them all, in order, and nobody waited
    assert sleeps.delays == []


def test_nothing_to_publish_makes_no_call(client: EventBridgeClient, stubber: Stubber) -> None:
    publisher(client, Sleeps()).publish([])  # the stubber fails on any unexpected call


def test_only_the_failed_entry_is_resent_after_a_backoff(
    client: EventBridgeClient, stubber: Stubber
) -> None:
    # Given three events of which EventBridge throttles the second on the first call
    events = [domain_event(n) for n in range(3)]
    stubber.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [
                {"EventId": "eb-0"},
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"},
                {"EventId": "eb-2"},
            ],
        },
        {"Entries": entries(events)},
    )
    stubber.add_response("put_events", accepted(1), {"Entries": entries([events[1]])})
    sleeps = Sleeps()
    # When they are published
    publisher(client, sleeps).publish(events)
    # Then only the throttled entry went again, after one jittered backoff (0.5 * 0.1 * 2**1)
    assert sleeps.delays == [pytest.approx(0.1)]


def test_throttled_call_is_retried_whole(client: EventBridgeClient, stubber: Stubber) -> None:
    events = [domain_event(n) for n in range(2)]
    stubber.add_client_error(
        "put_events", service_error_code="ThrottlingException", http_status_code=400
    )
    stubber.add_response("put_events", accepted(2), {"Entries": entries(events)})
    sleeps = Sleeps()
    publisher(client, sleeps).publish(events)
    assert len(sleeps.delays) == 1


def test_other_client_errors_are_not_retried(client: EventBridgeClient, stubber: Stubber) -> None:
    stubber.add_client_error(
        "put_events", service_error_code="AccessDeniedException", http_status_code=400
    )
    sleeps = Sleeps()
    with pytest.raises(client.exceptions.ClientError, match="AccessDenied"):
        publisher(client, sleeps).publish([domain_event(1)])
    assert sleeps.delays == []


def test_persistent_failure_raises_naming_the_entry_after_max_attempts(
    client: EventBridgeClient, stubber: Stubber
) -> None:
    # Given an entry EventBridge keeps refusing while the other one is accepted
    events = [domain_event(1), domain_event(2)]
    refused = {"ErrorCode": "InternalFailure", "ErrorMessage": "try later"}
    stubber.add_response(
        "put_events",
        {"FailedEntryCount": 1, "Entries": [{"EventId": "eb-1"}, refused]},
        {"Entries": entries(events)},
    )
    for _ in range(2):
        stubber.add_response(
            "put_events",
            {"FailedEntryCount": 1, "Entries": [refused]},
            {"Entries": entries([events[1]])},
        )
    sleeps = Sleeps()
    # When it is published with three attempts
    with pytest.raises(PublishFailed) as raised:
        publisher(client, sleeps, max_attempts=3).publish(events)
    # Then it is reported, not dropped, after exponential full-jitter waits
    assert [f.event_id for f in raised.value.failures] == [events[1].id]
    assert raised.value.failures[0].error_code == "InternalFailure"
    assert "listing-0002" in str(raised.value)
    assert "3 attempts" in str(raised.value)
    assert sleeps.delays == [pytest.approx(0.1), pytest.approx(0.2)]


def test_23_events_go_in_chunks_of_10_10_3_in_order(
    client: EventBridgeClient, stubber: Stubber
) -> None:
    events = [domain_event(n) for n in range(23)]
    for chunk in (events[:10], events[10:20], events[20:]):
        stubber.add_response("put_events", accepted(len(chunk)), {"Entries": entries(chunk)})
    publisher(client, Sleeps()).publish(events)


def test_a_chunk_never_exceeds_256_kb(client: EventBridgeClient, stubber: Stubber) -> None:
    # Given four events of about 100 KB each: at most two fit in one call
    events = [domain_event(n, notes="x" * 100_000) for n in range(4)]
    for chunk in (events[:2], events[2:]):
        stubber.add_response("put_events", accepted(len(chunk)), {"Entries": entries(chunk)})
    publisher(client, Sleeps()).publish(events)


def test_a_failing_chunk_stops_before_later_chunks(
    client: EventBridgeClient, stubber: Stubber
) -> None:
    # Given 12 events whose first chunk keeps failing
    events = [domain_event(n) for n in range(12)]
    stubber.add_client_error("put_events", service_error_code="ThrottlingException")
    # When publishing with a single attempt
    with pytest.raises(PublishFailed) as raised:
        publisher(client, Sleeps(), max_attempts=1).publish(events)
    # Then all ten entries of the chunk are named and the last two were never sent
    assert len(raised.value.failures) == 10


def test_backoff_is_capped_and_jittered(client: EventBridgeClient) -> None:
    full = EventPublisher(client, BUS, base_delay_s=0.1, max_delay_s=1.0, rng=lambda: 1.0)
    none = EventPublisher(client, BUS, rng=lambda: 0.0)
    assert [full.backoff(a) for a in (1, 2, 3, 4, 10)] == pytest.approx([0.2, 0.4, 0.8, 1, 1])
    assert none.backoff(3) == 0
