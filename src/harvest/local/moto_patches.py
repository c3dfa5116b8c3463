"""Make moto behave like DynamoDB where the local runtime depends on it.

1. Serialised writes. DynamoDB applies conflicting writes one at a time; moto's server
   threads do not lock, so two racing transactions could both pass their conditions.
2. Transactions in time independent of table size. moto deep-copies the whole table (items,
   indexes and every stream record so far) before each transaction operation to be able to
   roll back: 50 ms per transaction at 100 items, 400 ms at 1,000. Here conditions are
   checked first for every operation, under the lock, and writes happen only when all hold,
   so there is nothing to roll back. Put/Delete/ConditionCheck (all our code sends) cannot
   fail after their condition held; an Update that fails validation midway restores the
   items it touched.
3. Item calls answered at the cost of one `json.dumps` (harvest.local.moto_json).

Applied once per process by the moto engine of the local runtime; the semantics are the ones
tests/integration pins on plain moto and on DynamoDB Local.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

from harvest.local import moto_json

_LOCK = threading.RLock()
_applied = False
_LOCKED = ("put_item", "update_item", "delete_item", "get_item", "batch_write_item")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        operations: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        errors: list[tuple[str | None, str | None, Any]] = []
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            key = _key_of(backend, op_type, op)
            marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            operations.append((op_type, op, key))
            current = backend.get_item(op["TableName"], key)
            expression = op.get("ConditionExpression")
            if expression is not None and not get_filter_expression(
                expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
            else:
                errors.append((None, None, None))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        _apply(backend, operations)


def _apply(
    backend: DynamoDBBackend, operations: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    touched = [
        (op["TableName"], key, copy.deepcopy(backend.get_item(op["TableName"], key)))
        for op_type, op, key in operations
        if op_type != "ConditionCheck"
    ]
    try:
        for op_type, op, key in operations:
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if op_type == "Put":
                backend.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                backend.delete_item(op["TableName"], key)
            elif op_type == "Update":
                backend.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names or {},
                    expression_attribute_values=values or {},
                )
    except Exception:
        for table_name, key, before in touched:
            if before is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, before.to_json()["Attributes"])
        raise


def apply() -> None:
    """Install the patches (idempotent)."""
    global _applied  # noqa: PLW0603 - one-time process-wide switch
    with _LOCK:
        if _applied:
            return
        for name in _LOCKED:
            setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign,assignment]
        moto_json.install()
        _applied = True
