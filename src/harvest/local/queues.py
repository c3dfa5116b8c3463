"""A local stand-in for Lambda's SQS event source mapping, one poller per mapping.

The poller receives from the mapping's queue on moto's SQS (up to BatchSize, at most 10 per
ReceiveMessage; with a batching window it gathers until the batch is full or the window
passed), invokes the handler in-process with the function's environment and a Lambda-like
context (or in the function's worker process, local.workers), and applies Lambda's rules: a
success deletes the batch; with ReportBatchItemFailures only the messages named by
`itemIdentifier` (a messageId) stay, and a response that names a message not in the batch
fails the whole batch; a function error (a timeout too) keeps every message. What stays comes
back once the queue's visibility timeout passes, and moto's SQS moves a message received
maxReceiveCount times to the queue's DLQ (RedrivePolicy).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harvest.local.invocation import Invoke, LocalLambdaContext, call_environment, resolve_handler
from harvest.local.priority import lower_thread
from harvest.local.rules import QueueMapping

__all__ = ["QueuePollStats", "SqsPoller", "bus_event", "sqs_record"]

log = logging.getLogger("harvest.local.queues")
RECEIVE_LIMIT = 10


def bus_event(
    entry: Mapping[str, Any], *, region: str = "us-east-1", account: str = "123456789012"
) -> dict[str, Any]:
    """The event EventBridge hands a rule's target for one PutEvents entry (`detail` is an
    object, the other fields as documented); moto builds the same shape when it delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account,
        "time": entry.get("Time") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(entry["Detail"]),
    }


def sqs_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A received SQS message as Lambda's SQS event source puts it in `Records`."""
    attributes = dict(message.get("Attributes") or {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", "0"
            ),
        },
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


@dataclass
class QueuePollStats:
    received: int = 0
    invoked_batches: int = 0
    deleted: int = 0
    failed: int = 0


class SqsPoller:
    def __init__(
        self,
        mapping: QueueMapping,
        sqs: Any,  # boto3 SQS client
        queue_url: str,
        invoke: Invoke | None = None,
        *,
        clock: Callable[[], float] = time.time,
        idle_wait_s: int = 1,
        isolated: bool = False,
        nice: int = 0,
    ) -> None:
        """`isolated`: `invoke` runs the function in a process with its own environment.
        `nice`: the polling thread runs that many steps below the API (local.priority)."""
        self.mapping = mapping
        self._nice = nice
        self._isolated = isolated
        self.sqs = sqs
        self.queue_url = queue_url
        found = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = str(found["Attributes"]["QueueArn"])
        self.region = self.queue_arn.split(":")[3]
        function = mapping.function
        self.function_arn = self.queue_arn.replace(":sqs:", ":lambda:").rsplit(":", 1)[0]
        self.function_arn += f":function:{function.function_name}"
        self._invoke = invoke or resolve_handler(function.handler, function.environment)
        self._clock = clock
        self._idle_wait_s = idle_wait_s
        self.stats = QueuePollStats()

    def run(self, stop: threading.Event) -> None:
        lower_thread(self._nice)
        while not stop.is_set():
            try:
                self.poll_once(wait_s=self._idle_wait_s)
            except Exception:  # the poller outlives a broken engine call, as Lambda's does
                log.exception(
                    "%s: polling %s failed", self.mapping.function.logical_id, self.queue_url
                )
                stop.wait(1.0)

    def poll_once(self, wait_s: int = 0) -> int:
        """One batch (received, invoked, settled); returns how many messages it held."""
        messages = self._receive(wait_s)
        if not messages:
            return 0
        self.stats.received += len(messages)
        records = [sqs_record(m, self.queue_arn, self.region) for m in messages]
        failed = self._failed_ids(records)
        done = [m for m in messages if m["MessageId"] not in failed]
        for first in range(0, len(done), RECEIVE_LIMIT):
            chunk = done[first : first + RECEIVE_LIMIT]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)
                ],
            )
        self.stats.deleted += len(done)
        self.stats.failed += len(failed)
        return len(messages)

    def _receive(self, wait_s: int) -> list[dict[str, Any]]:
        mapping = self.mapping
        deadline = self._clock() + mapping.maximum_batching_window_s
        messages: list[dict[str, Any]] = []
        while len(messages) < mapping.batch_size:
            wanted = min(RECEIVE_LIMIT, mapping.batch_size - len(messages))
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=wanted,
                WaitTimeSeconds=0 if messages else wait_s,
                AttributeNames=["All"],
            ).get("Messages", [])
            messages += received
            if not messages or self._clock() >= deadline or (not received and not wanted):
                break
            if not received:
                time.sleep(0.05)
        return messages

    def _failed_ids(self, records: list[dict[str, Any]]) -> set[str]:
        """The messageIds that must stay on the queue after one invocation."""
        function = self.mapping.function
        ids = {str(r["messageId"]) for r in records}
        self.stats.invoked_batches += 1
        with call_environment(function.environment, self._isolated):
            context = LocalLambdaContext(
                function.function_name, str(uuid.uuid4()), self.function_arn, function.memory_mb,
                deadline=self._clock() + function.timeout_s, clock=self._clock,
            )  # fmt: skip
            try:
                response = self._invoke({"Records": records}, context)
            except Exception:
                log.exception("%s: function error; %d messages stay", function.logical_id, len(ids))
                return ids
        if not self.mapping.report_batch_item_failures:
            return set()
        failures = response.get("batchItemFailures") if isinstance(response, Mapping) else None
        if not failures:
            return set()
        named = {str(f.get("itemIdentifier", "")) for f in failures if isinstance(f, Mapping)}
        if not named <= ids or len(named) != len(failures):
            log.warning("%s: batchItemFailures names an unknown message", function.logical_id)
            return ids  # Lambda treats the whole batch as failed
        log.warning("%s: %d of %d messages failed", function.logical_id, len(named), len(ids))
        return named
