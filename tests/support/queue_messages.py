"""SQS messages as the AI worker's queue delivers them: a stream record -> the publisher's
domain events -> the event EventBridge hands the rule's target -> an SQS record."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from harvest.domain.events import to_put_events_entry
from harvest.local.queues import bus_event
from harvest.store.stream import events_from_record

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:harvest-dev-advisor"


def queue_messages(record: Mapping[str, Any], receive_count: int = 1) -> list[dict[str, Any]]:
    """The messages one stream record becomes on the queue (none when it is no event)."""
    return [
        message(bus_event(to_put_events_entry(event, "harvest-dev")), receive_count)
        for event in events_from_record(record)
    ]


def message(event: Mapping[str, Any], receive_count: int = 1) -> dict[str, Any]:
    """An SQS record whose body is `event` (an EventBridge event, or anything: poison)."""
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": f"rh-{uuid.uuid4()}",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }
