"""`harvest redrive --queue-url` on the DLQ of an SQS-fed consumer (issue 9): the messages
are the events themselves and go back to the queue whose RedrivePolicy names the DLQ."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from harvest.cli.main import main
from harvest.local.rules import provision, topology_from_template
from harvest.tools.template import load_template
from support.engine import ENGINE

moto_only = pytest.mark.skipif(ENGINE != "moto", reason="SQS comes from moto's mock")


def _depth(sqs: Any, url: str) -> int:
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(found["Attributes"]["ApproximateNumberOfMessages"])


@moto_only
def test_the_ai_workers_dead_letters_go_back_to_its_queue(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the AI worker's queues and two events in its DLQ
    sqs = boto3.client("sqs", region_name="us-east-1")
    events = boto3.client("events", region_name="us-east-1")
    urls = provision(topology_from_template(load_template(), table), events, sqs)
    bodies = [json.dumps({"detail-type": "guidance.requested", "n": n}) for n in (1, 2)]
    for body in bodies:
        sqs.send_message(QueueUrl=urls["AdvisorDlq"], MessageBody=body)
    redrive = ["redrive", "--queue-url", urls["AdvisorDlq"], "--table", table]

    # When a dry run looks, nothing moves
    assert main([*redrive, "--dry-run"]) == 0
    assert "would move 2 messages back to" in capsys.readouterr().out
    assert (_depth(sqs, urls["AdvisorDlq"]), _depth(sqs, urls["AdvisorQueue"])) == (2, 0)

    # When the redrive runs, both are back on the queue the worker reads, bodies unchanged
    assert main(redrive) == 0
    assert "moved 2 messages back to" in capsys.readouterr().out
    assert (_depth(sqs, urls["AdvisorDlq"]), _depth(sqs, urls["AdvisorQueue"])) == (0, 2)
    received = sqs.receive_message(QueueUrl=urls["AdvisorQueue"], MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in received["Messages"]) == sorted(bodies)
