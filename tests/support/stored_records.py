"""Lambda stream records built from items as they are stored now, to drive consumers in
integration tests without a stream poller."""

from __future__ import annotations

from typing import Any


class LongContext:
    """A Lambda context with plenty of time left: the remaining-time guard never fires."""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def stored_item_record(
    dynamodb: Any, table: str, pk: str, sequence: int, sk: str | None = None
) -> dict[str, Any]:
    """A stream record of the stored item: Lambda's shape, the stored image as NewImage
    (SK: the PK's prefix, as for LISTING#/REQUEST#/CLAIM#, unless given)."""
    sk = sk or pk.split("#", 1)[0]
    image = dynamodb.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}})["Item"]
    return {
        "eventID": f"e{sequence}",
        "eventName": "INSERT" if image["version"]["N"] == "1" else "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": image["PK"], "SK": image["SK"]},
            "NewImage": image,
            "SequenceNumber": f"{sequence:021d}",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
