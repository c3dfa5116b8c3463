"""EventBridge rules, their SQS queues and the SQS event source mappings of template.yaml,
set up on moto's own EventBridge and SQS (which deliver a rule's targets to queues and move
a message to the queue's DLQ after maxReceiveCount receives), for the local runtime.

Read from the template, as the stream mappings are (local.mappings): every
`AWS::SQS::Queue` (name, VisibilityTimeout, RedrivePolicy), every `AWS::Events::Rule`
(EventPattern, queue targets; or ScheduleExpression: a schedule, which moto never fires, so
local.schedules ticks it) and every `Type: SQS` event of a serverless function
(BatchSize, MaximumBatchingWindowInSeconds, FunctionResponseTypes, ScalingConfig).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harvest.local.mappings import FunctionSettings, function_settings, resolve_name

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

__all__ = [
    "BusTopology",
    "QueueMapping",
    "QueueSpec",
    "RuleSpec",
    "ScheduleSpec",
    "provision",
    "topology_from_template",
]

log = logging.getLogger("harvest.local.rules")

# Lambda's documented limits for SQS event sources (standard queues).
MAX_SQS_BATCH_SIZE = 10_000
MAX_RECEIVE_PER_CALL = 10  # ReceiveMessage returns at most 10 messages


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    visibility_timeout_s: int = 30
    dead_letter_queue: str | None = None  # logical id
    max_receive_count: int | None = None


@dataclass(frozen=True)
class RuleSpec:
    logical_id: str
    name: str
    pattern: Mapping[str, Any]
    queues: tuple[str, ...]  # logical ids of the queue targets


@dataclass(frozen=True)
class ScheduleSpec:
    """A rule with a ScheduleExpression (e.g. `rate(15 minutes)`) and its queue targets."""

    logical_id: str
    name: str
    expression: str
    queues: tuple[str, ...]  # logical ids of the queue targets


@dataclass(frozen=True)
class QueueMapping:
    """One SQS event source mapping of a function."""

    function: FunctionSettings
    queue: str  # logical id
    batch_size: int = 10
    maximum_batching_window_s: float = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.batch_size <= MAX_SQS_BATCH_SIZE:
            problems.append(f"BatchSize {self.batch_size} is outside 1..{MAX_SQS_BATCH_SIZE}")
        if self.batch_size > MAX_RECEIVE_PER_CALL and self.maximum_batching_window_s < 1:
            problems.append("a BatchSize above 10 needs a MaximumBatchingWindowInSeconds >= 1")
        if not 0 <= self.maximum_batching_window_s <= 300:
            problems.append("MaximumBatchingWindowInSeconds must be 0..300")
        if problems:
            raise ValueError(f"{self.function.logical_id}: " + "; ".join(problems))


@dataclass(frozen=True)
class BusTopology:
    bus_name: str
    queues: Mapping[str, QueueSpec]
    rules: tuple[RuleSpec, ...]
    mappings: tuple[QueueMapping, ...]
    schedules: tuple[ScheduleSpec, ...] = ()


def topology_from_template(template: Mapping[str, Any], table_name: str) -> BusTopology:
    resources: Mapping[str, Any] = template.get("Resources") or {}

    def name_of(logical_id: str, attribute: str) -> str:
        properties = resources[logical_id].get("Properties") or {}
        return resolve_name(template, properties.get(attribute), table_name) or logical_id

    buses = [lid for lid, r in resources.items() if r.get("Type") == "AWS::Events::EventBus"]
    queues = {
        lid: _queue(lid, r.get("Properties") or {}, name_of(lid, "QueueName"))
        for lid, r in resources.items()
        if r.get("Type") == "AWS::SQS::Queue"
    }
    rule_ids = [lid for lid, r in resources.items() if r.get("Type") == "AWS::Events::Rule"]
    scheduled = {lid for lid in rule_ids if "ScheduleExpression" in _properties(resources, lid)}
    rules = tuple(
        _rule(lid, _properties(resources, lid), name_of(lid, "Name"), queues)
        for lid in rule_ids
        if lid not in scheduled
    )
    schedules = tuple(
        ScheduleSpec(
            lid,
            name_of(lid, "Name"),
            name_of(lid, "ScheduleExpression"),
            _queue_targets(_properties(resources, lid), queues),
        )
        for lid in rule_ids
        if lid in scheduled
    )
    mappings: list[QueueMapping] = []
    for lid, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        events = (resource.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if event.get("Type") == "SQS":
                settings = function_settings(template, lid, table_name)
                mappings.append(_mapping(settings, event.get("Properties") or {}, queues))
    return BusTopology(
        bus_name=name_of(buses[0], "Name") if buses else "default",
        queues=queues,
        rules=rules,
        mappings=tuple(mappings),
        schedules=schedules,
    )


def _properties(resources: Mapping[str, Any], logical_id: str) -> Mapping[str, Any]:
    properties: Mapping[str, Any] = resources[logical_id].get("Properties") or {}
    return properties


def _queue_targets(
    properties: Mapping[str, Any], queues: Mapping[str, QueueSpec]
) -> tuple[str, ...]:
    return tuple(
        queue
        for target in properties.get("Targets") or []
        if (queue := _logical_id(target.get("Arn"))) is not None and queue in queues
    )


def _logical_id(value: object) -> str | None:
    """The logical id a Ref or Fn::GetAtt points to."""
    if not isinstance(value, Mapping):
        return None
    if "Ref" in value:
        return str(value["Ref"])
    target = value.get("Fn::GetAtt")
    if isinstance(target, list) and target:
        return str(target[0])
    return target.split(".", 1)[0] if isinstance(target, str) else None


def _queue(logical_id: str, properties: Mapping[str, Any], name: str) -> QueueSpec:
    redrive = properties.get("RedrivePolicy") or {}
    return QueueSpec(
        logical_id=logical_id,
        name=name,
        visibility_timeout_s=int(properties.get("VisibilityTimeout", 30)),
        dead_letter_queue=_logical_id(redrive.get("deadLetterTargetArn")),
        max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
    )


def _rule(
    logical_id: str, properties: Mapping[str, Any], name: str, queues: Mapping[str, QueueSpec]
) -> RuleSpec:
    pattern = properties.get("EventPattern")
    if isinstance(pattern, str):
        pattern = json.loads(pattern)
    if not isinstance(pattern, Mapping):
        raise ValueError(f"{logical_id}: EventPattern must be a JSON object")
    return RuleSpec(logical_id, name, pattern, _queue_targets(properties, queues))


def _mapping(
    function: FunctionSettings, event: Mapping[str, Any], queues: Mapping[str, QueueSpec]
) -> QueueMapping:
    queue = _logical_id(event.get("Queue"))
    if queue is None or queue not in queues:
        raise ValueError(f"{function.logical_id}: SQS event on {queue!r}, not a template queue")
    scaling = event.get("ScalingConfig") or {}
    return QueueMapping(
        function=function,
        queue=queue,
        batch_size=int(event.get("BatchSize", 10)),
        maximum_batching_window_s=float(event.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures"
        in (event.get("FunctionResponseTypes") or []),
        maximum_concurrency=scaling.get("MaximumConcurrency"),
    )


def provision(
    topology: BusTopology,
    events: EventBridgeClient,
    sqs: Any,  # boto3 SQS client (no stubs in the lock: one more dev dependency for one module)
) -> dict[str, str]:
    """Creates the bus, the queues (DLQs first, with their redrive policies) and the rules
    with their queue targets on moto; returns queue logical id -> URL. Queues are emptied
    (moto keeps them in memory only, so nothing of a previous run could be in them, but a
    previous runtime of the same process could have left some)."""
    if topology.bus_name != "default":
        with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
            events.create_event_bus(Name=topology.bus_name)
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    ordered = sorted(topology.queues.values(), key=lambda q: q.dead_letter_queue is not None)
    for queue in ordered:
        attributes = {"VisibilityTimeout": str(queue.visibility_timeout_s)}
        if queue.dead_letter_queue is not None and queue.max_receive_count is not None:
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": arns[queue.dead_letter_queue],
                    "maxReceiveCount": queue.max_receive_count,
                }
            )
        url = str(sqs.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"])
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        _empty(sqs, url)
        urls[queue.logical_id] = url
        found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        arns[queue.logical_id] = str(found["Attributes"]["QueueArn"])
    for rule in topology.rules:
        events.put_rule(
            Name=rule.name, EventBusName=topology.bus_name, EventPattern=json.dumps(rule.pattern)
        )
        events.put_targets(
            Rule=rule.name,
            EventBusName=topology.bus_name,
            Targets=[{"Id": queue, "Arn": arns[queue]} for queue in rule.queues],
        )
        log.info("rule %s -> %s", rule.name, ", ".join(rule.queues))
    return urls


def _empty(sqs: Any, url: str) -> None:
    """Deletes every message (PurgeQueue is allowed once a minute per queue)."""
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
            ],
        )
