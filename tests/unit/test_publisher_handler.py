"""The publisher Lambda wired together: stream record -> PutEvents entry -> batch response."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.stub import ANY, Stubber

from harvest.consumers import publisher
from harvest.services.publishing import EventPublisher
from harvest.settings import PublisherSettings

_serializer = TypeSerializer()
BUS = "harvest-test"


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 9_000


def listing_insert(sequence: str, listing_id: str) -> dict[str, Any]:
    item = {
        "PK": f"LISTING#{listing_id}",
        "SK": "LISTING",
        "type": "listing",
        "listingId": listing_id,
        "crop": "tomato",
        "quantityRemaining": Decimal("2.5"),
        # As a listing is stored: the exact point flat beside its geohash-7
        "lat": Decimal("52.52"),
        "lon": Decimal("13.405"),
        "geohash": "u33dbfc",
        "version": 1,
        "updatedAt": "2026-05-01T08:00:00Z",
        "correlationId": f"corr-{listing_id}",
    }
    image = {name: _serializer.serialize(value) for name, value in item.items()}
    return {
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": sequence,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


@pytest.fixture
def stubbed() -> Iterator[Stubber]:
    client = boto3.client("events", region_name="us-east-1")
    events = EventPublisher(client, BUS, max_attempts=1, sleep=lambda _: None)
    publisher.publishing.override(publisher.Publishing(PublisherSettings(), events))
    yield Stubber(client)
    publisher.publishing.reset()


def test_handler_publishes_each_record_and_reports_the_first_it_cannot(stubbed: Stubber) -> None:
    # Given two listing inserts; EventBridge accepts the first and refuses the second
    records = [listing_insert("101", "a"), listing_insert("102", "b")]
    stubbed.add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}, {"Entries": ANY}
    )
    stubbed.add_client_error("put_events", service_error_code="ThrottlingException")
    # When the handler runs
    with stubbed:
        response = publisher.handler({"Records": records}, Context())
        stubbed.assert_no_pending_responses()
    # Then the second record goes back to Lambda for retry
    assert response == {"batchItemFailures": [{"itemIdentifier": "102"}]}


def test_handler_sends_the_domain_event_without_coordinates(stubbed: Stubber) -> None:
    sent: list[dict[str, Any]] = []

    def capture(**kwargs: Any) -> None:
        sent.extend(kwargs["params"]["Entries"])

    stubbed.client.meta.events.register("before-parameter-build.events.PutEvents", capture)
    stubbed.add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}, {"Entries": ANY}
    )
    with stubbed:
        response = publisher.handler(
            {"Records": [listing_insert("7", "c")]},
            Context(),
        )
    assert response == {"batchItemFailures": []}
    [entry] = sent
    detail = json.loads(entry["Detail"])
    assert (entry["DetailType"], entry["EventBusName"]) == ("listing.created", BUS)
    assert detail["correlationId"] == "corr-c"
    assert detail["data"]["area"] == "u33db"
    assert {"lat", "lon", "geohash"}.isdisjoint(detail["data"])
    assert "52.52" not in entry["Detail"]
