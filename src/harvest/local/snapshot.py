"""Table snapshots for engines without their own storage (moto): DynamoDB JSON lines.

Items are written exactly as the low-level API returns them (type-tagged DynamoDB JSON), so a
round trip keeps every Decimal, set and binary value; plain-JSON conversions (dynamodb-json)
are lossy for numbers and are kept for the data-engineer views only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH = 25


def scan_items(client: DynamoDBClient, table: str) -> Iterator[dict[str, Any]]:
    start: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        yield from page.get("Items", [])
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def export_table(client: DynamoDBClient, table: str, path: Path) -> int:
    """Write every item to `path` atomically (a crash mid-export keeps the old snapshot)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8") as handle:
        for item in scan_items(client, table):
            handle.write(json.dumps(item, sort_keys=True) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
    return count


def import_table(client: DynamoDBClient, table: str, path: Path) -> int:
    if not path.exists():
        return 0
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for start in range(0, len(items), BATCH):
        requests: dict[str, Any] = {
            table: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]
        }
        while requests:
            response = client.batch_write_item(RequestItems=requests)
            requests = dict(response.get("UnprocessedItems") or {})
    return len(items)
