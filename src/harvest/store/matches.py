"""The matching worker's repository: one bounded set of matches per request and per listing.

Key (schemas/key-design.md): PK = MATCH#REQUEST#{requestId} or MATCH#LISTING#{listingId},
SK = SET, type `matchset`: `side` (request|listing), `entityId`, `ownerId`, `crop`,
`entries` (at most MAX_MATCHES maps, best first: matchId, requestId, listingId, crop, cell,
distanceM, listedAt; see harvest.domain.matching.MatchEntry), `worst` (the rank a candidate
must beat to enter a full set; absent while there is room), version/createdAt/updatedAt/
correlationId. OwnerIndex: GSI1PK = MATCHES#{ownerId}, GSI1SK = {side}#{entityId}, so
GET /me/matches reads a user's sets without touching anyone else's.

Every write is a Put conditioned on the version read (absent for the first), so of two
workers deciding on the same set concurrently one is refused and decides again, and a
replayed or redelivered event that changes nothing writes nothing (the service compares).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from harvest.domain.common import iso, utc_now
from harvest.domain.matching import MATCH_SET_TYPE, MatchEntry, Side, worst_rank
from harvest.store import keys
from harvest.store.derived import refuse_unless_derived
from harvest.store.dynamo import deserialize, serialize, values
from harvest.store.table import Key, Table, error_code, raise_unavailable_if_throttled

__all__ = ["MatchRepository", "MatchSet", "MatchSetConflict", "match_set_from_item"]

_FIRST_OR_SAME: Final = "attribute_not_exists(PK) OR #version = :expected"
_BATCH_GET_MAX: Final = 100


class MatchSetConflict(Exception):
    """Another write changed the set since it was read: read again and decide again."""


@dataclass(frozen=True, slots=True)
class MatchSet:
    side: Side
    entity_id: str
    owner_id: str
    crop: str
    entries: tuple[MatchEntry, ...] = ()
    version: int = 0  # 0: not stored yet
    created_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> Key:
        return keys.match_set_key(self.side.value, self.entity_id)


def match_set_from_item(item: dict[str, Any]) -> MatchSet:
    side = Side(str(item["side"]))
    return MatchSet(
        side=side,
        entity_id=str(item["entityId"]),
        owner_id=str(item["ownerId"]),
        crop=str(item["crop"]),
        entries=tuple(MatchEntry.from_item(entry, side) for entry in item.get("entries") or []),
        version=int(item["version"]),
        created_at=str(item["createdAt"]),
        extra={"updatedAt": item.get("updatedAt"), "correlationId": item.get("correlationId")},
    )


def match_set_item(
    match_set: MatchSet, version: int, correlation_id: str, now: datetime
) -> dict[str, Any]:
    """The stored form of a set at `version`."""
    key = match_set.key
    item: dict[str, Any] = {
        **key,
        "GSI1PK": keys.matches_owner_pk(match_set.owner_id),
        "GSI1SK": keys.matches_owner_sk(match_set.side.value, match_set.entity_id),
        "type": MATCH_SET_TYPE,
        "side": match_set.side.value,
        "entityId": match_set.entity_id,
        "ownerId": match_set.owner_id,
        "crop": match_set.crop,
        "entries": [entry.to_item() for entry in match_set.entries],
        "version": version,
        "createdAt": match_set.created_at or iso(now),
        "updatedAt": iso(now),
        "correlationId": correlation_id,
    }
    worst = worst_rank(match_set.entries)
    if worst is not None:
        item["worst"] = {"distanceM": worst[0], "freshness": worst[1], "id": worst[2]}
    return item


class MatchRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def match_set(self, side: Side, entity_id: str) -> MatchSet | None:
        item = self.table.get(keys.match_set_key(side.value, entity_id))
        return None if item is None else match_set_from_item(item)

    def match_sets(self, side: Side, entity_ids: Iterable[str]) -> dict[str, MatchSet]:
        """Several sets in BatchGetItem calls (strongly consistent: a set just written must
        be read back as written), by entity id; absent sets are left out."""
        wanted = sorted(set(entity_ids))
        found: dict[str, MatchSet] = {}
        for start in range(0, len(wanted), _BATCH_GET_MAX):
            chunk = [
                keys.match_set_key(side.value, i) for i in wanted[start : start + _BATCH_GET_MAX]
            ]
            for item in self._batch_get(chunk):
                match_set = match_set_from_item(item)
                found[match_set.entity_id] = match_set
        return found

    def _batch_get(self, chunk: Sequence[Key]) -> list[dict[str, Any]]:
        pending: list[dict[str, Any]] = [serialize(key) for key in chunk]
        items: list[dict[str, Any]] = []
        while pending:
            try:
                response = self.table.client.batch_get_item(
                    RequestItems={self.table.name: {"Keys": pending, "ConsistentRead": True}}
                )
            except ClientError as error:
                raise_unavailable_if_throttled(error)
                raise
            items += [deserialize(raw) for raw in response["Responses"].get(self.table.name, [])]
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table.name)
            pending = list(unprocessed["Keys"]) if unprocessed else []
        return items

    def save(self, match_set: MatchSet, correlation_id: str, now: datetime | None = None) -> int:
        """Writes the set at version + 1 if it still has the version it was read at; returns
        the new version, or MatchSetConflict when another write came first."""
        item = match_set_item(match_set, match_set.version + 1, correlation_id, now or utc_now())
        refuse_unless_derived(match_set.key)
        try:
            self.table.client.put_item(
                TableName=self.table.name,
                Item=serialize(item),
                ConditionExpression=_FIRST_OR_SAME,
                ExpressionAttributeNames={"#version": "version"},
                ExpressionAttributeValues=values(expected=match_set.version),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise MatchSetConflict(str(match_set.key)) from error
            raise_unavailable_if_throttled(error)
            raise
        return match_set.version + 1

    def replace(self, item: dict[str, Any]) -> None:
        """Put a set exactly as given, whatever is stored (the rebuild; worker paused)."""
        refuse_unless_derived({"PK": item["PK"], "SK": item["SK"]})
        self.table.client.put_item(TableName=self.table.name, Item=serialize(item))

    def delete(self, key: Key) -> None:
        """Remove a set that should not exist (the rebuild)."""
        refuse_unless_derived(key)
        self.table.client.delete_item(TableName=self.table.name, Key=serialize(key))

    def sets_of_owner(
        self, owner_id: str, side: Side, limit: int, start_key: Key | None
    ) -> tuple[list[MatchSet], Key | None]:
        """One page of a user's sets of one side, in entity id order (OwnerIndex)."""
        page = self.table.query(
            index=keys.OWNER_INDEX,
            key_condition="#pk = :pk AND begins_with(#sk, :prefix)",
            names={"#pk": "GSI1PK", "#sk": "GSI1SK"},
            bound={"pk": keys.matches_owner_pk(owner_id), "prefix": f"{side.value}#"},
            limit=limit,
            start_key=start_key,
            newest_first=False,
        )
        return [match_set_from_item(item) for item in page.items], page.next_key
