"""DynamoDB stream records (as Lambda delivers them) -> item changes -> domain events.

Decoding uses boto3's TypeDeserializer: numbers stay Decimal (dynamodb_json would turn them
into floats). Lambda base64-encodes binary attributes, so B/BS values are decoded first.
Which key families may ever become events is decided here, because the store layer owns the
key design: only core items, and of those never idempotency records or usage counters.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final, cast

from boto3.dynamodb.types import TypeDeserializer

from harvest.domain.events import DomainEvent, EventError, EventName, ItemChange, events_for_change
from harvest.domain.matching import MATCH_SET_TYPE, MatchSetChange, Side, suggested_events
from harvest.store import keys
from harvest.store.items import PUBLISHED_ATTRIBUTES

# Core, but bookkeeping rather than domain state: never published.
UNPUBLISHED_CORE_PREFIXES: Final = ("IDEMPOTENCY#", "USAGE#")
# Derived, and published: an insight version is the subject of `insight.generated`. Only
# that item type: anything else under the prefix stays a derived write, never an event.
PUBLISHED_DERIVED_TYPES: Final = {"INSIGHT#": "insight", keys.MATCH_PREFIX: MATCH_SET_TYPE}
TTL_PRINCIPAL: Final = "dynamodb.amazonaws.com"

_deserializer = TypeDeserializer()
_EVENT_NAMES: Final = frozenset({"INSERT", "MODIFY", "REMOVE"})


def parse_record(record: Mapping[str, Any]) -> ItemChange:
    """One element of a Lambda DynamoDB stream event's `Records` as an ItemChange."""
    event_name = record.get("eventName")
    if event_name not in _EVENT_NAMES:
        raise EventError(f"not a DynamoDB stream record (eventName {event_name!r})")
    body: Mapping[str, Any] = record.get("dynamodb") or {}
    if "Keys" not in body:
        raise EventError("stream record without Keys")
    return ItemChange(
        event_name=cast(EventName, event_name),
        keys=decode_image(body["Keys"]),
        old=decode_image(body["OldImage"]) if "OldImage" in body else None,
        new=decode_image(body["NewImage"]) if "NewImage" in body else None,
        is_ttl_delete=event_name == "REMOVE" and is_ttl_identity(record.get("userIdentity")),
    )


# What domain.contribution.contribution_of reads of a listing or request, and its version.
SOURCE_ATTRIBUTES: Final = frozenset(
    {"type", "status", "quantityRemaining", "quantity", "crop", "unit", "geohash", "ownerId",
     "createdAt", "version"}
)  # fmt: skip


def parse_source_change(record: Mapping[str, Any]) -> ItemChange:
    """parse_record for the Aggregator: the partition key, and of the NewImage only the
    attributes a contribution is made of (SOURCE_ATTRIBUTES). No OldImage: the marker, not the
    record, says what was applied. S and N are read directly (N as Decimal, exact), anything
    else goes through the full decoder."""
    event_name = record.get("eventName")
    if event_name not in _EVENT_NAMES:
        raise EventError(f"not a DynamoDB stream record (eventName {event_name!r})")
    body: Mapping[str, Any] = record.get("dynamodb") or {}
    pk = (body.get("Keys") or {}).get("PK")
    if not isinstance(pk, Mapping):
        raise EventError("stream record without Keys")
    image = body.get("NewImage")
    new: dict[str, Any] | None = None
    if image is not None:
        new = {}
        for name in SOURCE_ATTRIBUTES & image.keys():
            value = image[name]
            if "S" in value:
                new[name] = value["S"]
            elif "N" in value:
                new[name] = Decimal(value["N"])
            else:
                new[name] = _decode(value)
    return ItemChange(
        event_name=cast(EventName, event_name),
        keys={"PK": _decode(pk)},
        old=None,
        new=new,
        is_ttl_delete=event_name == "REMOVE" and is_ttl_identity(record.get("userIdentity")),
    )


def is_ttl_identity(identity: object) -> bool:
    """A TTL deletion: userIdentity {type: Service, principalId: dynamodb.amazonaws.com}.

    Lambda lower-cases the keys; GetRecords (and so a replay from the Streams API) does not.
    """
    if not isinstance(identity, Mapping):
        return False
    kind = identity.get("type", identity.get("Type"))
    principal = identity.get("principalId", identity.get("PrincipalId"))
    return bool(kind == "Service" and principal == TTL_PRINCIPAL)


def is_publishable_key(pk: str, item_type: object = None) -> bool:
    """Core items carry domain state, and so do insights; other derived items (buckets,
    markers, AI cache and usage) and core bookkeeping never do."""
    for prefix, published_type in PUBLISHED_DERIVED_TYPES.items():
        if pk.startswith(prefix):
            return item_type == published_type
    return keys.is_core_key(pk) and not pk.startswith(UNPUBLISHED_CORE_PREFIXES)


def events_from_record(record: Mapping[str, Any]) -> list[DomainEvent]:
    """The domain events of one stream record: none or one (see harvest.domain.events)."""
    change = parse_record(record)
    if change.is_ttl_delete:
        return []
    pk = change.keys.get("PK")
    item_type = change.new.get("type") if change.new is not None else None
    if not isinstance(pk, str) or not is_publishable_key(pk, item_type):
        return []
    if item_type == MATCH_SET_TYPE:
        return match_events(change)
    return events_for_change(change, PUBLISHED_ATTRIBUTES)


def match_events(change: ItemChange) -> list[DomainEvent]:
    """match.suggested for every entry a MATCH# set gained in this write (none for a write
    that did not raise the set's version: a replay or a rewrite)."""
    new = change.new
    if new is None:
        return []
    old = change.old or {}
    try:
        version = int(new["version"])
        if old and version <= int(old["version"]):
            return []
        set_change = MatchSetChange(
            side=Side(str(new["side"])),
            owner_id=str(new["ownerId"]),
            entity_id=str(new["entityId"]),
            version=version,
            updated_at=str(new["updatedAt"]),
            correlation_id=str(new.get("correlationId") or "unknown"),
            old=list(old.get("entries") or []),
            new=list(new.get("entries") or []),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise EventError(f"malformed match set {change.keys}: {error}") from error
    return suggested_events(set_change)


def decode_image(image: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB-JSON image (Lambda wire format) as a plain item: N -> Decimal, B -> bytes."""
    return {name: _decode(value) for name, value in image.items()}


def _decode(value: Mapping[str, Any]) -> Any:
    if "B" in value:
        return _bytes(value["B"])
    if "BS" in value:
        return {_bytes(member) for member in value["BS"]}
    if "M" in value:
        return decode_image(value["M"])
    if "L" in value:
        return [_decode(member) for member in value["L"]]
    return _deserializer.deserialize(cast(Any, value))


def _bytes(wire: object) -> bytes:
    # Lambda sends base64 text; GetRecords through boto3 (a local replay) sends bytes.
    if isinstance(wire, str):
        return base64.b64decode(wire, validate=True)
    if isinstance(wire, bytes | bytearray):
        return bytes(wire)
    raise EventError(f"unexpected binary attribute value {type(wire).__name__}")
