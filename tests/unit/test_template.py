"""template.yaml is the single definition of the table and the IAM split of key families."""

from __future__ import annotations

from typing import Any

from harvest.store import keys
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
    assert set(indexes) == {keys.OWNER_INDEX, keys.GEO_INDEX}
    assert [k["AttributeName"] for k in indexes[keys.OWNER_INDEX]["KeySchema"]] == [
        "GSI1PK",
        "GSI1SK",
    ]
    assert [k["AttributeName"] for k in indexes[keys.GEO_INDEX]["KeySchema"]] == [
        "GSI2PK",
        "GSI2SK",
    ]
    assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])


def test_create_table_request_is_derived_from_the_template() -> None:
    request = create_table_request("t", _template())
    assert request["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert request["KeySchema"] == table_properties(_template())["KeySchema"]


def _statements(function: str) -> list[dict[str, Any]]:
    policies = _template()["Resources"][function]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["Statement"]]


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
