"""`harvest status`: per function, its lag behind the stream, its DLQ depth, its last failure."""

from __future__ import annotations

import json
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

from harvest.cli.main import main
from support import payloads
from support.faults import CONSUMERS, wait_until_drained
from support.runtime import running_runtime


def _status(data: Path) -> dict[str, Any]:
    out = StringIO()
    with redirect_stdout(out):
        assert main(["status", "--data-dir", str(data), "--json"]) == 0
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def _by_function(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["function"]: entry for entry in document["functions"]}


def test_functions_whose_pollers_do_not_run_show_the_records_they_owe(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Given a runtime whose stream pollers are not running, and two writes
    with running_runtime(data, with_pollers=False) as (_runtime, http):
        for _ in range(2):
            assert http.call("POST", "/listings", payloads.listing()).status == 201
        # When its status is asked for
        document = _status(data)
    # Then it is running, and every consumer is behind by at least those writes' records
    assert document["running"] is True
    functions = _by_function(document)
    assert set(functions) == set(CONSUMERS)
    for entry in functions.values():
        assert entry["records_behind"] >= 2, entry
        assert entry["iterator_age_s"] >= 0
        assert entry["dlq_depth"] == 0


def test_lag_reaches_zero_once_the_consumers_caught_up_and_dlq_failures_are_shown(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    # Given a running runtime with its pollers, a write, and a failure record in one DLQ
    dlq = data / "dlq" / "AggregatorFunction.jsonl"
    with running_runtime(data) as (_runtime, http):
        assert http.call("POST", "/listings", payloads.listing()).status == 201
        wait_until_drained(data)
        dlq.parent.mkdir(parents=True, exist_ok=True)
        failure = {
            "timestamp": "2026-12-03T10:00:00.000Z",
            "requestContext": {"condition": "RetryAttemptsExhausted"},
            "DDBStreamBatchInfo": {"batchSize": 3},
        }
        dlq.write_text(json.dumps(failure) + "\n", encoding="utf-8")
        # When its status is asked for
        document = _status(data)
        text = StringIO()
        with redirect_stdout(text):
            assert main(["status", "--data-dir", str(data)]) == 0
    # Then no consumer is behind, and the DLQ's depth and last failure are reported
    functions = _by_function(document)
    assert {name: f["records_behind"] for name, f in functions.items()} == dict.fromkeys(
        CONSUMERS, 0
    )
    assert functions["AggregatorFunction"]["dlq_depth"] == 1
    assert "RetryAttemptsExhausted" in functions["AggregatorFunction"]["last_failure"]
    assert "AggregatorFunction" in text.getvalue()
    assert "RetryAttemptsExhausted" in text.getvalue()


def test_a_stopped_runtime_reports_its_state_and_no_lag(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_runtime(data):
        pass
    document = _status(data)
    assert document["running"] is False
    assert document["state"] == "stopped"
    assert {entry["records_behind"] for entry in document["functions"]} == {None}


def _queues(document: dict[str, Any]) -> dict[str, tuple[int, bool]]:
    return {q["queue"]: (q["visible"], q["dead_letter"]) for q in document["queues"]}


def test_queue_messages_survive_a_clean_stop_and_status_shows_every_queues_depth(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    # Given a runtime whose pollers do not run, with messages on a queue and on its DLQ
    with running_runtime(data, with_pollers=False) as (runtime, _http):
        bus = runtime.rule_bus
        assert bus is not None
        sqs = bus.client("sqs")
        for body in ("first", "second"):
            sqs.send_message(QueueUrl=bus.queue_urls["AdvisorQueue"], MessageBody=body)
        sqs.send_message(QueueUrl=bus.queue_urls["AdvisorDlq"], MessageBody="failed")
        # Then its status shows each queue's depth, the DLQ marked as one
        running = _queues(_status(data))
        assert running["AdvisorQueue"] == (2, False)
        assert running["AdvisorDlq"] == (1, True)
    # ... a clean stop saves them, and the stopped runtime's status says so
    stopped = _queues(_status(data))
    assert (stopped["AdvisorQueue"][0], stopped["AdvisorDlq"][0]) == (2, 1)
    # When it starts again, they are back on their queues (once: the saved file is gone)
    with running_runtime(data, with_pollers=False) as (runtime, _http):
        bus = runtime.rule_bus
        assert bus is not None
        sqs = bus.client("sqs")
        bodies = {}
        for queue in ("AdvisorQueue", "AdvisorDlq"):
            received = sqs.receive_message(
                QueueUrl=bus.queue_urls[queue], MaxNumberOfMessages=10, VisibilityTimeout=60
            ).get("Messages", [])
            bodies[queue] = sorted(m["Body"] for m in received)
        assert not (data / "queues.jsonl").exists()
    assert bodies == {"AdvisorQueue": ["first", "second"], "AdvisorDlq": ["failed"]}
