"""Failures of a local stream mapping: reading what the function reports, and where the
failure records go when the mapping gives up on records (their format: harvest.redrive.format).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "BatchOutcome",
    "DeadLetterSink",
    "JsonLinesDeadLetterSink",
    "MemoryDeadLetterSink",
    "parse_batch_response",
]


@dataclass(frozen=True)
class BatchOutcome:
    """How Lambda reads a handler's result: all done, done up to `failed_index`, or malformed."""

    failed_index: int | None
    malformed: str | None = None


def parse_batch_response(response: object, sequence_numbers: Sequence[str]) -> BatchOutcome:
    """Reads a ReportBatchItemFailures response for a batch with these sequence numbers.

    Success: None, {}, a missing/None/empty batchItemFailures. Otherwise the batch is
    checkpointed before the lowest reported sequence number. A failure entry without a usable
    itemIdentifier, or one naming a record outside the batch, fails the whole batch.
    """
    if response is None:
        return BatchOutcome(failed_index=None)
    if not isinstance(response, Mapping):
        return BatchOutcome(failed_index=0, malformed=f"response is {type(response).__name__}")
    failures = response.get("batchItemFailures")
    if failures is None:
        return BatchOutcome(failed_index=None)
    if not isinstance(failures, list):
        return BatchOutcome(failed_index=0, malformed="batchItemFailures is not a list")
    positions = {number: index for index, number in enumerate(sequence_numbers)}
    reported: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or not identifier:
            return BatchOutcome(failed_index=0, malformed=f"bad batch item failure {failure!r}")
        if identifier not in positions:
            return BatchOutcome(failed_index=0, malformed=f"{identifier} is not in the batch")
        reported.append(positions[identifier])
    # A batch is in sequence order, so the lowest sequence number is the earliest position.
    return BatchOutcome(failed_index=min(reported) if reported else None)


class DeadLetterSink(Protocol):
    def send(self, failure: Mapping[str, Any]) -> None: ...


class JsonLinesDeadLetterSink:
    """Appends one failure record per line; safe to share between poller threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, failure: Mapping[str, Any]) -> None:
        line = json.dumps(failure, separators=(",", ":"), sort_keys=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class MemoryDeadLetterSink:
    """Keeps failure records in a list (tests, and runs that print a summary at exit)."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, failure: Mapping[str, Any]) -> None:
        with self._lock:
            self.records.append(dict(failure))
