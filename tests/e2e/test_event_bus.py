"""The local event bus speaks PutEvents to boto3 and keeps every accepted entry."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import boto3

from harvest.local.bus import EventSink, follow, make_bus_server


def test_put_events_lands_in_the_json_lines_sink(tmp_path: Path) -> None:
    forwarded: list[dict[str, object]] = []
    sink = EventSink(tmp_path / "events.jsonl", forward=forwarded.extend)
    server = make_bus_server(sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = boto3.client(
            "events",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        response = client.put_events(
            Entries=[
                {"Source": "harvest.listings", "DetailType": "listing.created", "Detail": "{}"},
                {"Source": "harvest.listings", "DetailType": "listing.created", "Detail": ""},
            ]
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response["FailedEntryCount"] == 1
    assert "EventId" in response["Entries"][0]
    assert response["Entries"][1]["ErrorCode"] == "InvalidArgument"
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert len(lines) == 1
    stored = json.loads(lines[0])
    assert stored["DetailType"] == "listing.created"
    assert stored["eventId"] == response["Entries"][0]["EventId"]
    assert len(forwarded) == 1
    assert next(follow(tmp_path / "events.jsonl")) == lines[0]
