"""The WebSocket API's key family in template.yaml: only its two functions may touch
CONN#/TOPIC# keys, they touch nothing else, and no stream reader ever takes them."""

from __future__ import annotations

from typing import Any

import pytest

from harvest.local.mappings import mappings_from_template
from harvest.local.websocket import routes_from_template
from harvest.store import keys
from harvest.tools.template import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FAMILY = {"CONN#*", "TOPIC#*"}


WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
          "dynamodb:BatchWriteItem"}  # fmt: skip


def _leading_keys(function: str) -> list[tuple[set[str], set[str]]]:
    """(actions, leading-key patterns) of each DynamoDB statement; {"*"} without a
    condition (the API's reads)."""
    policies = RESOURCES[function]["Properties"].get("Policies") or []
    statements = [s for p in policies if isinstance(p, dict) for s in p.get("Statement", [])]
    found = []
    for statement in statements:
        if "Action" not in statement:  # Fn::If around a statement (the AI worker's Bedrock)
            continue
        action = statement["Action"]
        actions = {str(a) for a in (action if isinstance(action, list) else [action])}
        if any(a.startswith("dynamodb:") for a in actions):
            condition = (statement.get("Condition") or {}).get("ForAllValues:StringLike", {})
            found.append((actions, set(condition.get("dynamodb:LeadingKeys", ["*"]))))
    return found


def test_the_connection_family_is_neither_core_nor_derived() -> None:
    for prefix in keys.CONNECTION_PREFIXES:
        assert not keys.is_core_key(prefix + "x")
        assert not keys.is_derived_key(prefix + "x")


@pytest.mark.parametrize("function", ["WebSocketFunction", "DeliveryFunction"])
def test_the_websocket_functions_touch_their_family_only(function: str) -> None:
    statements = _leading_keys(function)
    assert statements
    assert all(leading == FAMILY for _, leading in statements)


def test_no_other_function_may_touch_the_family_and_the_authorizer_no_table() -> None:
    assert _leading_keys("WebSocketAuthorizerFunction") == []
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        if logical_id in ("WebSocketFunction", "DeliveryFunction"):
            continue
        for actions, leading in _leading_keys(logical_id):
            assert not {p for p in leading if p.startswith(("CONN#", "TOPIC#"))}, logical_id
            if leading == {"*"}:  # unconditional: reads only (the API's)
                assert not actions & WRITES, logical_id


def test_no_stream_reader_takes_connection_items() -> None:
    for mapping in mappings_from_template(TEMPLATE, "t"):
        for pk in ("CONN#abc", "TOPIC#claims#alice", "TOPIC#signals#u33d"):
            for name in ("INSERT", "MODIFY", "REMOVE"):
                record = {"eventName": name, "dynamodb": {"Keys": {"PK": {"S": pk}}}}
                assert not any(p.matches(record) for p in mapping.patterns), (mapping, pk)


def test_the_local_gateway_reads_the_routes_of_the_template() -> None:
    routes = routes_from_template(TEMPLATE, "t")
    assert set(routes) == {"$connect", "$disconnect", "subscribe", "unsubscribe", "$default"}
    assert {r.handler for r in routes.values()} == {"harvest.api.websocket.handler"}
    assert [k for k, r in routes.items() if r.authorized] == ["$connect"]
    assert routes["$connect"].token_parameter == "token"
    assert {k for k, r in routes.items() if r.responds} == {"subscribe", "unsubscribe", "$default"}
