"""The local emulation of template.yaml's rules, queues and SQS event sources (issue 9), on
moto's EventBridge and SQS: a rule's pattern routes an event to its queue, and the SQS
poller applies Lambda's rules (partial batch failures by messageId, redelivery after the
visibility timeout, maxReceiveCount -> DLQ)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from moto import mock_aws

from harvest.local.queues import SqsPoller
from harvest.local.rules import BusTopology, QueueMapping, provision, topology_from_template
from harvest.local.schedules import SCHEDULE_SECONDS_VARIABLE, ScheduleTicker, period_seconds
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
    mappings = {m.function.logical_id: m for m in topology.mappings}
    assert set(mappings) == {
        "AdvisorFunction",
        "RefreshFunction",
        "MatchingFunction",
        "DeliveryFunction",
    }
    mapping = mappings["AdvisorFunction"]
    [delivery] = [m for m in topology.mappings if m.queue == "DeliveryQueue"]
    assert delivery.function.handler == "harvest.consumers.delivery.handler"
    assert (delivery.batch_size, delivery.report_batch_item_failures) == (10, True)
    assert mapping.function.handler == "harvest.consumers.advisor.handler"
    assert (mapping.batch_size, mapping.report_batch_item_failures) == (10, True)
    assert mapping.function.timeout_s == 60
    refresh = mappings["RefreshFunction"]
    assert refresh.function.handler == "harvest.consumers.refresh.handler"
    assert (refresh.queue, refresh.batch_size, refresh.report_batch_item_failures) == (
        "RefreshQueue",
        1,
        True,
    )
    # The schedule rule is no pattern rule: the runtime ticks it (local.schedules).
    [schedule] = topology.schedules
    assert (schedule.logical_id, schedule.name) == ("RefreshRule", "harvest-dev-refresh")
    assert (schedule.expression, schedule.queues) == ("rate(15 minutes)", ("RefreshQueue",))


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(15 minutes)", 900), ("rate(2 hours)", 7200),
     ("rate(1 day)", 86_400), ("cron(5 0 * * ? *)", 3600)],
)  # fmt: skip
def test_a_schedule_ticks_at_its_rate_unless_the_local_period_is_set(
    expression: str, seconds: float
) -> None:
    assert period_seconds(expression, {}) == seconds
    assert period_seconds(expression, {SCHEDULE_SECONDS_VARIABLE: "0.5"}) == 0.5


@pytest.mark.parametrize("expression", ["rate(1 minutes)", "rate(5 minute)", "every hour"])
def test_a_schedule_eventbridge_would_refuse_stops_the_runtime(expression: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        period_seconds(expression, {})


def test_a_tick_reaches_the_schedules_queue_as_eventbridge_delivers_it(
    clients: tuple[Any, Any],
) -> None:
    events, sqs = clients
    topology = topology_from_template(_template(), "harvest-test")
    urls = provision(topology, events, sqs)
    [schedule] = topology.schedules
    ticker = ScheduleTicker(schedule, sqs, urls, REGION, period_s=0.05)
    stop = threading.Event()
    thread = ticker.start(stop)
    try:
        # Progress, not time: at least two ticks (the first at start, one period later).
        deadline = time.monotonic() + 30
        while _count(sqs, urls["RefreshQueue"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    [message] = sqs.receive_message(QueueUrl=urls["RefreshQueue"])["Messages"]
    body = json.loads(message["Body"])
    assert (body["source"], body["detail-type"], body["detail"]) == (
        "aws.events",
        "Scheduled Event",
        {},
    )
    assert body["resources"] == [f"arn:aws:events:{REGION}:123456789012:rule/harvest-dev-refresh"]
    assert ticker.ticks >= 2
    assert _count(sqs, urls["AdvisorQueue"]) == 0


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
