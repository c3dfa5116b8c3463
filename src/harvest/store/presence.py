"""Presence items: one user's live items of one crop in one geohash-4 cell (derived keys).

Key (schemas/key-design.md): PK = AGG#WHO#{ownerId}, SK = IN#{gh4}#{crop}, type
agg-presence; `live` is a map `{gh6}#{yyyy-mm-dd}` -> live items of that user there and
then, `version` +1 per write. The Aggregator reads it with the source's marker and writes it
in the same transaction, conditioned on the version read, so that two changes of one user
can never both move the `contributors` counters from the same state (domain.disclosure).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from harvest.domain.disclosure import Presence
from harvest.store.dynamo import serialize, values
from harvest.store.table import Key, Table

__all__ = [
    "PRESENCE_TYPE",
    "StoredPresence",
    "is_presence",
    "presence_key",
    "presence_op",
    "read_presence",
]

PRESENCE_TYPE: Final = "agg-presence"
EMPTY_TTL_SECONDS: Final = 7 * 86_400
_PK_PREFIX: Final = "AGG#WHO#"


def presence_key(owner: str, area: str, crop: str) -> Key:
    return {"PK": f"{_PK_PREFIX}{owner}", "SK": f"IN#{area}#{crop}"}


def is_presence(pk: str) -> bool:
    return pk.startswith(_PK_PREFIX)


StoredPresence = tuple[Presence, int | None]  # the presence and its version (None: absent)


def read_presence(table: Table, owner: str, area: str, crop: str) -> StoredPresence:
    item = table.get(presence_key(owner, area, crop))
    if item is None:
        return Presence(owner, area, crop, {}), None
    live = Presence.from_json(owner, area, crop, dict(item.get("live", {})))
    return live, int(item["version"])


def presence_op(
    table_name: str, presence: Presence, expected: int | None, correlation_id: str, moment: str
) -> dict[str, Any]:
    """The operation (for TransactWriteItems) that stores `presence` if its version is still
    `expected` (None: if it does not exist yet). A presence without live items gets
    `expiresAt`, so users who left an area leave nothing behind for long."""
    bound: dict[str, Any] = {
        "type": PRESENCE_TYPE,
        "live": presence.to_json(),
        "now": moment,
        "cid": correlation_id,
        "one": 1,
        "owner": presence.owner,
        "area": presence.area,
        "crop": presence.crop,
    }
    if expected is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition = "#version = :expected"
        bound["expected"] = expected
    key = serialize(presence_key(presence.owner, presence.area, presence.crop))
    expression = (
        "SET #type = :type, live = :live, ownerId = :owner, area = :area, crop = :crop, "
        "createdAt = if_not_exists(createdAt, :now), updatedAt = :now, "
        "correlationId = :cid"
    )
    if presence.live:
        expression += " REMOVE expiresAt"
    else:  # nobody's presence lingers: TTL removes it (the role may not DeleteItem)
        expression += ", expiresAt = :expires"
        bound["expires"] = int(datetime.fromisoformat(moment).timestamp()) + EMPTY_TTL_SECONDS
    return {
        "Update": {
            "TableName": table_name,
            "Key": key,
            "UpdateExpression": expression + " ADD #version :one",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#type": "type", "#version": "version"},
            "ExpressionAttributeValues": values(**bound),
        }
    }
