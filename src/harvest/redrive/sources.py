"""Where `harvest redrive` finds its entries: Lambda's failure records for a DynamoDB stream,
in the local runtime's DLQ files (DIR/dlq/<Function>.jsonl, harvest.redrive.format) or in an
SQS on-failure destination. An entry is removed from its source only once it was handled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from harvest.redrive.format import BatchInfo

__all__ = ["DeadLetter", "DeadLetterSource", "DlqDirectory", "SqsQueue"]

SQS_VISIBILITY_S: Final = 900  # received messages stay hidden while the redrive runs


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One DLQ entry as stored: `raw` is the file line or the message body."""

    label: str
    raw: str
    hint: str | None = None  # the consumer's logical id when the source tells it
    receipt: str = ""

    @property
    def info(self) -> BatchInfo | None:
        try:
            return BatchInfo.of(json.loads(self.raw))
        except ValueError:
            return None


class DeadLetterSource(Protocol):
    def read(self) -> list[DeadLetter]: ...
    def remove(self, letter: DeadLetter) -> None: ...
    def release(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass
class DlqDirectory:
    """The local runtime's DLQs: DIR/<Function>.jsonl, one failure record a line."""

    directory: Path
    function: str | None = None

    def read(self) -> list[DeadLetter]:
        pattern = f"{self.function}.jsonl" if self.function else "*.jsonl"
        letters: list[DeadLetter] = []
        for path in sorted(self.directory.glob(pattern)):
            lines = path.read_text(encoding="utf-8").splitlines()
            letters += [
                DeadLetter(f"{path}:{number}", line.strip(), hint=path.stem)
                for number, line in enumerate(lines, start=1)
                if line.strip()
            ]
        return letters

    def remove(self, letter: DeadLetter) -> None:
        """Rewrites the file without the entry (write, then rename). Re-read first, so lines
        the runtime appended since are kept; one appended during the rename itself is not."""
        path = Path(letter.label.rsplit(":", 1)[0])
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for index, line in enumerate(lines):
            if line.strip() == letter.raw:
                del lines[index]
                break
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text("".join(lines), encoding="utf-8")
        partial.replace(path)

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Nothing to do: a file entry stays where it is until removed."""


@dataclass
class SqsQueue:
    """An SQS on-failure destination: every message is received (and hidden) first; a message
    is deleted once handled, the others are made visible again at the end."""

    client: Any
    queue_url: str
    hint: str | None = None

    def read(self) -> list[DeadLetter]:
        found: dict[str, DeadLetter] = {}
        while True:
            messages = self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                VisibilityTimeout=SQS_VISIBILITY_S,
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in found]
            if not fresh:
                break
            for message in fresh:
                label = f"message {message['MessageId']}"
                found[message["MessageId"]] = DeadLetter(
                    label, str(message["Body"]).strip(), self.hint, message["ReceiptHandle"]
                )
        # A standard queue has no order: take the ranges in stream order.
        return sorted(found.values(), key=_stream_order)

    def remove(self, letter: DeadLetter) -> None:
        self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=letter.receipt)

    def release(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            self.client.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=letter.receipt, VisibilityTimeout=0
            )


def _stream_order(letter: DeadLetter) -> tuple[str, str, int]:
    info = letter.info
    return ("", "", 0) if info is None else (info.stream_arn, info.shard_id, int(info.start))
