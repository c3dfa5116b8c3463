"""A clean restart neither replays nor re-publishes what was processed before the stop: on
DynamoDB Local the stream and the checkpoints survive together; on moto, whose stream does
not survive, the restored snapshot's items are not taken for new changes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from harvest.local.lifecycle import read_state
from support import payloads
from support.faults import audit, wait_until_drained
from support.runtime import running_runtime


def _published_ids(data: Path) -> list[str]:
    lines = (data / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(json.loads(line)["Detail"])["id"] for line in lines if line]


@pytest.mark.parametrize("engine", ["moto", "dynamodb-local"])
def test_a_clean_restart_publishes_no_event_twice(tmp_path: Path, engine: str) -> None:
    data = tmp_path / "data"
    # Given three listings created and fully processed, then a clean stop
    with running_runtime(data, engine=engine) as (_runtime, http):
        for _ in range(3):
            assert http.call("POST", "/listings", payloads.listing()).status == 201
        wait_until_drained(data)
    before = _published_ids(data)
    assert len(before) >= 3  # the listings' events, and the insights' they led to
    state = read_state(data) or {}
    assert state["state"] == "stopped"

    # When it is started again on the same data, and a new listing is created
    with running_runtime(data, engine=engine) as (_runtime, http):
        assert http.call("POST", "/listings", payloads.listing()).status == 201
        wait_until_drained(data)
        code, report = audit(data)

    # Then only the new listing's events were published: nothing came twice
    after = _published_ids(data)
    assert after[: len(before)] == before
    assert len(after) > len(before)
    assert [eid for eid, n in Counter(after).items() if n > 1] == []
    # ... and the derived state still equals a rebuild from the core items
    assert code == 0, report
