"""A poison record on the local runtime: a listing the aggregator fails on every time.

After the mapping's retries it must land in the aggregator's on-failure destination as
exactly its own sequence range, the records after it must go through, and once the cause is
fixed `harvest redrive` must replay it from the stream and leave the derived state clean.
"""

from __future__ import annotations

import copy
import io
import threading
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from harvest.cli.main import main
from harvest.domain.events import ItemChange
from harvest.local.runtime import LocalRuntime
from harvest.services.aggregation import AggregationOutcome, AggregationService
from harvest.store.derived import marker_key
from harvest.tools.template import load_template
from support import payloads
from support.faults import audit, dlq_entries, runtime_stream, wait_until_drained
from support.runtime import running_runtime, stored_item, wait_for

RETRIES = 2  # the mapping's MaximumRetryAttempts in this test (the template says 5)
POISON = "poison-01"
BEFORE, AFTER = ["fine-b01", "fine-b02"], ["fine-a01", "fine-a02"]


def _template() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    stream = template["Resources"]["AggregatorFunction"]["Properties"]["Events"]["Stream"]
    stream["Properties"].update(MaximumRetryAttempts=RETRIES, MaximumBatchingWindowInSeconds=0)
    return template


class Poison:
    """AggregationService.handle raises for one listing while `active`; counts deliveries."""

    def __init__(self) -> None:
        self.active = True
        self.deliveries: Counter[str] = Counter()
        self.lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = AggregationService.handle

        def handle(
            service: AggregationService, change: ItemChange, correlation_id: str
        ) -> AggregationOutcome:
            pk = str(change.keys["PK"])
            with self.lock:
                self.deliveries[pk] += 1
            if self.active and pk == f"LISTING#{POISON}":
                raise RuntimeError("poison listing")
            return original(service, change, correlation_id)

        monkeypatch.setattr(AggregationService, "handle", handle)


def _aggregated(runtime: LocalRuntime, listing_id: str) -> bool:
    key = marker_key(f"LISTING#{listing_id}")
    return stored_item(runtime, key["PK"], key["SK"]) is not None


def _insert_sequence(data: Path, pk: str) -> str:
    return next(
        str(record["dynamodb"]["SequenceNumber"])
        for records in runtime_stream(data).values()
        for record in records
        if record["eventName"] == "INSERT" and record["dynamodb"]["Keys"]["PK"]["S"] == pk
    )


def test_a_poison_record_is_dead_lettered_alone_and_redriven_once_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poison = Poison()
    poison.install(monkeypatch)
    data = tmp_path / "data"
    with running_runtime(data, _template()) as (runtime, http):
        # Given listings before and after one the aggregator cannot process
        for listing_id in [*BEFORE, POISON, *AFTER]:
            made = http.call("POST", "/listings", payloads.listing(listingId=listing_id), user="g")
            assert made.status == 201, made.body

        # When the mapping has given up on it
        dlq = data / "dlq" / "AggregatorFunction.jsonl"
        wait_for(lambda: dlq.exists() and dlq.read_text().strip(), timeout_s=60)
        wait_until_drained(data)

        # Then the records after it went through, and the DLQ holds exactly its range
        assert all(_aggregated(runtime, listing_id) for listing_id in [*BEFORE, *AFTER])
        assert not _aggregated(runtime, POISON)
        entries = dlq_entries(data)
        assert list(entries) == ["AggregatorFunction"]
        [failure] = entries["AggregatorFunction"]
        info = failure["DDBStreamBatchInfo"]
        sequence = _insert_sequence(data, f"LISTING#{POISON}")
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
        assert info["batchSize"] == 1
        assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
        invocations = failure["requestContext"]["approximateInvokeCount"]
        assert invocations == poison.deliveries[f"LISTING#{POISON}"]
        assert invocations >= RETRIES + 1
        # ... and the audit sees the missing contribution
        assert audit(data)[0] == 1

        # When the cause is fixed and the DLQ redriven from the stream
        poison.active = False
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["redrive", "--data-dir", str(data)])
        assert code == 0, err.getvalue()
        assert "redriven 1 entry (1 record), rebuilt 0, left 0" in out.getvalue()

        # Then the DLQ is empty, the poison listing is counted once, and the audit is clean
        assert dlq_entries(data) == {}
        assert _aggregated(runtime, POISON)
        wait_until_drained(data)
        code, report = audit(data)
        assert code == 0, report

    code, report = audit(data)
    assert code == 0, report
