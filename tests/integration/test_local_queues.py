"""The local emulation of template.yaml's rules, queues and SQS event sources (issue 9), on
moto's EventBridge and SQS: a rule's pattern routes an event to its queue, and the SQS
poller applies Lambda's rules (partial batch failures by messageId, redelivery after the
visibility timeout, maxReceiveCount -> DLQ)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto import mock_aws

from harvest.local.queues import SqsPoller
from harvest.local.rules import BusTopology, QueueMapping, provision, topology_from_template
from harvest.tools.template import load_template

REGION = "us-east-1"


def _template(visibility_timeout_s: int = 0, max_receive_count: int = 2) -> dict[str, Any]:
    """The real template, with a queue that gives a failed message back at once."""
    template = copy.deepcopy(load_template())
    queue = template["Resources"]["AdvisorQueue"]["Properties"]
    queue["VisibilityTimeout"] = visibility_timeout_s
    queue["RedrivePolicy"]["maxReceiveCount"] = max_receive_count
    return template


def _advisor(topology: BusTopology) -> QueueMapping:
    [mapping] = [m for m in topology.mappings if m.function.logical_id == "AdvisorFunction"]
    return mapping


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        yield boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)


def _put(events: Any, topology: BusTopology, source: str, detail_type: str, n: int) -> None:
    detail = {"id": f"e{n}", "detailType": detail_type, "n": n}
    events.put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": topology.bus_name,
            }
        ]
    )


def _count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


class Handler:
    """Records what it was given; fails the messages whose event number is in `failing`."""

    def __init__(self, failing: set[int] | None = None, response: Any = None) -> None:
        self.calls: list[list[int]] = []
        self.failing = failing or set()
        self.response = response

    def __call__(self, event: Mapping[str, Any], context: Any) -> Any:
        numbers = [json.loads(r["body"])["detail"]["n"] for r in event["Records"]]
        self.calls.append(numbers)
        assert context.get_remaining_time_in_millis() > 0
        assert all(r["eventSource"] == "aws:sqs" for r in event["Records"])
        if self.response is not None:
            return self.response
        failed = [
            {"itemIdentifier": r["messageId"]}
            for r, n in zip(event["Records"], numbers, strict=True)
            if n in self.failing
        ]
        return {"batchItemFailures": failed}


def test_the_template_topology_is_read_as_written() -> None:
    topology = topology_from_template(load_template(), "harvest-test")
    assert topology.bus_name == "harvest-dev"
    rules = {rule.logical_id: rule.queues for rule in topology.rules}
    assert rules == {
        "AdvisorRule": ("AdvisorQueue",),
        "MatchingRule": ("MatchingQueue",),
        "DeliveryRule": ("DeliveryQueue",),
    }
    queue = topology.queues["AdvisorQueue"]
    assert (queue.dead_letter_queue, queue.max_receive_count) == ("AdvisorDlq", 5)
    assert queue.visibility_timeout_s == 360
    mapping = _advisor(topology)
    assert mapping.function.handler == "harvest.consumers.advisor.handler"
    assert (mapping.batch_size, mapping.report_batch_item_failures) == (10, True)
    assert mapping.function.timeout_s == 60
    [delivery] = [m for m in topology.mappings if m.queue == "DeliveryQueue"]
    assert delivery.function.handler == "harvest.consumers.delivery.handler"
    assert (delivery.batch_size, delivery.report_batch_item_failures) == (10, True)


def test_a_rule_routes_only_the_events_its_pattern_matches(clients: tuple[Any, Any]) -> None:
    events, sqs = clients
    topology = topology_from_template(_template(), "harvest-test")
    urls = provision(topology, events, sqs)
    _put(events, topology, "harvest.guidances", "guidance.requested", 1)
    _put(events, topology, "harvest.insights", "insight.generated", 2)
    _put(events, topology, "harvest.listings", "listing.created", 3)
    assert _count(sqs, urls["AdvisorQueue"]) == 2


def test_failed_messages_come_back_and_go_to_the_dlq_after_max_receive_count(
    clients: tuple[Any, Any],
) -> None:
    events, sqs = clients
    topology = topology_from_template(_template(max_receive_count=2), "harvest-test")
    urls = provision(topology, events, sqs)
    for n in (1, 2, 3):
        _put(events, topology, "harvest.guidances", "guidance.requested", n)
    handler = Handler(failing={2})
    mapping = _advisor(topology)
    poller = SqsPoller(mapping, sqs, urls["AdvisorQueue"], handler)
    # First receive: 2 fails, the others are deleted; it comes back (visibility timeout 0)
    assert poller.poll_once() == 3
    assert sorted(handler.calls[0]) == [1, 2, 3]
    assert poller.poll_once() == 1
    assert handler.calls[1] == [2]
    # Received twice (maxReceiveCount 2): the next receive moves it to the DLQ instead
    assert poller.poll_once() == 0
    assert _count(sqs, urls["AdvisorQueue"]) == 0
    assert _count(sqs, urls["AdvisorDlq"]) == 1
    assert (poller.stats.deleted, poller.stats.failed) == (2, 2)


def test_a_function_error_or_an_unknown_item_identifier_keeps_the_whole_batch(
    clients: tuple[Any, Any],
) -> None:
    events, sqs = clients
    topology = topology_from_template(_template(max_receive_count=5), "harvest-test")
    urls = provision(topology, events, sqs)
    for n in (1, 2):
        _put(events, topology, "harvest.guidances", "guidance.requested", n)
    mapping = _advisor(topology)

    def crash(event: Mapping[str, Any], context: Any) -> Any:
        raise RuntimeError("function error")

    assert SqsPoller(mapping, sqs, urls["AdvisorQueue"], crash).poll_once() == 2
    assert _count(sqs, urls["AdvisorQueue"]) == 2
    unknown = Handler(response={"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]})
    assert SqsPoller(mapping, sqs, urls["AdvisorQueue"], unknown).poll_once() == 2
    assert _count(sqs, urls["AdvisorQueue"]) == 2
    done = Handler()
    assert SqsPoller(mapping, sqs, urls["AdvisorQueue"], done).poll_once() == 2
    assert _count(sqs, urls["AdvisorQueue"]) == 0
