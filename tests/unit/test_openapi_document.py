"""The OpenAPI document: valid OpenAPI 3.1 (openapi-spec-validator), checked in as
schemas/openapi.json exactly as /openapi.json serves it, and complete for a generated client:
problem+json on every error path, the bearer scheme on every protected operation, the HTTP
headers of the contract, JSON numbers for quantities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from harvest.api import contract
from harvest.api.app import app, handler
from harvest.api.gate import PUBLIC_PATHS
from harvest.api.problems import PROBLEM_JSON, STATUS_BY_ERROR
from harvest.domain.claim import ClaimStatus
from harvest.domain.listing import ListingStatus
from support.apigw import FakeLambdaContext, event

CHECKED_IN = Path(__file__).resolve().parents[2] / "schemas" / "openapi.json"
DOCUMENT: dict[str, Any] = contract.document(app)
METHODS = ("get", "put", "post", "patch", "delete")
OPERATIONS = [
    (method, path, operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if method in METHODS
]


def _header_names(operation: dict[str, Any]) -> set[str]:
    names = set()
    for given in operation.get("parameters", []):
        parameter = given
        if "$ref" in given:
            parameter = DOCUMENT["components"]["parameters"][given["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "header":
            names.add(parameter["name"])
    return names


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1")

    validate(DOCUMENT)  # raises on any violation


def test_the_validator_catches_a_broken_document() -> None:
    broken = json.loads(json.dumps(DOCUMENT))
    broken["paths"]["/health"]["get"]["responses"]["200"]["content"] = "not a map"

    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_the_checked_in_document_is_what_the_code_serves() -> None:
    served = handler(event("GET", "/openapi.json", user=None), FakeLambdaContext())

    assert served["statusCode"] == 200
    assert served["body"] == CHECKED_IN.read_text(encoding="utf-8"), (
        "schemas/openapi.json drifted from the code; run `make schemas`"
    )


def test_operation_ids_are_unique_method_names() -> None:
    ids = [operation["operationId"] for _, _, operation in OPERATIONS]

    assert len(ids) == len(set(ids))
    assert all(identifier.isidentifier() and "_" not in identifier for identifier in ids)


def test_no_powertools_error_shape_is_left() -> None:
    text = json.dumps(DOCUMENT)

    assert "HTTPValidationError" not in text
    assert "ResponseValidationError" not in text


def test_every_error_response_is_a_problem() -> None:
    for method, path, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"][PROBLEM_JSON]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)


def test_protected_operations_need_the_bearer_scheme_and_document_401() -> None:
    scheme = DOCUMENT["components"]["securitySchemes"][contract.SECURITY_SCHEME]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")

    for method, path, operation in OPERATIONS:
        if path in PUBLIC_PATHS:
            assert operation["security"] == [], path
            assert "401" not in operation["responses"]
        else:
            assert operation["security"] == [{contract.SECURITY_SCHEME: []}], (method, path)
            assert "401" in operation["responses"], (method, path)


def test_every_status_the_error_table_can_send_is_documented_somewhere() -> None:
    documented = {int(s) for _, _, operation in OPERATIONS for s in operation["responses"]}

    assert {status for _, status, _ in STATUS_BY_ERROR} <= documented


def test_bodies_document_413_415_and_422_and_writes_their_headers() -> None:
    for method, path, operation in OPERATIONS:
        responses = operation["responses"]
        headers = _header_names(operation)
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), (method, path)
        if method == "get":
            assert "If-None-Match" in headers, path
            assert "304" in responses, path
            assert "ETag" in responses["200"]["headers"], path
        if method == "patch":
            assert "If-Match" in headers, path
            assert {"412", "428"} <= set(responses), path
        if method == "post" and "201" in responses:
            assert "Idempotency-Key" in headers, path
            assert {"Location", "ETag"} <= set(responses["201"]["headers"]), path


def test_429_and_503_announce_retry_after() -> None:
    for method, path, operation in OPERATIONS:
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in operation["responses"][status]["headers"], (method, path)
    guidance = DOCUMENT["paths"]["/me/guidance"]["post"]["responses"]
    assert "429" in guidance


def test_quantities_are_numbers_not_strings() -> None:
    schemas = DOCUMENT["components"]["schemas"]

    for name, field in [
        ("ListingCreate", "quantity"),
        ("RequestCreate", "quantity"),
        ("ClaimCreate", "quantity"),
        ("ListingOut", "quantityTotal"),
        ("ClaimOut", "quantity"),
    ]:
        assert schemas[name]["properties"][field]["type"] == "number", (name, field)
    assert "whole number" in schemas["ListingCreate"]["properties"]["quantity"]["description"]


def test_statuses_and_tiers_are_enums_of_the_domain_values() -> None:
    schemas = DOCUMENT["components"]["schemas"]

    assert schemas["ListingStatus"]["enum"] == [status.value for status in ListingStatus]
    assert schemas["ClaimStatus"]["enum"] == [status.value for status in ClaimStatus]
    assert schemas["Tier"]["enum"] == ["free", "supporter", "pro"]
    assert schemas["ListingOut"]["properties"]["status"] == {
        "$ref": "#/components/schemas/ListingStatus"
    }


def test_every_operation_has_one_declared_tag_and_every_tag_is_used() -> None:
    declared = [tag["name"] for tag in DOCUMENT["tags"]]
    used = {operation["tags"][0] for _, _, operation in OPERATIONS}

    assert all(len(operation["tags"]) == 1 for _, _, operation in OPERATIONS)
    assert all(tag["description"] for tag in DOCUMENT["tags"])
    assert used == set(declared)
    assert contract.tag_of("/me/listings") == contract.tag_of("/listings/{listingId}")
    assert contract.tag_of("/listings/{listingId}/claims") == "claims"
    assert contract.tag_of("/me") == "profile"
