"""The SQS queues' contents across a clean stop, and their depths for `harvest status`.

moto's SQS keeps messages in memory only. On a clean stop, once the pollers have finished
their batches and the bus takes no more events, every message still on a queue (a DLQ too)
is written to DATA_DIR/queues.jsonl; the next start puts them back on their queues (by
logical id) before any poller runs, then removes the file, so they are delivered once more,
not twice. What SQS does not let a sender set starts again: receive counts (a message that
had failed twice has its whole maxReceiveCount again), message ids and sent times. Not
saved: a message in flight at the stop (a failed invocation's, hidden until its visibility
timeout passes: SQS gives no way to read it before), and everything after an unclean stop
(SIGKILL, a crash).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harvest.local.rules import BusTopology

if TYPE_CHECKING:
    from harvest.local.eventing import RuleBus

__all__ = [
    "QUEUES_FILE",
    "QueueDepth",
    "keep_at_stop",
    "queue_depths",
    "requeue_at_start",
    "restore_queues",
    "save_queues",
]

log = logging.getLogger("harvest.local.queues")
QUEUES_FILE = "queues.jsonl"
_BATCH = 10  # ReceiveMessage and SendMessageBatch take at most 10
_HIDE_S = 3600  # a received message stays hidden while the rest is read


@dataclass(frozen=True)
class QueueDepth:
    queue: str  # logical id
    name: str
    visible: int
    in_flight: int
    dead_letter: bool  # some queue of the template sends its failures here


def _save_order(topology: BusTopology, urls: Mapping[str, str]) -> list[str]:
    """Source queues before their DLQs: a message moto moves to a DLQ while its queue is read
    (its last receive) is then still found, in the DLQ."""
    dead_letters = {q.dead_letter_queue for q in topology.queues.values() if q.dead_letter_queue}
    return sorted(urls, key=lambda logical_id: (logical_id in dead_letters, logical_id))


def _messages(sqs: Any, url: str) -> Iterator[dict[str, Any]]:
    while True:
        received = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=_BATCH,
            VisibilityTimeout=_HIDE_S,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return
        yield from received


def save_queues(
    sqs: Any, topology: BusTopology, urls: Mapping[str, str], data_dir: Path
) -> dict[str, int]:
    """Every message of every queue to queues.jsonl (write-then-rename); messages per queue."""
    counts: dict[str, int] = {}
    lines: list[str] = []
    for logical_id in _save_order(topology, urls):
        for message in _messages(sqs, urls[logical_id]):
            lines.append(json.dumps({"queue": logical_id, "body": message["Body"]}))
            counts[logical_id] = counts.get(logical_id, 0) + 1
    path = data_dir / QUEUES_FILE
    partial = path.with_suffix(".jsonl.partial")
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    partial.replace(path)
    return counts


def restore_queues(sqs: Any, urls: Mapping[str, str], data_dir: Path) -> dict[str, int]:
    """Puts queues.jsonl's messages back on their queues, then removes the file."""
    path = data_dir / QUEUES_FILE
    if not path.exists():
        return {}
    pending: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            saved = json.loads(line)
            pending.setdefault(str(saved["queue"]), []).append(str(saved["body"]))
    counts: dict[str, int] = {}
    for logical_id, bodies in pending.items():
        url = urls.get(logical_id)
        if url is None:  # the template no longer has it: say so, do not guess
            log.warning("%d saved messages of queue %s: no such queue now", len(bodies), logical_id)
            continue
        for first in range(0, len(bodies), _BATCH):
            chunk = bodies[first : first + _BATCH]
            response = sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": str(n), "MessageBody": body} for n, body in enumerate(chunk)],
            )
            if response.get("Failed"):
                raise RuntimeError(f"queue {logical_id} refused {len(response['Failed'])} messages")
        counts[logical_id] = len(bodies)
    path.unlink()
    return counts


def queue_depths(sqs: Any, topology: BusTopology) -> list[QueueDepth]:
    """Each template queue's visible and in-flight messages, as SQS counts them."""
    dead_letters = {q.dead_letter_queue for q in topology.queues.values() if q.dead_letter_queue}
    depths = []
    for logical_id, spec in sorted(topology.queues.items()):
        url = sqs.get_queue_url(QueueName=spec.name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths.append(
            QueueDepth(
                queue=logical_id,
                name=spec.name,
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                dead_letter=logical_id in dead_letters,
            )
        )
    return depths


def requeue_at_start(bus: RuleBus, data_dir: Path) -> None:
    """The runtime's start: the saved messages back, before any poller runs."""
    requeued = restore_queues(bus.client("sqs"), bus.queue_urls, data_dir)
    if requeued:
        log.info("queues: restored %s from %s", _counts(requeued), QUEUES_FILE)


def keep_at_stop(bus: RuleBus, data_dir: Path | None) -> None:
    """The runtime's clean stop, once its pollers and its bus stopped (no data dir: none)."""
    if data_dir is not None and bus.queue_urls:
        saved = save_queues(bus.client("sqs"), bus.topology, bus.queue_urls, data_dir)
        log.info("queues: saved %s to %s", _counts(saved) or "nothing", QUEUES_FILE)


def _counts(per_queue: dict[str, int]) -> str:
    return ", ".join(f"{count} on {queue}" for queue, count in sorted(per_queue.items()))
