"""Valid request bodies with dates relative to now, so tests never expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

BERLIN = {"lat": 52.52, "lon": 13.405}


def at(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def listing(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "crop": "tomato",
        "quantity": 10,
        "unit": "kg",
        "availableFrom": at(-1),
        "availableUntil": at(7),
        "location": dict(BERLIN),
        "notes": "ripe, pick up at the gate",
    }
    body.update(overrides)
    return body


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "crop": "tomato",
        "quantity": 3,
        "unit": "kg",
        "neededBy": at(5),
        "location": {"lat": 52.51, "lon": 13.39},
    }
    body.update(overrides)
    return body
