"""A stand-in stream consumer for runtime tests: records what it receives and reports a
batch item failure for any listing whose notes say "poison"."""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
received: list[dict[str, Any]] = []


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        with _lock:
            received.append(record)
        image = record["dynamodb"].get("NewImage", {})
        if image.get("notes", {}).get("S") == "poison":
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            break  # records after a failure are retried anyway: stop, as DESIGN §5 asks
    return {"batchItemFailures": failures}


def reset() -> None:
    with _lock:
        received.clear()


def snapshot() -> list[dict[str, Any]]:
    with _lock:
        return list(received)
