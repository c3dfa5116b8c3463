"""Domain events: which change of a core item becomes which event, and the envelope.

Pure logic over plain item dictionaries (as the store layer decodes them from a stream
record); the store layer decides which key families are core (harvest.store.stream) and the
publisher Lambda sends the entries this module builds.

Event types (EventBridge detail-type) per change of one core item (ENTITY_RULES):

    entity    INSERT              MODIFY, status changed to X            MODIFY, same status
    listing   listing.created     listing.X; back to active: .updated    listing.updated
    request   request.created     request.X; back to open: .updated      request.updated
    claim     claim.created       claim.X (confirmed|completed|...)      none
    profile   profile.updated     (profiles have no status)              profile.updated
    guidance  guidance.requested  none                                   none
    insight   insight.generated   (insights have no status)              insight.generated
    match     match.suggested per entry new in a MATCH# set (harvest.domain.matching)

- PUT /me creates or replaces a profile, so its first write is `profile.updated` too.
- Claims have no field but `status` that changes after creation, so there is no
  `claim.updated`; a guidance request is only ever announced once.
- A MODIFY whose `version` did not increase (a replay or a no-op rewrite) is no event.
- REMOVE is never an event: the API never deletes core items (cancelling is a status change),
  and a TTL deletion (only idempotency records expire) is the service's housekeeping. Should
  the API ever delete a core item (account erasure), a user REMOVE gets its own type then.
- Any other item `type` (idempotency records, usage counters, derived items) is no event.
  The one derived item that is an event is the insight (DESIGN §5 lists `insight.generated`):
  its version moves only when the published signals changed, so each version is news; the
  bucket, marker, AI cache and usage writes behind it never are.

Envelope: `id` is a uuid5 over (entity type, entity id, version, detail-type), so a replayed
stream record yields the same id and subscribers can dedupe on it; `occurredAt` is the item's
`updatedAt`; `data` is the public view of the new image (see public_view).

Numbers: DynamoDB numbers arrive as Decimal. `data` holds them as JSON numbers written with
exactly the stored digits (an integral value as an int, any other as the float whose
shortest repr has the same value); a number that no float can carry exactly (more than 15-17
significant digits) raises instead of being rounded. Everything the API stores fits (quantities
have at most 12 digits), and JSON numbers keep quantities numbers, as in the REST API.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from harvest.domain.common import PUBLIC_GEOHASH_PRECISION
from harvest.domain.insight import windows_from_stored, windows_to_public
from harvest.domain.signals import inputs_digest

type EventName = Literal["INSERT", "MODIFY", "REMOVE"]
type JsonValue = bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None

# A fixed namespace: event ids must never change between deployments.
EVENT_ID_NAMESPACE = uuid.UUID("3f0b9d5e-6c1a-5e4b-9a57-1d2c8e7f4a60")
# EventBridge's limit on one PutEvents entry, counted as in its documentation.
MAX_ENTRY_BYTES = 256 * 1024
_TIME_BYTES = 14  # what EventBridge counts for an entry's Time, whatever its format

# Never published: key attributes (PK, SK, GSI*) and what the envelope already carries.
_KEY_ATTRIBUTES = frozenset({"PK", "SK"})
_ENVELOPE_ATTRIBUTES = frozenset({"type", "correlationId"})
# Exact coordinates never leave the table; a geohash is published cut to the public cell.
_COORDINATES = frozenset({"lat", "lon"})
_GEOHASH, _AREA = "geohash", "area"


class DetailType(StrEnum):
    LISTING_CREATED = "listing.created"
    LISTING_UPDATED = "listing.updated"
    LISTING_CLAIMED = "listing.claimed"
    LISTING_COMPLETED = "listing.completed"
    LISTING_EXPIRED = "listing.expired"
    LISTING_CANCELLED = "listing.cancelled"
    REQUEST_CREATED = "request.created"
    REQUEST_UPDATED = "request.updated"
    REQUEST_MATCHED = "request.matched"
    REQUEST_CLOSED = "request.closed"
    REQUEST_CANCELLED = "request.cancelled"
    CLAIM_CREATED = "claim.created"
    CLAIM_CONFIRMED = "claim.confirmed"
    CLAIM_COMPLETED = "claim.completed"
    CLAIM_CANCELLED = "claim.cancelled"
    CLAIM_NO_SHOW = "claim.no_show"
    PROFILE_UPDATED = "profile.updated"
    GUIDANCE_REQUESTED = "guidance.requested"
    INSIGHT_GENERATED = "insight.generated"
    MATCH_SUGGESTED = "match.suggested"

    @property
    def entity_type(self) -> str:
        return self.value.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class EntityRules:
    """How changes of one entity type map to event types (the table in the module doc)."""

    entity_type: str
    id_attribute: str
    on_insert: DetailType
    on_update: DetailType | None  # MODIFY without a status change; None: no event
    on_status: Mapping[str, DetailType]  # new status -> event; absent: on_update
    plural: str | None = None  # of entity_type in the source, when not entity_type + "s"

    @property
    def source(self) -> str:
        return f"harvest.{self.plural or self.entity_type + 's'}"


_D = DetailType
ENTITY_RULES: Mapping[str, EntityRules] = {
    rules.entity_type: rules
    for rules in (
        EntityRules(
            "listing",
            "listingId",
            _D.LISTING_CREATED,
            _D.LISTING_UPDATED,
            {
                "claimed": _D.LISTING_CLAIMED,
                "completed": _D.LISTING_COMPLETED,
                "expired": _D.LISTING_EXPIRED,
                "cancelled": _D.LISTING_CANCELLED,
            },
        ),
        EntityRules(
            "request",
            "requestId",
            _D.REQUEST_CREATED,
            _D.REQUEST_UPDATED,
            {
                "matched": _D.REQUEST_MATCHED,
                "closed": _D.REQUEST_CLOSED,
                "cancelled": _D.REQUEST_CANCELLED,
            },
        ),
        EntityRules(
            "claim",
            "claimId",
            _D.CLAIM_CREATED,
            None,
            {
                "confirmed": _D.CLAIM_CONFIRMED,
                "completed": _D.CLAIM_COMPLETED,
                "cancelled": _D.CLAIM_CANCELLED,
                "no_show": _D.CLAIM_NO_SHOW,
            },
        ),
        EntityRules("profile", "userId", _D.PROFILE_UPDATED, _D.PROFILE_UPDATED, {}),
        EntityRules("guidance", "guidanceId", _D.GUIDANCE_REQUESTED, None, {}),
        EntityRules("insight", "area", _D.INSIGHT_GENERATED, _D.INSIGHT_GENERATED, {}),
        # Matches are not items: one event per entry new in a MATCH# set, built by
        # harvest.domain.matching.suggested_events (a set item's own type is no entity).
        EntityRules("match", "matchId", _D.MATCH_SUGGESTED, None, {}, "matches"),
    )
}


class EventError(ValueError):
    """A change cannot be published as it is (malformed item, unrepresentable value)."""


class EventTooLarge(EventError):
    """The PutEvents entry would exceed EventBridge's 256 KB limit."""


@dataclass(frozen=True, slots=True)
class ItemChange:
    """One stream record of one item, decoded: images are plain dicts (numbers as Decimal)."""

    event_name: EventName
    keys: Mapping[str, Any]
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    is_ttl_delete: bool = False


@dataclass(frozen=True, slots=True)
class DomainEvent:
    id: str
    source: str
    detail_type: DetailType
    occurred_at: str
    correlation_id: str
    entity_type: str
    entity_id: str
    version: int
    data: Mapping[str, JsonValue]

    def envelope(self) -> dict[str, JsonValue]:
        """The event as published in `Detail` (camelCase, like the REST API)."""
        return {
            "id": self.id,
            "source": self.source,
            "detailType": self.detail_type.value,
            "occurredAt": self.occurred_at,
            "correlationId": self.correlation_id,
            "entityType": self.entity_type,
            "entityId": self.entity_id,
            "version": self.version,
            "data": dict(self.data),
        }


def event_id(entity_type: str, entity_id: str, version: int, detail_type: str) -> str:
    """Deterministic: the same entity version and type always give the same id."""
    name = json.dumps([entity_type, entity_id, version, detail_type], ensure_ascii=False)
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def detail_type_of(change: ItemChange) -> DetailType | None:
    """The event type of a change, or None when the change is not published."""
    if change.event_name == "REMOVE" or change.new is None:
        return None  # see the module doc: deletions (user or TTL) are never events
    rules = ENTITY_RULES.get(str(change.new.get("type")))
    if rules is None:
        return None
    if change.event_name == "INSERT":
        return rules.on_insert
    if change.old is None:
        raise EventError("MODIFY without OldImage: the stream must be NEW_AND_OLD_IMAGES")
    if _version(change.new) <= _version(change.old):
        return None  # a replay or a rewrite of the same version
    status = change.new.get("status")
    if status is not None and status != change.old.get("status"):
        return rules.on_status.get(str(status), rules.on_update)
    return rules.on_update


def events_for_change(
    change: ItemChange, published: Mapping[str, Collection[str]]
) -> list[DomainEvent]:
    """The events of one change of a core item: none or one. `published`: per entity type,
    the attributes its events carry (the store layer's item models mark them)."""
    detail_type = detail_type_of(change)
    if detail_type is None or change.new is None:
        return []
    item = change.new
    rules = ENTITY_RULES[detail_type.entity_type]
    if rules.entity_type == "insight" and "windows" in item:
        # Stored compactly (crops as rows, no summary or digests: domain.insight); published
        # named and whole, as the event model says.
        area = str(item["area"])
        windows = windows_from_stored(item["windows"], area)
        digests = item.get("digests") or {str(w.days): inputs_digest(w) for w in windows}
        item = {**item, "windows": windows_to_public(item["windows"], area), "digests": digests}
    entity_id = _required(item, rules.id_attribute)
    version = _version(item)
    return [
        DomainEvent(
            id=event_id(rules.entity_type, entity_id, version, detail_type.value),
            source=rules.source,
            detail_type=detail_type,
            occurred_at=_required(item, "updatedAt"),
            correlation_id=_required(item, "correlationId"),
            entity_type=rules.entity_type,
            entity_id=entity_id,
            version=version,
            data=public_view(item, published[rules.entity_type]),
        )
    ]


def public_view(item: Mapping[str, Any], published: Collection[str]) -> dict[str, JsonValue]:
    """What subscribers may see of an item: the attributes `published` names, no more.

    By inclusion: an attribute the event model does not list (a new private field, a key,
    bookkeeping such as an insight's `validUntil`) is never published. Whatever is listed,
    `lat`/`lon` are dropped at any depth and a `geohash` becomes `area`, cut to the public
    precision (5); key attributes, `type` and `correlationId` (the envelope carries them)
    never go into `data` even if listed.
    """
    return {
        name: value
        for name, value in _public_map(item).items()
        if name in published
        and name not in _KEY_ATTRIBUTES
        and not name.startswith("GSI")
        and name not in _ENVELOPE_ATTRIBUTES
    }


def _public_map(values: Mapping[str, Any]) -> dict[str, JsonValue]:
    public: dict[str, JsonValue] = {}
    for name, value in values.items():
        if name in _COORDINATES:
            continue
        if name == _GEOHASH and isinstance(value, str):
            public[_AREA] = value[:PUBLIC_GEOHASH_PRECISION]
        else:
            public[str(name)] = _json_value(value)
    return public


def _json_value(value: object) -> JsonValue:
    match value:
        case None | bool() | str():
            return value
        case Decimal():
            return exact_number(value)
        case int() | float():
            return exact_number(Decimal(str(value)))
        case Mapping():
            return _public_map(value)
        case bytes() | bytearray():
            return base64.b64encode(value).decode("ascii")
        case set() | frozenset():
            return sorted((_json_value(member) for member in value), key=_sort_key)
        case list() | tuple():
            return [_json_value(member) for member in value]
    raise EventError(f"cannot publish a value of type {type(value).__name__}")


def _sort_key(value: JsonValue) -> tuple[str, str]:
    # DynamoDB sets are unordered; a stable order keeps the Detail deterministic.
    return type(value).__name__, json.dumps(value)


def exact_number(value: Decimal) -> int | float:
    """A Decimal as a JSON-ready number with exactly its value, or EventError."""
    if not value.is_finite():
        raise EventError(f"{value} is not a JSON number")
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise EventError(f"{value} has more digits than a JSON number can carry exactly")
    return as_float


def to_put_events_entry(event: DomainEvent, bus_name: str) -> dict[str, Any]:
    """The PutEvents entry of an event; EventTooLarge when EventBridge would refuse it."""
    detail = json.dumps(
        event.envelope(), ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    entry: dict[str, Any] = {
        "Source": event.source,
        "DetailType": event.detail_type.value,
        "Detail": detail,
        "EventBusName": bus_name,
        "Time": event.occurred_at,
        "Resources": [],
    }
    size = entry_size(entry)
    if size > MAX_ENTRY_BYTES:
        raise EventTooLarge(
            f"{event.detail_type} of {event.entity_type} {event.entity_id} v{event.version} "
            f"is {size} bytes; EventBridge accepts at most {MAX_ENTRY_BYTES}"
        )
    return entry


def entry_size(entry: Mapping[str, Any]) -> int:
    """An entry's size as EventBridge counts it against the 256 KB limit."""
    size = _TIME_BYTES if entry.get("Time") else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode("utf-8"))
    size += sum(len(str(resource).encode("utf-8")) for resource in entry.get("Resources", []))
    return size


def _version(item: Mapping[str, Any]) -> int:
    try:
        return int(item["version"])
    except (KeyError, TypeError, ValueError) as error:
        raise EventError(f"item without an integer version: {error}") from error


def _required(item: Mapping[str, Any], name: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value:
        raise EventError(f"{item.get('type')} item without {name}")
    return value
