"""A consumer that fails in the middle of a batch, on the local runtime.

The aggregator gets one batch of exactly eight records (the mapping's BatchSize is set to 8
and its batching window long enough to gather them). On the third record, right after that
record's transaction committed, the invocation fails once: either the record raises (the
batch runner reports it, Lambda retries from it) or the function's process dies (a
BaseException the runner cannot catch: a function error, Lambda bisects and redelivers the
whole batch). Either way some records come again after their effect was applied; the
per-source markers must turn those into no-ops.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from harvest.domain.events import ItemChange
from harvest.local.runtime import LocalRuntime
from harvest.services.aggregation import AggregationOutcome, AggregationService
from harvest.store.buckets import bucket_day_totals
from harvest.store.dynamo import deserialize, make_client
from harvest.tools.template import load_template
from support import payloads
from support.delivery import InvocationCrashed
from support.faults import audit, dlq_entries, wait_until_drained
from support.runtime import running_runtime

LISTINGS = [f"crash-l{i}" for i in range(6)]
REQUESTS = [f"crash-r{i}" for i in range(2)]
# The order of the writes, hence of the records in the batch.
WRITES = [*LISTINGS[:4], REQUESTS[0], *LISTINGS[4:], REQUESTS[1]]
FAILS_AT = 2  # the third record of the batch
# The published (precision-5) cells of payloads.BERLIN (listings) and payloads.request().
CELLS = ("u33dc", "u33d8")


def _template() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    stream = template["Resources"]["AggregatorFunction"]["Properties"]["Events"]["Stream"]
    stream["Properties"].update(BatchSize=len(WRITES), MaximumBatchingWindowInSeconds=300)
    return template


class FailOnce:
    """Wraps AggregationService.handle: records each decision, fails once after the effect."""

    def __init__(self, failure: BaseException) -> None:
        self.failure = failure
        self.target = f"LISTING#{WRITES[FAILS_AT]}"
        self.failed = False
        self.decisions: dict[str, list[str]] = defaultdict(list)
        self.lock = threading.Lock()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = AggregationService.handle

        def handle(
            service: AggregationService, change: ItemChange, correlation_id: str
        ) -> AggregationOutcome:
            outcome = original(service, change, correlation_id)
            pk = str(change.keys["PK"])
            with self.lock:
                self.decisions[pk.split("#", 1)[1]].append(outcome.decision)
                fail = pk == self.target and not self.failed
                self.failed = self.failed or fail
            if fail:
                raise self.failure
            return outcome

        monkeypatch.setattr(AggregationService, "handle", handle)


def _area_totals(runtime: LocalRuntime) -> dict[str, Decimal]:
    """Supply, demand and counts of the cells' tomato buckets (only the published precision
    has buckets), summed over every day."""
    client = make_client(runtime.options.region, runtime.engine.endpoint_url)
    found = [
        item
        for cell in CELLS
        for item in client.query(
            TableName=runtime.options.table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"AGG#{cell}#tomato"}},
            ConsistentRead=True,
        )["Items"]
    ]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in map(deserialize, found):
        for day in bucket_day_totals("tomato", item):
            totals["supply"] += day.supply
            totals["listings"] += day.listings
            totals["demand"] += day.demand
            totals["requests"] += day.requests
    return dict(totals)


@pytest.mark.parametrize(
    ("failure", "redelivered"),
    [
        # the runner reports the record: Lambda resumes from it
        pytest.param(
            RuntimeError("record failed after its effect"),
            WRITES[FAILS_AT : FAILS_AT + 1],
            id="a-record-raises",
        ),
        # a function error: the whole batch again (in halves), the records before it too
        pytest.param(
            InvocationCrashed("process died after a record's effect"),
            WRITES[: FAILS_AT + 1],
            id="process-dies",
        ),
    ],
)
def test_a_batch_failing_midway_is_retried_without_counting_any_record_twice(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    redelivered: list[str],
) -> None:
    fault = FailOnce(failure)
    fault.install(monkeypatch)
    data = tmp_path / "data"
    with running_runtime(data, _template()) as (runtime, http):
        # Given eight writes that the aggregator receives as one batch
        for write_id in WRITES:
            if write_id in LISTINGS:
                body = payloads.listing(listingId=write_id, quantity=10)
                made = http.call("POST", "/listings", body, user=f"g-{write_id}")
            else:
                body = payloads.request(requestId=write_id, quantity=3)
                made = http.call("POST", "/requests", body, user=f"s-{write_id}")
            assert made.status == 201, made.body

        # When its invocation fails after the third record's effect, and Lambda retries
        wait_until_drained(data)
        assert fault.failed

        # Then each record was applied exactly once; what came again was a no-op
        assert fault.decisions == {
            write_id: ["applied", "duplicate"] if write_id in redelivered else ["applied"]
            for write_id in WRITES
        }
        assert _area_totals(runtime) == {
            "supply": 60,
            "listings": 6,
            "demand": 6,
            "requests": 2,
        }
        assert dlq_entries(data) == {}
        code, report = audit(data)
        assert code == 0, report

    code, report = audit(data)
    assert code == 0, report
