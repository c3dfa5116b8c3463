"""EventBridge partial failures on the local runtime's bus.

PutEvents can succeed as a call while refusing entries (`FailedEntryCount` > 0, an
`ErrorCode` per refused entry); the publisher must resend exactly those and, past its own
attempts, fail the record so that Lambda retries it. A reply lost after the bus stored the
entries makes the client send them again: delivery is at least once, and subscribers dedupe
on the envelope's deterministic id. The faults are injected in the bus itself (the local
runtime's EventSink), so the publisher's real client and retry code run unchanged.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harvest.domain.events import event_id
from harvest.local.bus import EventSink
from harvest.services.publishing import EventPublisher
from support import payloads
from support.faults import dlq_entries, wait_until_drained
from support.runtime import running_runtime, wait_for

# What the bus does with each attempt of a listing's listing.created entry, in order; once
# the list is used up, the entry is accepted.
PUBLISHER_ATTEMPTS: int = inspect.signature(EventPublisher).parameters["max_attempts"].default
LOST = "stored, then the connection drops"
PLAN: dict[str, list[str]] = {
    "bus-accepted": [],
    "bus-refused-once": ["ThrottlingException"],
    "bus-refused-twice": ["InternalFailure", "ThrottlingException"],
    # more refusals than the publisher's attempts: the record fails, Lambda retries it
    "bus-refused-long": ["InternalFailure"] * PUBLISHER_ATTEMPTS,
    "bus-reply-lost": [LOST],
}


class LostReply(ConnectionError):
    """Raised in the bus's request handler: the client gets no reply at all."""


class FlakyBus:
    """Wraps EventSink.put_events: refuses chosen entries, per attempt, as PLAN says."""

    def __init__(self) -> None:
        self.plan = {listing: list(steps) for listing, steps in PLAN.items()}
        self.attempts: Counter[str] = Counter()  # per envelope id
        self.lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = EventSink.put_events

        def put_events(sink: EventSink, entries: list[dict[str, Any]]) -> list[dict[str, str]]:
            results: list[dict[str, str] | None] = []
            accepted: list[dict[str, Any]] = []
            lose_reply = False
            for entry in entries:
                detail = json.loads(entry["Detail"])
                with self.lock:
                    self.attempts[detail["id"]] += 1
                    steps = self.plan.get(detail["entityId"]) or []
                    step = steps.pop(0) if steps else None
                if step is None or step == LOST:
                    lose_reply = lose_reply or step == LOST
                    accepted.append(entry)
                    results.append(None)
                else:
                    results.append({"ErrorCode": step, "ErrorMessage": "injected"})
            stored = iter(original(sink, accepted) if accepted else [])
            if lose_reply:
                raise LostReply("injected: the entries were stored, the reply is lost")
            return [result or next(stored) for result in results]

        monkeypatch.setattr(EventSink, "put_events", put_events)


def _bus(data: Path) -> list[dict[str, Any]]:
    path = data / "events.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_refused_entries_are_resent_until_accepted_and_none_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = FlakyBus()
    bus.install(monkeypatch)
    data = tmp_path / "data"
    expected = {listing: event_id("listing", listing, 1, "listing.created") for listing in PLAN}
    with running_runtime(data) as (_, http):
        # Given listings whose listing.created entries the bus refuses or loses the reply of
        for listing in PLAN:
            made = http.call("POST", "/listings", payloads.listing(listingId=listing), user="g")
            assert made.status == 201, made.body

        # When the publisher and Lambda's retries have run their course
        def created() -> set[str] | None:
            ids = {
                json.loads(e["Detail"])["id"]
                for e in _bus(data)
                if e["DetailType"] == "listing.created"
            }
            return ids if ids >= set(expected.values()) else None

        wait_for(created, timeout_s=60)
        wait_until_drained(data)

    # Then every listing.created event is on the bus under its deterministic id
    entries = _bus(data)
    published = [json.loads(entry["Detail"]) for entry in entries]
    assert {e["id"] for e in published if e["detailType"] == "listing.created"} == set(
        expected.values()
    )
    # ... each attempt the plan made was one PutEvents try (the long one through a Lambda
    # retry: the publisher gave up after its attempts and the record came again)
    assert {listing: bus.attempts[expected[listing]] for listing in PLAN} == {
        "bus-accepted": 1,
        "bus-refused-once": 2,
        "bus-refused-twice": 3,
        "bus-refused-long": PUBLISHER_ATTEMPTS + 1,
        "bus-reply-lost": 2,
    }
    # ... and only the event whose reply was lost is there twice, identical (at least once)
    copies = Counter(e["id"] for e in published)
    assert {event for event, count in copies.items() if count > 1} == {expected["bus-reply-lost"]}
    assert copies[expected["bus-reply-lost"]] == 2
    lost = [e["Detail"] for e in entries if expected["bus-reply-lost"] in e["Detail"]]
    assert lost[0] == lost[1]
    assert dlq_entries(data) == {}
