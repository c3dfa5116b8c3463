"""template.yaml is the single definition of the table and the IAM split of key families."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from harvest.local.filters import Pattern, compile_pattern, matches_any
from harvest.store import keys
from harvest.store.derived import bucket_key, marker_key
from harvest.store.items import FEED_PROJECTION
from harvest.store.refresh_index import DUE_INDEX
from harvest.tools.template import create_table_request, load_template, table_properties


def _template() -> dict[str, Any]:
    return load_template()


def test_table_has_stream_pitr_sse_and_ttl_on_expires_at() -> None:
    props = table_properties(_template())
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}


def test_table_keys_and_indexes_match_what_the_repository_queries() -> None:
    props = table_properties(_template())
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["PK", "SK"]
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {
        keys.OWNER_INDEX, keys.GEO_INDEX, keys.FEED_INDEX, keys.CROP_INDEX, DUE_INDEX
    }  # fmt: skip
    assert [k["AttributeName"] for k in indexes[keys.OWNER_INDEX]["KeySchema"]] == [
        "GSI1PK",
        "GSI1SK",
    ]
    assert [k["AttributeName"] for k in indexes[keys.GEO_INDEX]["KeySchema"]] == [
        "GSI2PK",
        "GSI2SK",
    ]
    assert [k["AttributeName"] for k in indexes[keys.FEED_INDEX]["KeySchema"]] == [
        "GSI3PK",
        "GSI3SK",
    ]
    # The same rows in the same order, one kind and crop per partition.
    assert [k["AttributeName"] for k in indexes[keys.CROP_INDEX]["KeySchema"]] == [
        "GSI4PK",
        "GSI3SK",
    ]
    assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])


def test_the_due_index_is_keyed_by_the_insights_sk_and_valid_until_and_projects_keys() -> None:
    """The refresher's Query (store.refresh_index) needs SK = CURRENT, validUntil < today."""
    props = table_properties(_template())
    [due] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == DUE_INDEX]
    assert [(k["AttributeName"], k["KeyType"]) for k in due["KeySchema"]] == [
        ("SK", "HASH"),
        ("validUntil", "RANGE"),
    ]
    assert due["Projection"] == {"ProjectionType": "KEYS_ONLY"}


@pytest.mark.parametrize("index", [keys.FEED_INDEX, keys.CROP_INDEX])
def test_the_feed_indexes_project_exactly_what_a_feed_item_shows(index: str) -> None:
    props = table_properties(_template())
    [feed] = [i for i in props["GlobalSecondaryIndexes"] if i["IndexName"] == index]
    assert feed["Projection"]["ProjectionType"] == "INCLUDE"
    assert feed["Projection"]["NonKeyAttributes"] == list(FEED_PROJECTION)
    assert "correlationId" not in FEED_PROJECTION


def test_create_table_request_is_derived_from_the_template() -> None:
    request = create_table_request("t", _template())
    assert request["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert request["KeySchema"] == table_properties(_template())["KeySchema"]


def _statements(function: str) -> list[dict[str, Any]]:
    """A function's policy statements; a conditional one (Fn::If) counts with its granting
    branch, so a test sees the most a role can ever hold."""
    policies = _template()["Resources"][function]["Properties"]["Policies"]
    found = []
    for policy in policies:
        if not isinstance(policy, dict):
            continue
        for statement in policy.get("Statement", []):
            found.append(statement["Fn::If"][1] if "Fn::If" in statement else statement)
    return found


def test_api_role_writes_core_key_families_only() -> None:
    writes = [
        s
        for s in _statements("ApiFunction")
        if any(a in s["Action"] for a in ("dynamodb:PutItem", "dynamodb:UpdateItem"))
    ]
    assert len(writes) == 1
    leading = writes[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert sorted(p.rstrip("*") for p in leading) == sorted(keys.CORE_PREFIXES)
    assert not any(p.startswith(keys.DERIVED_PREFIXES) for p in leading)


def test_no_statement_grants_unconditioned_writes_to_the_table() -> None:
    write_actions = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    for statement in _statements("ApiFunction"):
        actions = set(statement["Action"])
        if actions & write_actions:
            assert "dynamodb:LeadingKeys" in str(statement.get("Condition"))
        assert "dynamodb:*" not in actions


def test_key_families_are_disjoint() -> None:
    assert not set(keys.CORE_PREFIXES) & set(keys.DERIVED_PREFIXES)
    assert keys.is_core_key("LISTING#abc")
    assert keys.is_derived_key("AGG#u33d#tomato")
    assert not keys.is_core_key("AGG#u33d")


# ---------------------------------------------------------------- stream consumers (DESIGN §5, §8)

DYNAMODB_WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}
# SAM policy templates and managed policies that grant table writes.
WRITING_POLICY_TEMPLATES = {
    "DynamoDBCrudPolicy",
    "DynamoDBWritePolicy",
    "AmazonDynamoDBFullAccess",
    "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
}


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = _template()["Resources"]
    return resources


def _stream_events() -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event, properties) of every DynamoDB event of every serverless function."""
    found = []
    for logical_id, resource in _resources().items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for name, event in (resource["Properties"].get("Events") or {}).items():
            if event["Type"] == "DynamoDB":
                found.append((logical_id, name, event["Properties"]))
    return found


STREAM_EVENTS = _stream_events()
STREAM_IDS = [f"{function}.{event}" for function, event, _ in STREAM_EVENTS]


def _get_att(value: object) -> tuple[str, str] | None:
    target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(target, str):
        resource, _, attribute = target.partition(".")
        return resource, attribute
    if isinstance(target, list) and len(target) == 2:
        return str(target[0]), str(target[1])
    return None


def _lambda_record(
    pk: str, event_name: str = "INSERT", ttl: bool = False, sk: str | None = None
) -> dict[str, Any]:
    """A stream record as Lambda's filtering sees it (the shape it delivers to handlers)."""
    keys_image = {"PK": {"S": pk}, "SK": {"S": sk if sk is not None else pk.split("#", 1)[0]}}
    image = {**keys_image, "type": {"S": "listing"}, "version": {"N": "1"}}
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": 1_777_622_400,
        "Keys": keys_image,
        "SequenceNumber": "4200000000000000000001",
        "SizeBytes": 321,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if event_name != "REMOVE":
        body["NewImage"] = image
    if event_name != "INSERT":
        body["OldImage"] = image
    record: dict[str, Any] = {
        "eventID": "c4ca4238a0b923820dcc509a6f75849b",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "eu-central-1",
        "dynamodb": body,
        "eventSourceARN": "arn:aws:dynamodb:eu-central-1:123456789012:table/harvest-dev/stream/x",
    }
    if ttl:
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def _patterns(properties: dict[str, Any]) -> list[Pattern]:
    filters = properties["FilterCriteria"]["Filters"]
    assert filters, "an empty FilterCriteria would deliver every record"
    patterns = []
    for entry in filters:
        # Lambda takes the pattern as a JSON string; a YAML mapping would be a SAM-only shape.
        assert isinstance(entry["Pattern"], str)
        json.loads(entry["Pattern"])
        patterns.append(compile_pattern(entry["Pattern"]))
    return patterns


def test_the_publisher_is_a_stream_consumer_of_the_table() -> None:
    assert ("PublisherFunction", "Stream") in [(f, e) for f, e, _ in STREAM_EVENTS]
    [properties] = [p for f, _, p in STREAM_EVENTS if f == "PublisherFunction"]
    assert _get_att(properties["Stream"]) == ("HarvestTable", "StreamArn")
    function = _resources()["PublisherFunction"]["Properties"]
    assert function["Handler"] == "harvest.consumers.publisher.handler"
    assert function["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "HarvestEventBus"}


@pytest.mark.parametrize(("function", "event", "properties"), STREAM_EVENTS, ids=STREAM_IDS)
def test_mapping_reports_partial_failures_bisects_and_bounds_retries(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    assert "ReportBatchItemFailures" in properties["FunctionResponseTypes"]
    assert properties["BisectBatchOnFunctionError"] is True
    assert 0 <= properties["MaximumRetryAttempts"] <= 10
    assert 60 <= properties["MaximumRecordAgeInSeconds"] <= 604_800


@pytest.mark.parametrize(("function", "event", "properties"), STREAM_EVENTS, ids=STREAM_IDS)
def test_mapping_sends_failures_to_an_sqs_queue_of_the_template(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    on_failure = properties["DestinationConfig"]["OnFailure"]
    # Type SQS makes SAM grant sqs:SendMessage on exactly this queue.
    assert on_failure["Type"] == "SQS"
    target = _get_att(on_failure["Destination"])
    assert target is not None
    queue, attribute = target
    assert attribute == "Arn"
    assert _resources()[queue]["Type"] == "AWS::SQS::Queue"


# Sort keys each derived family uses (schemas/key-design.md): a filter must miss all of them.
DERIVED_SORT_KEYS = ("DAY#2026-05-01", "MARKER", "CURRENT", "ENTRY", "ANSWER", "CALL#abc")


def _written_families(function: str) -> set[str]:
    """The key families a function's role may write (LeadingKeys of its write statements)."""
    families: set[str] = set()
    for statement in _statements(function):
        if set(_as_list(statement["Action"])) & DYNAMODB_WRITE_ACTIONS:
            leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            families |= {pattern.rstrip("*") for pattern in leading}
    return families


def _consumes(patterns: list[Pattern], family: str) -> bool:
    return any(
        matches_any(patterns, _lambda_record(f"{family}u33db#tomato", name, sk=sk))
        for name in ("INSERT", "MODIFY", "REMOVE")
        for sk in (*DERIVED_SORT_KEYS, family.rstrip("#"))
    )


@pytest.mark.parametrize(("function", "event", "properties"), STREAM_EVENTS, ids=STREAM_IDS)
def test_filters_are_json_and_miss_own_writes_bookkeeping_and_ttl_deletes(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    patterns = _patterns(properties)
    # Invariant 4: no consumer takes its own writes (no feedback loop) ...
    for family in _written_families(function):
        assert not _consumes(patterns, family), (function, family)
    # ... nor bookkeeping, nor the AI worker's cache and usage records (nobody reacts to them).
    for family in ("IDEMPOTENCY#", "USAGE#", "AICACHE#", "AIUSAGE#"):
        assert not _consumes(patterns, family), (function, family)
    # A TTL deletion is never a user deletion.
    assert not matches_any(patterns, _lambda_record("LISTING#x", "REMOVE", ttl=True))


def test_publisher_filter_takes_inserts_and_updates_of_published_families_only() -> None:
    [properties] = [p for f, _, p in STREAM_EVENTS if f == "PublisherFunction"]
    patterns = _patterns(properties)
    for prefix in ("LISTING#", "REQUEST#", "CLAIM#", "USER#", "GUIDANCE#", "INSIGHT#"):
        assert matches_any(patterns, _lambda_record(f"{prefix}x", "INSERT"))
        assert matches_any(patterns, _lambda_record(f"{prefix}x", "MODIFY"))
        assert not matches_any(patterns, _lambda_record(f"{prefix}x", "REMOVE"))
    assert not matches_any(patterns, _lambda_record("USAGE#ann#2026-05-01", "MODIFY"))
    # Derived writes other than insights never become events.
    for prefix in ("AGG#", "AICACHE#", "AIUSAGE#"):
        assert not _consumes(patterns, prefix), prefix


def test_publisher_role_puts_events_on_its_bus_and_cannot_write_the_table() -> None:
    policies = _resources()["PublisherFunction"]["Properties"]["Policies"]
    for policy in policies:
        # a managed policy or SAM policy template by name, or {TemplateName: parameters}
        names = {policy} if isinstance(policy, str) else set(policy) - {"Version", "Statement"}
        assert not names & WRITING_POLICY_TEMPLATES
    statements = [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert not actions & DYNAMODB_WRITE_ACTIONS
    assert not any(a in ("*", "dynamodb:*") for a in actions)
    [put] = [s for s in statements if "events:PutEvents" in s["Action"]]
    assert _get_att(put["Resource"]) == ("HarvestEventBus", "Arn")


def _alarms() -> list[dict[str, Any]]:
    return [r["Properties"] for r in _resources().values() if r["Type"] == "AWS::CloudWatch::Alarm"]


@pytest.mark.parametrize(("function", "event", "properties"), STREAM_EVENTS, ids=STREAM_IDS)
def test_every_dlq_and_every_consumer_iterator_age_has_an_alarm(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    target = _get_att(properties["DestinationConfig"]["OnFailure"]["Destination"])
    assert target is not None
    queue = target[0]
    depth = [
        a
        for a in _alarms()
        if a["Namespace"] == "AWS/SQS"
        and a["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and [_get_att(d["Value"]) for d in a["Dimensions"]] == [(queue, "QueueName")]
    ]
    assert len(depth) == 1, f"no depth alarm on {queue}"
    assert depth[0]["Threshold"] == 0
    assert depth[0]["ComparisonOperator"] == "GreaterThanThreshold"
    age = [
        a
        for a in _alarms()
        if a["Namespace"] == "AWS/Lambda"
        and a["MetricName"] == "IteratorAge"
        and [d["Value"] for d in a["Dimensions"]] == [{"Ref": function}]
    ]
    assert len(age) == 1, f"no IteratorAge alarm on {function}"
    assert age[0]["Statistic"] == "Maximum"
    assert age[0]["Threshold"] <= 60_000


# ---------------------------------------------------------------- derivation consumer (DESIGN §5)


def test_the_derivation_consumer_is_a_stream_consumer_of_the_table() -> None:
    [properties] = [p for f, _, p in STREAM_EVENTS if f == "AggregatorFunction"]
    assert _get_att(properties["Stream"]) == ("HarvestTable", "StreamArn")
    function = _resources()["AggregatorFunction"]["Properties"]
    assert function["Handler"] == "harvest.consumers.derivation.handler"


def test_aggregator_filter_takes_inserts_and_updates_of_listings_and_requests_only() -> None:
    [properties] = [p for f, _, p in STREAM_EVENTS if f == "AggregatorFunction"]
    patterns = _patterns(properties)
    for prefix in ("LISTING#", "REQUEST#"):
        assert matches_any(patterns, _lambda_record(f"{prefix}x", "INSERT"))
        assert matches_any(patterns, _lambda_record(f"{prefix}x", "MODIFY"))
        assert not matches_any(patterns, _lambda_record(f"{prefix}x", "REMOVE"))
    for prefix in ("CLAIM#", "USER#", "GUIDANCE#", "USAGE#", "IDEMPOTENCY#"):
        assert not matches_any(patterns, _lambda_record(f"{prefix}x", "MODIFY"))


def test_derivation_role_writes_buckets_and_insights_only() -> None:
    policies = _resources()["AggregatorFunction"]["Properties"]["Policies"]
    assert all(isinstance(policy, dict) for policy in policies)
    statements = [s for p in policies for s in p.get("Statement", [])]
    actions = {a for s in statements for a in _as_list(s["Action"])}
    assert not any(a in ("*", "dynamodb:*") for a in actions)
    assert not actions & {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Scan"}
    writes = [s for s in statements if set(_as_list(s["Action"])) & DYNAMODB_WRITE_ACTIONS]
    assert writes
    for statement in statements:
        if not any(a.startswith("dynamodb:") for a in _as_list(statement["Action"])):
            continue
        assert _get_att(statement["Resource"]) == ("HarvestTable", "Arn")
        leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
        assert set(leading) <= {"AGG#*", "INSIGHT#*"}
        assert not any(p.rstrip("*").startswith(keys.CORE_PREFIXES) for p in leading)
    assert _written_families("AggregatorFunction") == {"AGG#", "INSIGHT#"}
    # Insights are written by UpdateItem only (the newer-computation guard is a condition).
    [insights] = [s for s in writes if "INSIGHT#*" in str(s["Condition"])]
    assert _as_list(insights["Action"]) == ["dynamodb:UpdateItem"]


@pytest.mark.parametrize(("function", "event", "properties"), STREAM_EVENTS, ids=STREAM_IDS)
def test_no_stream_reader_takes_day_buckets_or_markers(
    function: str, event: str, properties: dict[str, Any]
) -> None:
    patterns = _patterns(properties)
    markers = [marker_key("LISTING#listing-0001"), marker_key("REQUEST#request-0001")]
    buckets = [
        bucket_key("u33d", "tomato", date(2026, 5, 1)),
        bucket_key("u33db2", "all", date(2026, 5, 1)),
    ]
    for key in markers:
        for name in ("INSERT", "MODIFY", "REMOVE"):
            assert not matches_any(patterns, _lambda_record(key["PK"], name, sk=key["SK"]))
    for key in buckets:
        taken = {
            name: matches_any(patterns, _lambda_record(key["PK"], name, sk=key["SK"]))
            for name in ("INSERT", "MODIFY", "REMOVE")
        }
        # The derivation consumer refreshes insights from its own batch: no bucket record
        # needs to be read back from the stream.
        assert taken == {"INSERT": False, "MODIFY": False, "REMOVE": False}, (function, key)


# ---------------------------------------------------------------- AI worker (DESIGN §5)


def test_ai_worker_writes_cache_and_usage_only_and_invokes_the_configured_model_only() -> None:
    function = _resources()["AdvisorFunction"]["Properties"]
    assert function["Handler"] == "harvest.consumers.advisor.handler"
    assert function["Environment"]["Variables"]["BEDROCK_MODEL_ID"] == {"Ref": "BedrockModelId"}
    assert _written_families("AdvisorFunction") == {"AICACHE#", "AIUSAGE#"}
    statements = _statements("AdvisorFunction")
    bedrock = [
        s for s in statements if any(a.startswith("bedrock:") for a in _as_list(s["Action"]))
    ]
    assert [_as_list(s["Action"]) for s in bedrock] == [["bedrock:InvokeModel"]]
    resource = bedrock[0]["Resource"]["Fn::Sub"]
    assert resource.endswith("::foundation-model/${BedrockModelId}")
    assert "*" not in resource
    # Without a model id the statement is left out: no Bedrock access at all.
    [conditional] = [s for p in function["Policies"] for s in p["Statement"] if "Fn::If" in s]
    assert conditional["Fn::If"][0] == "HasBedrockModel"
    assert conditional["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    for statement in statements:
        if any(a.startswith("dynamodb:") for a in _as_list(statement["Action"])):
            leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            assert not any(p.rstrip("*").startswith(keys.CORE_PREFIXES) for p in leading)


def test_only_the_ai_worker_may_call_bedrock() -> None:
    for logical_id, resource in _resources().items():
        if resource["Type"] != "AWS::Serverless::Function" or logical_id == "AdvisorFunction":
            continue
        actions = {a for s in _statements(logical_id) for a in _as_list(s["Action"])}
        assert not any(a.startswith("bedrock:") for a in actions), logical_id


def test_k_anonymity_is_one_parameter_for_api_and_workers() -> None:
    variables = _template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SIGNAL_K_ANONYMITY"] == {"Ref": "SignalKAnonymity"}
    assert _template()["Parameters"]["SignalKAnonymity"]["Default"] == 3


def test_every_function_built_with_the_makefile_has_its_build_target() -> None:
    """`sam build` calls make build-<LogicalId>; a function without one fails to build."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text(encoding="utf-8")
    [functions] = re.findall(r"^FUNCTIONS := (.+)$", makefile, flags=re.MULTILINE)
    for logical_id, resource in _resources().items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        assert resource["Metadata"]["BuildMethod"] == "makefile", logical_id
        assert logical_id in functions.split(), logical_id


def test_cors_origins_are_a_parameter_of_the_api_function_and_preflights_skip_the_authorizer() -> (
    None
):
    template = _template()
    api = template["Resources"]["ApiFunction"]["Properties"]
    pattern = re.compile(template["Parameters"]["CorsAllowedOrigins"]["AllowedPattern"])
    preflights = [
        event["Properties"]
        for event in api["Events"].values()
        if event["Properties"].get("Method") == "OPTIONS"
    ]

    assert api["Environment"]["Variables"]["CORS_ALLOWED_ORIGINS"] == {"Ref": "CorsAllowedOrigins"}
    assert pattern.match("*")
    assert pattern.match("https://a.example.org,http://localhost:5173")
    assert not pattern.match("https://a.example.org, javascript:x")
    assert preflights == [
        {
            "RestApiId": {"Ref": "HarvestApi"},
            "Path": "/{proxy+}",
            "Method": "OPTIONS",
            "Auth": {"Authorizer": "NONE"},
        }
    ]
