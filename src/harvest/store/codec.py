"""Entity <-> stored item: one shape per item, the entity's fields as its store/items.py
model names them.

No item is written out by hand here: each field of an entity is stored under its camelCase
name (the models' alias generator spells the same), converted by the field's type. A new
optional field is a field on the entity and on its model (a drift test checks that they
agree), nothing here. The conversions:

    datetime      <-> ISO-8601 string (iso / parse_iso)
    date          <-> YYYY-MM-DD
    Decimal       <-> N (exact)
    float         <-> N via str() (boto3 refuses floats; str() keeps the shortest repr)
    StrEnum       <-> its value
    Location      <-> lat/lon/geohash attributes (a field named `location`), else a map
    X | None      :   None is no attribute at all (a sparse design has no use for nulls)

Keys are not fields: `_KEYS` builds them per entity (the sparse FeedIndex and CropIndex
keys follow the status). The layout of each entity is read from its type hints on first use
and cached; nothing here imports pydantic (cold start: bench/cold_start.py).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from harvest.domain.claim import Claim
from harvest.domain.common import Location, iso, parse_iso
from harvest.domain.contribution import ContributionSource, Kind
from harvest.domain.guidance import Guidance
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store import keys

Item = dict[str, Any]
Entity = Profile | Listing | Request | Claim | Guidance


def _float_attr(value: float) -> Decimal:
    return Decimal(str(value))


def _location_to_map(location: Location) -> Item:
    return {
        "lat": _float_attr(location.lat),
        "lon": _float_attr(location.lon),
        "geohash": location.geohash,
    }


def _location(item: Mapping[str, Any]) -> Location:
    return Location(lat=float(item["lat"]), lon=float(item["lon"]), geohash=str(item["geohash"]))


def _placed_keys(entity: Listing | Request) -> Item:
    """A listing's or request's keys: its own, the owner index, and the sparse feed index
    (only a live item, a claimable listing or an open request, is discoverable by place)."""
    if isinstance(entity, Listing):
        kind, entity_id = "listing", entity.listing_id
        own, live = keys.listing_key(entity_id), entity.status is ListingStatus.ACTIVE
    else:
        kind, entity_id = "request", entity.request_id
        own, live = keys.request_key(entity_id), entity.status is RequestStatus.OPEN
    found: Item = {
        **own,
        "GSI1PK": keys.owner_pk(entity.owner_id),
        "GSI1SK": keys.owned_sk(kind, iso(entity.created_at), entity_id),
    }
    if live:
        found["GSI3PK"] = keys.feed_pk(entity.location.geohash)
        found["GSI3SK"] = keys.feed_sk(entity.location.geohash, kind, entity_id)
        found["GSI4PK"] = keys.crop_pk(entity.location.geohash, kind, entity.crop)
    return found


def _claim_keys(claim: Claim) -> Item:
    owned = keys.owned_sk("claim", iso(claim.created_at), claim.claim_id)
    return {
        **keys.claim_key(claim.claim_id),
        "GSI1PK": keys.owner_pk(claim.claimer_id),
        "GSI1SK": owned,
        "GSI2PK": keys.received_claims_pk(claim.owner_id),
        "GSI2SK": owned,
    }


def _guidance_keys(guidance: Guidance) -> Item:
    return {
        **keys.guidance_key(guidance.guidance_id),
        "GSI1PK": keys.owner_pk(guidance.owner_id),
        "GSI1SK": keys.owned_sk("guidance", iso(guidance.created_at), guidance.guidance_id),
    }


# Entity class -> (stored `type`, its keys).
_KEYS: dict[type[Any], tuple[str, Callable[[Any], Item]]] = {
    Profile: ("profile", lambda profile: keys.profile_key(profile.user_id)),
    Listing: ("listing", _placed_keys),
    Request: ("request", _placed_keys),
    Claim: ("claim", _claim_keys),
    Guidance: ("guidance", _guidance_keys),
}


@dataclass(frozen=True, slots=True)
class _Attribute:
    """One entity field and how it is stored."""

    field: str
    stored: str  # the model's alias; "" for a location stored as lat/lon/geohash
    kind: type[Any]
    optional: bool

    def encode(self, value: Any, item: Item) -> None:
        if value is None:
            return
        if self.kind is Location:
            if self.stored:
                item[self.stored] = _location_to_map(value)
            else:
                item.update(_location_to_map(value))
        elif self.kind is datetime:
            item[self.stored] = iso(value)
        elif self.kind is date:
            item[self.stored] = value.isoformat()
        elif self.kind is float:
            item[self.stored] = _float_attr(value)
        elif issubclass(self.kind, Enum):
            item[self.stored] = value.value
        else:
            item[self.stored] = value

    def decode(self, item: Mapping[str, Any]) -> Any:
        if self.kind is Location and not self.stored:
            return _location(item)
        raw = item.get(self.stored) if self.optional else item[self.stored]
        if raw is None:
            return None
        if self.kind is Location:
            return _location(raw)
        if self.kind is datetime:
            return parse_iso(raw)
        if self.kind is date:
            return date.fromisoformat(raw)
        if self.kind in (int, float, Decimal, str) or issubclass(self.kind, Enum):
            return self.kind(raw)
        raise TypeError(f"no stored form for {self.kind!r}")  # pragma: no cover - new type


def _unwrap(annotation: Any) -> tuple[type[Any], bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return inner[0], True
    return annotation, False


_LAYOUTS: dict[type[Any], tuple[_Attribute, ...]] = {}


def stored_name(field_name: str) -> str:
    """The stored attribute of an entity field: its name in camelCase, as the models'
    alias generator (pydantic's to_camel) spells it."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _layout(entity_class: type[Any]) -> tuple[_Attribute, ...]:
    """How each field of the entity is stored, read from the entity's own type hints (no
    pydantic on a Lambda's path: importing the models cost the AI worker ~400 ms CPU on its
    first guidance message). A field named `location` is stored as lat/lon/geohash, any other
    Location as a map. tests/unit/test_schemas_drift.py validates what this writes against
    the store/items.py model of the item (extra attributes forbidden), so the entity and its
    model cannot differ."""
    if entity_class in _LAYOUTS:
        return _LAYOUTS[entity_class]
    hints = get_type_hints(entity_class)
    layout: list[_Attribute] = []
    for spec in fields(entity_class):
        kind, optional = _unwrap(hints[spec.name])
        flat = kind is Location and spec.name == "location"
        layout.append(_Attribute(spec.name, "" if flat else stored_name(spec.name), kind, optional))
    _LAYOUTS[entity_class] = tuple(sorted(layout, key=lambda attribute: attribute.optional))
    return _LAYOUTS[entity_class]


def to_item(entity: Entity) -> Item:
    """The item the table stores for `entity`: keys, `type`, then its model's attributes."""
    item_type, keys_of = _KEYS[type(entity)]
    # The order of a stored item's attributes is what schemas/sample-data.jsonl shows: keys,
    # type, required attributes, optional ones, the sparse feed keys last.
    found = keys_of(entity)
    feed = {name: found.pop(name) for name in ("GSI3PK", "GSI3SK", "GSI4PK") if name in found}
    item: Item = {**found, "type": item_type}
    for attribute in _layout(type(entity)):
        attribute.encode(getattr(entity, attribute.field), item)
    return item | feed


def from_item[E: Entity](entity_class: type[E], item: Mapping[str, Any]) -> E:
    values = {attribute.field: attribute.decode(item) for attribute in _layout(entity_class)}
    return entity_class(**values)


# The names the rest of the store calls (and tests, tools, samples).
def profile_to_item(profile: Profile) -> Item:
    return to_item(profile)


def item_to_profile(item: Mapping[str, Any]) -> Profile:
    return from_item(Profile, item)


def listing_to_item(listing: Listing) -> Item:
    return to_item(listing)


def item_to_listing(item: Mapping[str, Any]) -> Listing:
    return from_item(Listing, item)


def request_to_item(request: Request) -> Item:
    return to_item(request)


def item_to_request(item: Mapping[str, Any]) -> Request:
    return from_item(Request, item)


def claim_to_item(claim: Claim) -> Item:
    return to_item(claim)


def item_to_claim(item: Mapping[str, Any]) -> Claim:
    return from_item(Claim, item)


def guidance_to_item(guidance: Guidance) -> Item:
    return to_item(guidance)


def item_to_guidance(item: Mapping[str, Any]) -> Guidance:
    return from_item(Guidance, item)


def contribution_source(item: Mapping[str, Any]) -> ContributionSource | None:
    """What a stored listing or request contributes from (store.stream.SOURCE_ATTRIBUTES
    names what this reads); None for any other item."""
    item_type = item.get("type")
    if item_type == "listing":
        kind: Kind = "supply"
        amount = item.get("quantityRemaining")
    elif item_type == "request":
        kind = "demand"
        amount = item.get("quantity")
    else:
        return None
    return ContributionSource(
        kind=kind,
        owner=str(item["ownerId"]),
        crop=str(item["crop"]),
        unit=str(item["unit"]),
        geohash=str(item["geohash"]),
        created_at=parse_iso(str(item["createdAt"])),
        status=str(item.get("status")),
        amount=None if amount is None else Decimal(str(amount)),
    )


# What the FeedIndex projects besides its keys: what a feed item shows, no more (no
# correlationId, no owner-index keys). template.yaml lists the same names (a test checks).
FEED_PROJECTION: tuple[str, ...] = (
    "type", "listingId", "requestId", "ownerId", "crop", "unit", "quantityTotal",
    "quantityRemaining", "quantity", "availableFrom", "availableUntil", "neededBy",
    "lat", "lon", "geohash", "status", "notes", "version", "createdAt", "updatedAt",
)  # fmt: skip


def feed_row_to_entity(item: Mapping[str, Any]) -> Listing | Request:
    """A FeedIndex row (projected attributes only) -> the entity a feed item shows."""
    full = {**item, "correlationId": ""}  # not projected: a feed item never shows it
    return item_to_listing(full) if item["type"] == "listing" else item_to_request(full)
