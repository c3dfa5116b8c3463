"""A local EventBridge: PutEvents lands in a JSON-lines file under the data dir.

The runtime points boto3's events client at this endpoint (AWS_ENDPOINT_URL_EVENTBRIDGE), so
the publisher's code is the code that runs in AWS. Every entry gets an EventId and is appended
with its arrival time; `harvest events --follow` tails the file.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger("harvest.local.bus")
MAX_ENTRIES_PER_CALL = 10  # the PutEvents limit


class EventSink:
    """Appends PutEvents entries to a file; thread-safe."""

    def __init__(self, path: Path, forward: Callable[[list[dict[str, Any]]], None] | None = None):
        self.path = path
        self.forward = forward
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def put_events(self, entries: list[dict[str, Any]]) -> list[dict[str, str]]:
        results: list[dict[str, str]] = []
        lines: list[str] = []
        received = datetime.now(UTC).isoformat()
        for entry in entries:
            missing = [k for k in ("Source", "DetailType", "Detail") if not entry.get(k)]
            if missing:
                results.append(
                    {"ErrorCode": "InvalidArgument", "ErrorMessage": f"missing {missing}"}
                )
                continue
            event_id = str(uuid.uuid4())
            results.append({"EventId": event_id})
            lines.append(json.dumps({"eventId": event_id, "receivedAt": received, **entry}))
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line + "\n")
        if self.forward is not None and lines:
            self.forward([e for e in entries if e.get("Detail")])
        return results


def follow(path: Path, from_start: bool = True, poll_s: float = 0.25) -> Iterator[str]:
    """Yield lines as they are appended (tail -f); waits for the file to appear."""
    while not path.exists():
        time.sleep(poll_s)
    with path.open(encoding="utf-8") as handle:
        if not from_start:
            handle.seek(0, 2)
        while True:
            line = handle.readline()
            if line:
                yield line.rstrip("\n")
            else:
                time.sleep(poll_s)


def make_bus_server(sink: EventSink, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: the publisher logs what it sends."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            target = self.headers.get("X-Amz-Target", "")
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                request = None
            if not target.endswith(".PutEvents") or not isinstance(request, dict):
                self._reply(400, {"__type": "ValidationException", "message": "PutEvents only"})
                return
            entries = request.get("Entries") or []
            if not 1 <= len(entries) <= MAX_ENTRIES_PER_CALL:
                self._reply(400, {"__type": "ValidationException", "message": "1-10 entries"})
                return
            results = sink.put_events(entries)
            failed = sum(1 for r in results if "ErrorCode" in r)
            self._reply(200, {"FailedEntryCount": failed, "Entries": results})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server
