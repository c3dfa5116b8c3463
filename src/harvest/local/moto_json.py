"""Answer moto's DynamoDB and DynamoDB Streams item calls at the cost of one `json.dumps`.

moto 5 serialises every response by walking the operation's botocore output shape member by
member, through a chain of attribute pickers and alias providers. For item calls that is most
of their time: a GetRecords or Scan answer is a tree of AttributeValue structures, and
profiling the pipeline's delivery property test put a third of the run in that walk (42 s of
143 s; 343,000 member visits for 1,259 calls). The local runtime's API answers wait on it too.

What moto hands the serializer for these calls is already the wire form (dicts of DynamoDB
JSON, numbers as strings), so the walk only drops absent (None) members and top-level members
outside the output shape (DeleteItem's `ConsumedCapacityUnits`), and writes a stream record's
datetime as a Unix timestamp. This module does those three directly, and falls back to
moto's own serializer for anything it cannot vouch for: another operation, an error, a
non-JSON value (bytes, say) or a binary attribute (`B`/`BS`, which the shape walk base64-encodes).
tests/integration/test_moto_json.py checks that both give the same answers; with
HARVEST_MOTO_JSON_CHECK=1 every fast answer is compared with moto's own (a debugging aid).
"""

from __future__ import annotations

import calendar
import json
import os
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import get_service_model
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

__all__ = ["FAST_OPERATIONS", "install"]

type Response = tuple[int, dict[str, Any], str | bytes]

# The item and stream calls of our code: results built from items (and stream records).
FAST_OPERATIONS = frozenset(
    {
        "BatchGetItem",
        "BatchWriteItem",
        "DeleteItem",
        "GetItem",
        "GetRecords",
        "GetShardIterator",
        "PutItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "TransactWriteItems",
        "UpdateItem",
    }
)
_BINARY = ("B", "BS")
_installed: dict[type[BaseResponse], Callable[[BaseResponse, ActionResult], Response]] = {}


class _NotPlain(Exception):
    """A value the fast path does not vouch for: moto's serializer answers instead."""


def _pruned(value: Any) -> Any:
    """`value` without None members of objects; _NotPlain for anything not plain JSON."""
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        if any(tag in value for tag in _BINARY):
            raise _NotPlain
        return {str(k): _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if any(item is None for item in value):
            raise _NotPlain
        return [_pruned(item) for item in value]
    if isinstance(value, datetime):  # a stream record's ApproximateCreationDateTime
        return _unix_timestamp(value)
    raise _NotPlain


def _unix_timestamp(value: datetime) -> int | float:
    """As moto's TimestampSerializer writes DynamoDB's (unixtimestamp) timestamps: whole
    seconds, with milliseconds when there are any (naive values are UTC)."""
    seconds = calendar.timegm(value.utctimetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


@cache
def _content_type(service_name: str) -> str:
    version = get_service_model(service_name).metadata["jsonVersion"]
    return f"application/x-amz-json-{version}"


@cache
def _output_members(service_name: str, operation: str) -> frozenset[str]:
    """The top-level members the operation answers with: moto's results carry a few of their
    own (DeleteItem's `ConsumedCapacityUnits`), which the shape walk leaves out."""
    shape = get_service_model(service_name).operation_model(operation).output_shape
    return frozenset(shape.members) if shape is not None else frozenset()


def _fast(response: BaseResponse, result: ActionResult) -> Response | None:
    # DynamoResult only converts moto's item objects to dicts up front; a subclass of its
    # own (a paginated result, say) may do more, and is left to moto.
    if type(result) not in (ActionResult, DynamoResult) or not isinstance(result.result, dict):
        return None
    operation = response._get_action()
    if operation not in FAST_OPERATIONS:
        return None
    members = _output_members(response.boto3_service_name, operation)
    try:
        body = _pruned({k: v for k, v in result.result.items() if k in members})
    except _NotPlain:
        return None
    headers: dict[str, Any] = {"Content-Type": _content_type(response.boto3_service_name)}
    headers.update(response.response_headers)
    return 200, headers, json.dumps(body)


def _serialized_for(
    original: Callable[[BaseResponse, ActionResult], Response],
) -> Callable[[BaseResponse, ActionResult], Response]:
    def serialized(self: BaseResponse, action_result: ActionResult) -> Response:
        fast = _fast(self, action_result)
        if fast is None:
            return original(self, action_result)
        if os.environ.get("HARVEST_MOTO_JSON_CHECK") == "1":
            slow = original(self, action_result)
            if (slow[0], json.loads(slow[2])) != (fast[0], json.loads(fast[2])):
                raise AssertionError(f"moto_json differs from moto: {slow} != {fast}")
        return fast

    return serialized


def install() -> None:
    """Route the item calls of moto's DynamoDB and Streams handlers through the fast path
    (idempotent, process-wide)."""
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        if handler not in _installed:
            _installed[handler] = handler.serialized
            handler.serialized = _serialized_for(handler.serialized)  # type: ignore[method-assign,assignment]
