"""What the security tests share: the route table read from the app itself, problem+json
checks, table snapshots and stream records. Imported as `security.helpers` (tests/ is on
sys.path)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from harvest.api.gate import PUBLIC_PATHS
from harvest.local.adapter import public_routes
from harvest.tools.template import load_template
from support.apigw import ApiResponse

HTTP_METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM_FIELDS = frozenset({"type", "title", "status", "detail"})
_PARAMETER = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # the OpenAPI template, e.g. /listings/{listingId}

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def parameters(self) -> list[str]:
        return _PARAMETER.findall(self.path)

    def url(self, values: dict[str, str]) -> str:
        return _PARAMETER.sub(lambda match: values[match.group(1)], self.path)


def public_paths() -> frozenset[str]:
    """Routes without the authorizer, as template.yaml declares them; the handler's own gate
    must agree, or one of the two would let a request through that the other refuses."""
    declared = frozenset(public_routes(load_template()))
    assert declared == PUBLIC_PATHS, "template.yaml and api.gate disagree on public routes"
    return declared


def routes_of(openapi: dict[str, Any]) -> list[Route]:
    """Every route the app serves: the operations of its OpenAPI document plus the public
    routes of template.yaml (/openapi.json documents everything but itself)."""
    found = {
        Route(method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }
    found |= {Route("GET", path) for path in public_paths()}
    return sorted(found, key=lambda route: (route.path, route.method))


def assert_problem(response: ApiResponse, status: int) -> None:
    """An RFC 7807 problem with the given status, whatever produced it."""
    assert response.status == status, (status, response.status, response.raw[:500])
    assert response.header("Content-Type") == "application/problem+json", response.headers
    assert isinstance(response.body, dict), response.raw[:500]
    assert set(response.body) >= PROBLEM_FIELDS, response.body
    assert response.body["status"] == status, response.body
    assert all(isinstance(response.body[name], str) for name in ("type", "title", "detail"))


def table_snapshot(table: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    """Every item of a moto table, whole and in key order: equal snapshots mean nothing was
    written. Read from moto's memory, not with Scan: serializing a scan response costs moto
    ~100 ms a call, which dominated the fuzzing (the suite runs on moto only)."""
    stored = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table)
    return [item.to_json()["Attributes"] for item in stored.all_items()]


def assert_answered_cleanly(
    response: ApiResponse, table: str, before: list[dict[str, Any]]
) -> None:
    """Whatever the input: never a 5xx, and a refusal is a problem+json that wrote nothing
    (`before` is the table's snapshot taken before the call)."""
    assert response.status < 500, (response.status, response.raw[:300])
    if response.status >= 400:
        assert_problem(response, response.status)
        assert table_snapshot(table) == before, (response.status, response.body)


def stream_record(
    dynamodb: Any, table: str, key: dict[str, str], sequence: int, old: Any = None
) -> dict[str, Any]:
    """A Lambda stream record of an item as stored now (NEW_AND_OLD_IMAGES; INSERT unless an
    old image is given), as an event source mapping delivers it to a consumer."""
    item = dynamodb.get_item(TableName=table, Key={k: {"S": v} for k, v in key.items()})["Item"]
    change: dict[str, Any] = {
        "Keys": {"PK": item["PK"], "SK": item["SK"]},
        "NewImage": item,
        "SequenceNumber": f"{sequence:021d}",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        change["OldImage"] = old
    return {
        "eventID": f"sec-{sequence}",
        "eventName": "INSERT" if old is None else "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }
