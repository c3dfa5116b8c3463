"""JSON lines for stored items, without losing a digit of a DynamoDB number.

Two views: DynamoDB JSON (type-tagged, numbers as strings: what exports and sample-data.jsonl
hold) and plain JSON (numbers as JSON numbers). The plain view is ours rather than
dynamodb_json's because that library turns every fractional number into a float and parses
strings as dates (see tests/unit/test_dynamodb_json.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from harvest.store.dynamo import serialize


def dynamodb_json_line(item: Mapping[str, Any]) -> str:
    return json.dumps(serialize(item), ensure_ascii=False)


def plain_number(value: Decimal) -> int | float | str:
    """An int or float when it denotes exactly `value`; otherwise the decimal string."""
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    # repr() is the shortest string that round-trips the float, so this asks whether a JSON
    # reader would get `value` back digit for digit.
    if Decimal(repr(as_float)) == value:
        return as_float
    return str(value)


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_number(value)
    if isinstance(value, Mapping):
        return {str(name): plain(inner) for name, inner in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((plain(inner) for inner in value), key=str)
    if isinstance(value, list | tuple):
        return [plain(inner) for inner in value]
    return value


def plain_json_line(item: Mapping[str, Any]) -> str:
    return json.dumps(plain(item), ensure_ascii=False)
