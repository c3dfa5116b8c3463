"""`harvest redrive` for the DLQ of an SQS-fed consumer (issue 9: the AI worker, and the
consumers to come behind EventBridge rules): its messages are the events themselves, not
Lambda's failure records of a stream, so redriving is moving them back to the queue the
consumer reads, where they are handled again (effects are idempotent under redelivery).

The source queue is the one whose RedrivePolicy names the DLQ (ListDeadLetterSourceQueues).
Each message is sent to it with the same body and then deleted from the DLQ; a send that
fails stops the move and leaves that message (and the rest) in the DLQ. AWS also offers
StartMessageMoveTask for this; moving message by message works on moto and the local
runtime too, and says per message what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

__all__ = ["MoveSummary", "dlq_source", "move_back"]

HIDDEN_S: Final = 300  # received messages stay hidden while they are moved


@dataclass(frozen=True, slots=True)
class MoveSummary:
    source_url: str
    moved: int
    left: int

    def line(self, dry_run: bool) -> str:
        verb = "would move" if dry_run else "moved"
        return f"{verb} {self.moved} messages back to {self.source_url}; {self.left} left"


def dlq_source(sqs: Any, dlq_url: str) -> str | None:
    """The queue that sends its failed messages to this one, or None (not a queue's DLQ:
    then it is a stream consumer's on-failure destination)."""
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) > 1:
        raise ValueError(f"{dlq_url} is the DLQ of {len(sources)} queues; redrive each by hand")
    return str(sources[0]) if sources else None


def move_back(sqs: Any, dlq_url: str, source_url: str, *, dry_run: bool = False) -> MoveSummary:
    """Moves every message of the DLQ back to the source queue (see the module doc); with
    dry_run, counts them and makes them visible again."""
    moved = 0
    held: dict[str, str] = {}  # messageId -> receipt handle of what was received
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=HIDDEN_S,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in held]
        if not fresh:
            break
        for message in fresh:
            held[message["MessageId"]] = message["ReceiptHandle"]
            if not dry_run:
                attributes = message.get("MessageAttributes") or {}
                sqs.send_message(
                    QueueUrl=source_url,
                    MessageBody=message["Body"],
                    **({"MessageAttributes": attributes} if attributes else {}),
                )
                sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    if dry_run:
        for receipt in held.values():
            sqs.change_message_visibility(
                QueueUrl=dlq_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        return MoveSummary(source_url, moved, moved)
    found = sqs.get_queue_attributes(
        QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return MoveSummary(source_url, moved, int(found["Attributes"]["ApproximateNumberOfMessages"]))
