"""Item sizes as DynamoDB bills them: capacity units and the 400 KB limit are computed from
these (developer guide, "DynamoDB item sizes and formats"). The benchmarks meter with them,
and the tests of a layout's size bound (a week bucket under one write unit) assert them,
since moto does not bill by size."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["item_size", "number_size", "value_size"]


def number_size(text: str) -> int:
    """1 byte per two significant digits (leading/trailing zeros trimmed), plus 1 byte."""
    digits = "".join(map(str, Decimal(text).as_tuple().digits)).strip("0")
    return (max(len(digits), 1) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one AttributeValue in wire form, as DynamoDB counts them for capacity and the
    400 KB limit (developer guide, "DynamoDB item sizes and formats")."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return number_size(str(inner))
    if kind == "B":  # the raw bytes count, not their base64 text
        return len(inner) if isinstance(inner, bytes) else len(str(inner)) * 3 // 4
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: element}) for element in inner)
    # A list or map: 3 bytes, plus per element 1 byte and its size (and a map key's bytes).
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + value_size(v) for name, v in inner.items())
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Mapping[str, Any]) -> int:
    """An item's size: the bytes of each attribute name plus the size of its value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())
