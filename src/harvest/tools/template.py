"""Reads template.yaml so that tests and tools build the table from the deployed definition,
never from a second copy."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_LOGICAL_ID = "HarvestTable"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that keeps CloudFormation short-form tags (!Ref, !Sub...) as plain data."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def find_template() -> Path:
    """HARVEST_TEMPLATE, else the template.yaml of the checkout this package runs from or cwd."""
    explicit = os.environ.get("HARVEST_TEMPLATE")
    if explicit:
        return Path(explicit)
    candidates = [Path.cwd(), *Path(__file__).resolve().parents]
    for directory in candidates:
        path = directory / "template.yaml"
        if path.is_file():
            return path
    raise FileNotFoundError("template.yaml not found; set HARVEST_TEMPLATE")


@cache
def load_template(path: Path | None = None) -> dict[str, Any]:
    with (path or find_template()).open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506  # nosec B506
    if not isinstance(document, dict):
        raise ValueError("template.yaml is not a mapping")
    return document


def table_properties(template: dict[str, Any] | None = None) -> dict[str, Any]:
    resource = (template or load_template())["Resources"][TABLE_LOGICAL_ID]
    properties: dict[str, Any] = resource["Properties"]
    return properties


def create_table_request(table_name: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """CreateTable arguments taken from the template's table resource."""
    props = table_properties(template)
    request: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": stream["StreamViewType"],
        }
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True}
    return request


def create_table(
    client: DynamoDBClient, table_name: str, template: dict[str, Any] | None = None
) -> None:
    """Create the table (and its TTL setting) exactly as template.yaml declares it."""
    client.create_table(**create_table_request(table_name, template))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    ttl = table_properties(template).get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )
