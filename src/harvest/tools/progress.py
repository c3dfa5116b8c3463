"""Scan progress on stderr: one `\\r` counter line on a terminal, plain lines otherwise."""

from __future__ import annotations

import threading
from typing import TextIO


class SegmentProgress:
    """Items scanned per segment, called from the scanning threads."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.counts: dict[int, int] = {}
        self.lock = threading.Lock()
        self.tty = stream.isatty()

    def __call__(self, segment: int, scanned: int) -> None:
        with self.lock:
            self.counts[segment] = scanned
            if self.tty:
                parts = " ".join(f"s{s}={n}" for s, n in sorted(self.counts.items()))
                self.stream.write(f"\r{self.label}: {sum(self.counts.values())} items ({parts})")
            else:
                self.stream.write(f"{self.label}: segment {segment}: {scanned} items\n")
            self.stream.flush()

    def done(self) -> None:
        with self.lock:
            if self.tty and self.counts:
                self.stream.write("\n")
                self.stream.flush()
