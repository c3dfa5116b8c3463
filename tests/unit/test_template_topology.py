"""The consumer topology of template.yaml (DESIGN §5, issue 9): at most two readers of the
table stream, every other consumer behind an EventBridge rule -> SQS queue -> Lambda, a DLQ
and alarms for every queue and mapping, and no feedback loop through the stream or the bus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harvest.domain.events import ENTITY_RULES
from harvest.local.filters import Pattern, compile_pattern, matches_any
from harvest.store import keys
from harvest.tools.template import load_template

RESOURCES: dict[str, Any] = load_template()["Resources"]
# The key family each published entity lives in (schemas/key-design.md).
ENTITY_FAMILIES = {
    "listing": "LISTING#",
    "request": "REQUEST#",
    "claim": "CLAIM#",
    "profile": "USER#",
    "guidance": "GUIDANCE#",
    "insight": "INSIGHT#",
    "match": "MATCH#",
}
WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def _events(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """(function, event properties) of every event of that Type of every function."""
    return [
        (name, event["Properties"])
        for name, function in _of_type("AWS::Serverless::Function").items()
        for event in (function["Properties"].get("Events") or {}).values()
        if event["Type"] == kind
    ]


def _ref(value: object) -> str:
    """The logical id a Ref or GetAtt points to."""
    assert isinstance(value, dict), value
    if "Ref" in value:
        return str(value["Ref"])
    target = value["Fn::GetAtt"]
    return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])


def _alarms_on(queue: str, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in _of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
        and a["Properties"]["MetricName"] == metric
        and [_ref(d["Value"]) for d in a["Properties"]["Dimensions"]] == [queue]
    ]


def _written_families(function: str) -> set[str]:
    families: set[str] = set()
    for policy in RESOURCES[function]["Properties"].get("Policies") or []:
        for entry in policy.get("Statement", []) if isinstance(policy, dict) else []:
            statement = entry["Fn::If"][1] if "Fn::If" in entry else entry
            actions = statement["Action"]
            if set([actions] if isinstance(actions, str) else actions) & WRITE_ACTIONS:
                leading = statement["Condition"]["ForAllValues:StringLike"]
                families |= {p.rstrip("*") for p in leading["dynamodb:LeadingKeys"]}
    return families


def _stream_record(pk: str, event_name: str) -> dict[str, Any]:
    keys_image = {"PK": {"S": pk}, "SK": {"S": "X"}}
    return {"eventName": event_name, "dynamodb": {"Keys": keys_image, "NewImage": keys_image}}


def _stream_families(function: str) -> set[str]:
    """The families whose changes reach a function's stream mapping (none without one)."""
    if function not in {f for f, _ in _events("DynamoDB")}:
        return set()
    patterns = [
        compile_pattern(f["Pattern"])
        for name, properties in _events("DynamoDB")
        if name == function
        for f in properties["FilterCriteria"]["Filters"]
    ]
    families = (*keys.CORE_PREFIXES, *keys.DERIVED_PREFIXES)
    return {
        family
        for family in families
        if any(matches_any(patterns, _stream_record(f"{family}x", n)) for n in ("INSERT", "MODIFY"))
    }


def _rule_pattern(rule: str) -> Pattern:
    return compile_pattern(json.dumps(RESOURCES[rule]["Properties"]["EventPattern"]))


def _bus_event(entity: str, detail_type: str) -> dict[str, Any]:
    return {"source": ENTITY_RULES[entity].source, "detail-type": detail_type, "detail": {}}


def _subscriptions() -> dict[str, set[str]]:
    """function -> the families whose events reach it through rule -> queue -> function, as
    far as the publisher's stream filter lets those changes become events at all."""
    published = _stream_families("PublisherFunction")
    queue_of = {_ref(p["Queue"]): f for f, p in _events("SQS")}
    found: dict[str, set[str]] = {}
    for rule_name, rule in _of_type("AWS::Events::Rule").items():
        if "EventPattern" not in rule["Properties"]:
            continue  # a schedule: its ticks carry no family
        pattern = _rule_pattern(rule_name)
        for target in rule["Properties"]["Targets"]:
            function = queue_of.get(_ref(target["Arn"]))
            if function is None:
                continue
            for entity, rules in ENTITY_RULES.items():
                types = {rules.on_insert, rules.on_update, *rules.on_status.values()} - {None}
                if any(matches_any([pattern], _bus_event(entity, str(t))) for t in types):
                    family = ENTITY_FAMILIES[entity]
                    if family in published:
                        found.setdefault(function, set()).add(family)
    return found


def test_at_most_two_event_source_mappings_read_the_table_stream() -> None:
    readers = sorted(f for f, _ in _events("DynamoDB"))
    # DynamoDB Streams serves two simultaneous readers per shard (docs/pipeline-design.md).
    assert readers == ["AggregatorFunction", "PublisherFunction"]


@pytest.mark.parametrize(
    ("function", "rule_name"),
    [
        ("AdvisorFunction", "AdvisorRule"),
        ("MatchingFunction", "MatchingRule"),
        ("DeliveryFunction", "DeliveryRule"),
    ],
)
def test_the_sqs_workers_are_consumers_behind_a_rule_of_the_bus(
    function: str, rule_name: str
) -> None:
    [properties] = [p for f, p in _events("SQS") if f == function]
    assert "ReportBatchItemFailures" in properties["FunctionResponseTypes"]
    assert 1 <= properties["BatchSize"] <= 10
    rule = RESOURCES[rule_name]
    assert _ref(rule["Properties"]["EventBusName"]) == "HarvestEventBus"
    assert [_ref(t["Arn"]) for t in rule["Properties"]["Targets"]] == [_ref(properties["Queue"])]


def test_every_sqs_consumer_has_its_own_queue() -> None:
    queues = [_ref(p["Queue"]) for _, p in _events("SQS")]
    assert sorted(f for f, _ in _events("SQS")) == [
        "AdvisorFunction",
        "DeliveryFunction",
        "MatchingFunction",
        "RefreshFunction",
    ]
    assert len(set(queues)) == len(queues)


def test_the_matching_worker_takes_listing_request_and_profile_events_never_its_own() -> None:
    pattern = _rule_pattern("MatchingRule")
    [properties] = [p for f, p in _events("SQS") if f == "MatchingFunction"]
    assert properties["BatchSize"] == 1
    for entity, rules in ENTITY_RULES.items():
        types = {rules.on_insert, rules.on_update, *rules.on_status.values()} - {None}
        for detail_type in types:
            taken = matches_any([pattern], _bus_event(entity, str(detail_type)))
            assert taken == (entity in {"listing", "request", "profile"}), detail_type
    # It writes MATCH# only, and the publisher turns MATCH# sets into match.suggested.
    assert _written_families("MatchingFunction") == {"MATCH#"}
    assert "MATCH#" in _stream_families("PublisherFunction")


def test_the_ai_worker_takes_new_insights_and_guidance_requests_and_nothing_else() -> None:
    pattern = _rule_pattern("AdvisorRule")
    assert matches_any([pattern], _bus_event("insight", "insight.generated"))
    assert matches_any([pattern], _bus_event("guidance", "guidance.requested"))
    for entity, detail_type in (
        ("listing", "listing.created"),
        ("request", "request.created"),
        ("claim", "claim.created"),
        ("profile", "profile.updated"),
    ):
        assert not matches_any([pattern], _bus_event(entity, detail_type)), detail_type


@pytest.mark.parametrize("function_and_event", _events("SQS"), ids=lambda e: e[0])
def test_every_queue_redrives_to_a_watched_dlq_and_outlasts_its_function(
    function_and_event: tuple[str, dict[str, Any]],
) -> None:
    function, properties = function_and_event
    queue = _ref(properties["Queue"])
    queue_properties = RESOURCES[queue]["Properties"]
    redrive = queue_properties["RedrivePolicy"]
    dlq = _ref(redrive["deadLetterTargetArn"])
    assert RESOURCES[dlq]["Type"] == "AWS::SQS::Queue"
    assert 1 <= redrive["maxReceiveCount"] <= 10
    # A message in flight must not come back while an invocation may still hold it.
    timeout = RESOURCES[function]["Properties"]["Timeout"]
    assert queue_properties["VisibilityTimeout"] >= 6 * timeout
    [depth] = _alarms_on(dlq, "ApproximateNumberOfMessagesVisible")
    assert (depth["Threshold"], depth["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    [age] = _alarms_on(queue, "ApproximateAgeOfOldestMessage")
    assert age["Statistic"] == "Maximum"
    assert age["Threshold"] <= 900


def test_every_rule_target_may_send_to_its_queue_and_keeps_what_it_cannot_deliver() -> None:
    policies = _of_type("AWS::SQS::QueuePolicy").values()
    for rule_name, rule in _of_type("AWS::Events::Rule").items():
        for target in rule["Properties"]["Targets"]:
            for queue in (_ref(target["Arn"]), _ref(target["DeadLetterConfig"]["Arn"])):
                [statement] = [
                    s
                    for p in policies
                    if queue in [_ref(q) for q in p["Properties"]["Queues"]]
                    for s in p["Properties"]["PolicyDocument"]["Statement"]
                ]
                assert statement["Principal"] == {"Service": "events.amazonaws.com"}
                assert statement["Action"] == "sqs:SendMessage"
                source = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
                assert _ref(source) == rule_name, queue
            [depth] = _alarms_on(
                _ref(target["DeadLetterConfig"]["Arn"]), "ApproximateNumberOfMessagesVisible"
            )
            assert depth["Threshold"] == 0


def test_the_refresher_is_an_sqs_consumer_of_a_schedule_on_the_default_bus() -> None:
    """Issue 9 point 5: quiet areas are refreshed by a tick, not on the request path."""
    [(function, properties)] = [(f, p) for f, p in _events("SQS") if f == "RefreshFunction"]
    assert RESOURCES[function]["Properties"]["Handler"] == "harvest.consumers.refresh.handler"
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = _ref(properties["Queue"])
    rules = [
        rule["Properties"]
        for rule in _of_type("AWS::Events::Rule").values()
        if queue in [_ref(t["Arn"]) for t in rule["Properties"]["Targets"]]
    ]
    [rule] = rules
    # Schedule expressions run on the default bus only, and carry no event pattern.
    assert "EventBusName" not in rule
    assert "EventPattern" not in rule
    assert rule["ScheduleExpression"] == {"Ref": "InsightRefreshSchedule"}
    assert _written_families(function) == {"INSIGHT#"}
    assert function not in {f for f, _ in _events("DynamoDB")}


def test_no_feedback_loop_through_the_stream_or_the_bus() -> None:
    """writer -> reader when a reader takes, by stream filter or by rule, a family the
    writer writes; a cycle would be a feedback loop (DESIGN §3 invariant 4)."""
    consumers = {f for f, _ in _events("DynamoDB")} | {f for f, _ in _events("SQS")}
    subscriptions = _subscriptions()
    reads = {f: _stream_families(f) | subscriptions.get(f, set()) for f in consumers}
    feeds = {
        writer: {reader for reader in consumers if reads[reader] & _written_families(writer)}
        for writer in consumers
    }
    visiting: list[str] = []

    def visit(function: str) -> None:
        assert function not in visiting, f"feedback loop: {[*visiting, function]}"
        visiting.append(function)
        for reader in sorted(feeds[function]):
            visit(reader)
        visiting.pop()

    for function in sorted(feeds):
        visit(function)
    assert subscriptions == {
        "AdvisorFunction": {"INSIGHT#", "GUIDANCE#"},
        "MatchingFunction": {"LISTING#", "REQUEST#", "USER#"},  # USER#: share radius
        "DeliveryFunction": {"CLAIM#", "INSIGHT#", "MATCH#"},
    }
    # The derivation consumer's insights reach the publisher (insight.generated) and, through
    # the bus, the AI worker and the delivery worker, whose writes reach nobody.
    assert feeds["AggregatorFunction"] == {
        "PublisherFunction",
        "AdvisorFunction",
        "DeliveryFunction",
    }
    assert feeds["AdvisorFunction"] == set()
    assert feeds["DeliveryFunction"] == set()
    assert feeds["PublisherFunction"] == set()
    # The refresher's insights go the same way; nothing it writes reaches itself.
    assert feeds["RefreshFunction"] == {"PublisherFunction", "AdvisorFunction", "DeliveryFunction"}
    # Match sets become match.suggested through the publisher, and reach the delivery
    # worker (pushes), which writes nothing any consumer reads.
    assert feeds["MatchingFunction"] == {"PublisherFunction", "DeliveryFunction"}
