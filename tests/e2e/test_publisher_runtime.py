"""End to end with the real template: HTTP write -> table stream -> publisher -> event bus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support import payloads
from support.runtime import HttpResult, running_runtime, wait_for


def _header(result: HttpResult, name: str) -> str:
    values = {k.lower(): v for k, v in result.headers.items()}
    return values[name.lower()]


def _bus_entries(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _contains_key(value: object, names: set[str]) -> bool:
    if isinstance(value, dict):
        return any(k in names or _contains_key(v, names) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_key(v, names) for v in value)
    return False


def test_listing_and_claim_writes_become_domain_events_on_the_bus(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_runtime(data) as (runtime, http):
        assert "PublisherFunction" in runtime.poller_names
        # Given a listing and a claim on it, written through the API
        listing = http.call("POST", "/listings", payloads.listing(), user="grower")
        assert listing.status == 201
        listing_id = listing.body["listingId"]
        claim = http.call(
            "POST", f"/listings/{listing_id}/claims", {"quantity": 2}, user="searcher"
        )
        assert claim.status == 201
        expected = {
            "listing.created": _header(listing, "X-Correlation-Id"),
            "claim.created": _header(claim, "X-Correlation-Id"),
        }

        # When the publisher has drained the stream
        def published() -> dict[str, dict[str, Any]] | None:
            found = {
                entry["DetailType"]: entry
                for entry in _bus_entries(data / "events.jsonl")
                if entry["DetailType"] in expected
            }
            return found if set(found) == set(expected) else None

        events = wait_for(published)

    # Then each write is on the bus once, as its domain event, with the request's correlation id
    listing_event = json.loads(events["listing.created"]["Detail"])
    claim_event = json.loads(events["claim.created"]["Detail"])
    assert events["listing.created"]["Source"] == "harvest.listings"
    assert listing_event["entityId"] == listing_id
    assert listing_event["data"]["listingId"] == listing_id
    assert claim_event["entityId"] == claim.body["claimId"]
    assert claim_event["data"]["listingId"] == listing_id
    assert listing_event["correlationId"] == expected["listing.created"]
    assert claim_event["correlationId"] == expected["claim.created"]
    # never exact coordinates, at any depth
    assert not _contains_key(listing_event, {"lat", "lon"})
    assert not _contains_key(claim_event, {"lat", "lon"})
    # nothing failed on the way
    assert not (data / "dlq" / "PublisherFunction.jsonl").exists()
