"""boto3 plumbing: one configured client and the (de)serialisers. No table logic here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Standard retry mode backs off with jitter on throttling; timeouts keep a Lambda from
# hanging on a dead connection for its whole budget. Three attempts in all (botocore's
# `max_attempts` would count retries only): a throttled call sleeps at most 1 + 2 s before it
# gives up, so the API answers 503 + Retry-After and a consumer reports the record well
# within the 10 s function timeout (six attempts slept up to 31 s: the function timed out).
MAX_ATTEMPTS = 3
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=2,
    read_timeout=5,
    tcp_keepalive=True,
)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def make_client(region: str | None = None, endpoint_url: str | None = None) -> DynamoDBClient:
    # endpoint_url None lets boto3 honour AWS_ENDPOINT_URL(_DYNAMODB): no local branches here.
    return boto3.client(
        "dynamodb", region_name=region, endpoint_url=endpoint_url, config=CLIENT_CONFIG
    )


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


def deserialize(image: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in image.items()}


def values(**named: Any) -> dict[str, Any]:
    """ExpressionAttributeValues from keyword arguments: values(v=1) -> {':v': {'N': '1'}}."""
    return {f":{name}": _serializer.serialize(value) for name, value in named.items()}
