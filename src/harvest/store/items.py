"""Every stored core item, declared once: its attributes (stored name, stored type, the facts
its JSON Schema states, whether domain events publish it) and, for an entity's item, the
encode/decode between the entity and the item the table holds (harvest.store.codec).

The models are stdlib frozen dataclasses, so the Lambdas read and write through them without
importing pydantic (cold start: bench/cold_start.py). Python-side names are snake_case; the
stored name is the camelCase spelling or an explicit `alias` (keys). Numbers DynamoDB keeps
as N are Decimal here. `check` states what JSON Schema cannot (the key templates against the
ids); harvest.store.item_schemas turns each model into a pydantic model (schemas/entities,
validation in tests and tools) at `harvest schemas` time only. This module holds the items
that sit at a place (listings and requests: the sparse FeedIndex and CropIndex keys, what
the FeedIndex projects, what a stored one contributes to the aggregates) and the registry
of every model; the others are in harvest.store.user_items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from harvest.domain.claim import Claim
from harvest.domain.common import ID_PATTERN, iso, parse_iso
from harvest.domain.contribution import ContributionSource, Kind
from harvest.domain.guidance import Guidance
from harvest.domain.insight import PUBLISHED_INSIGHT_ATTRIBUTES
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store import keys
from harvest.store.codec import (
    GEOHASH7_PATTERN,
    TIMESTAMP_PATTERN,
    EntityItem,
    Item,
    StoredItem,
    attr,
    expect,
    published_attributes,
    timestamp,
)
from harvest.store.user_items import (
    ClaimItem,
    GuidanceItem,
    HomeLocation,
    IdempotencyItem,
    ProfileItem,
    UsageItem,
)

__all__ = [
    "ENTITY_ITEMS", "FEED_PROJECTION", "PUBLISHED_ATTRIBUTES", "STORED_ITEM_MODELS",
    "TIMESTAMP_PATTERN", "ClaimItem", "Entity", "GuidanceItem", "HomeLocation",
    "IdempotencyItem", "ListingItem", "ProfileItem", "RequestItem", "StoredItem", "UsageItem",
    "contribution_source", "feed_row_to_entity", "from_item", "model_for", "to_item",
]  # fmt: skip

Entity = Profile | Listing | Request | Claim | Guidance


@dataclass(frozen=True, kw_only=True)
class _Placed(StoredItem):
    """Fields of items that sit at a place: exact point plus its precision-7 geohash."""

    lat: Decimal = attr(ge=-90, le=90, description="Exact latitude (owner-only in the API).")
    lon: Decimal = attr(ge=-180, le=180, description="Exact longitude (owner-only in the API).")
    geohash: str = attr(
        published="area", pattern=GEOHASH7_PATTERN, description="Geohash (precision 7) of lat/lon."
    )
    crop: str = attr(published=True, min_length=1, description="Crop catalog slug, e.g. tomato.")
    unit: str = attr(
        published=True, min_length=1, description="Unit of the quantities, e.g. kg, each, bunch."
    )
    owner_id: str = attr(published=True, min_length=1, description="User id of the owner.")
    notes: str | None = attr(
        published=True, default=None, description="Free text; absent when not given."
    )
    gsi1_pk: str = attr(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{ownerId}")
    gsi3_pk: str | None = attr(
        default=None,
        alias="GSI3PK",
        pattern=r"^FEED#[0-9b-hjkmnp-z]{4}$",
        description="FEED#{geohash4}; present only while the item is live (FeedIndex).",
    )
    gsi3_sk: str | None = attr(default=None, alias="GSI3SK")
    gsi4_pk: str | None = attr(
        default=None,
        alias="GSI4PK",
        pattern=r"^CROP#[0-9b-hjkmnp-z]{4}#(listing|request)#[a-z]+(-[a-z]+)*$",
        description="CROP#{geohash4}#{kind}#{crop}; present only while the item is live "
        "(CropIndex, sorted by GSI3SK).",
    )

    def _check_placed(self, kind: str, entity_id: str, pk: str, owned_sk: str, live: bool) -> None:
        own = keys.listing_key(entity_id) if kind == "listing" else keys.request_key(entity_id)
        expect("PK", pk, own["PK"])
        expect("GSI1PK", self.gsi1_pk, keys.owner_pk(self.owner_id))
        expect("GSI1SK", owned_sk, keys.owned_sk(kind, self.created_at, entity_id))
        # Sparse FeedIndex: only live items carry GSI3 keys, so the index holds nothing else.
        sk = keys.feed_sk(self.geohash, kind, entity_id)
        expect("GSI3PK", self.gsi3_pk, keys.feed_pk(self.geohash) if live else None)
        expect("GSI3SK", self.gsi3_sk, sk if live else None)
        crop_pk = keys.crop_pk(self.geohash, kind, self.crop)
        expect("GSI4PK", self.gsi4_pk, crop_pk if live else None)

    @classmethod
    def item_keys(cls, entity: Listing | Request) -> Item:
        """A listing's or request's keys: its own, the owner index, and the sparse feed
        index (only a live item, a claimable listing or an open request, is discoverable by
        place)."""
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


def _own_key(kind: str) -> Any:
    upper = kind.upper()
    return attr(alias="PK", pattern=rf"^{upper}#.+$", description=f"{upper}#{{{kind}Id}}")


def _owned_sk(kind: str) -> Any:
    upper = kind.upper()
    return attr(
        alias="GSI1SK",
        pattern=rf"^{upper}#.+#.+$",
        description=f"{upper}#{{createdAt}}#{{{kind}Id}}",
    )


def _feed_sk(kind: str, live: str) -> Any:
    return attr(
        default=None,
        alias="GSI3SK",
        pattern=rf"^[0-9b-hjkmnp-z]{{5}}#{kind}#.+$",
        description=f"{{geohash5}}#{kind}#{{{kind}Id}}: published cell, kind, id; present only "
        f"while the {kind} is {live}.",
    )


@dataclass(frozen=True, kw_only=True)
class ListingItem(_Placed, EntityItem[Listing]):
    """Surplus food a grower offers.

    PK = LISTING#{listingId}, SK = LISTING.
    OwnerIndex: GSI1PK = USER#{ownerId}, GSI1SK = LISTING#{createdAt}#{listingId}.
    FeedIndex (only while status = active): GSI3PK = FEED#{geohash[:4]},
    GSI3SK = {geohash[:5]}#listing#{listingId}.
    CropIndex (the same): GSI4PK = CROP#{geohash[:4]}#listing#{crop}, GSI3SK.
    """

    pk: str = _own_key("listing")
    sk: Literal["LISTING"] = attr(alias="SK", description="Always LISTING.")
    gsi1_sk: str = _owned_sk("listing")
    gsi3_sk: str | None = _feed_sk("listing", "active")
    type: Literal["listing"] = attr(description="Entity discriminator.")
    listing_id: str = attr(
        published=True, pattern=ID_PATTERN, description="Listing id (client- or server-made)."
    )
    quantity_total: Decimal = attr(published=True, gt=0, description="Quantity offered, in `unit`.")
    quantity_remaining: Decimal = attr(
        published=True,
        ge=0,
        description="Quantity not yet reserved by confirmed claims, in `unit`.",
    )
    available_from: str = timestamp("Pick-up from.")
    available_until: str = timestamp("Pick-up until.")
    status: ListingStatus = attr(
        published=True, description="active -> claimed -> completed|expired|cancelled."
    )

    def check(self) -> None:
        live = self.status is ListingStatus.ACTIVE
        self._check_placed("listing", self.listing_id, self.pk, self.gsi1_sk, live)
        if self.quantity_remaining > self.quantity_total:
            raise ValueError("quantityRemaining exceeds quantityTotal")


@dataclass(frozen=True, kw_only=True)
class RequestItem(_Placed, EntityItem[Request]):
    """What a searcher needs.

    PK = REQUEST#{requestId}, SK = REQUEST.
    OwnerIndex: GSI1PK = USER#{ownerId}, GSI1SK = REQUEST#{createdAt}#{requestId}.
    FeedIndex (only while status = open): GSI3PK = FEED#{geohash[:4]},
    GSI3SK = {geohash[:5]}#request#{requestId}.
    CropIndex (the same): GSI4PK = CROP#{geohash[:4]}#request#{crop}, GSI3SK.
    """

    type: Literal["request"] = attr(description="Entity discriminator.")
    request_id: str = attr(
        published=True, pattern=ID_PATTERN, description="Request id (client- or server-made)."
    )
    quantity: Decimal = attr(published=True, gt=0, description="Quantity needed, in `unit`.")
    needed_by: str = timestamp("Needed by.")
    status: RequestStatus = attr(
        published=True, description="open -> matched -> closed | cancelled."
    )
    # Keys (the schema lists them first whatever the order here).
    pk: str = _own_key("request")
    sk: Literal["REQUEST"] = attr(alias="SK", description="Always REQUEST.")
    gsi1_sk: str = _owned_sk("request")
    gsi3_sk: str | None = _feed_sk("request", "open")

    def check(self) -> None:
        live = self.status is RequestStatus.OPEN
        self._check_placed("request", self.request_id, self.pk, self.gsi1_sk, live)


STORED_ITEM_MODELS: dict[str, type[StoredItem]] = {
    "profile": ProfileItem,
    "listing": ListingItem,
    "request": RequestItem,
    "claim": ClaimItem,
    "idempotency": IdempotencyItem,
    "guidance": GuidanceItem,
    "usage": UsageItem,
}

# Entity class -> its item model.
ENTITY_ITEMS: dict[type[Any], type[Any]] = {
    Profile: ProfileItem,
    Listing: ListingItem,
    Request: RequestItem,
    Claim: ClaimItem,
    Guidance: GuidanceItem,
}

# What each entity's domain event may carry in `data` (harvest.domain.events.public_view
# publishes by inclusion): the attributes its model marks `published`; the insight's (a
# derived item, no model here) from harvest.domain.insight. A match.suggested event is built
# entry by entry (harvest.domain.matching.PUBLISHED_MATCH_ATTRIBUTES).
PUBLISHED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "listing": published_attributes(ListingItem),
    "request": published_attributes(RequestItem),
    "claim": published_attributes(ClaimItem),
    "profile": published_attributes(ProfileItem),
    "guidance": published_attributes(GuidanceItem),
    "insight": PUBLISHED_INSIGHT_ATTRIBUTES,
}


def model_for(item_type: str) -> type[StoredItem]:
    """The model of a stored item's `type`; KeyError for derived or unknown types."""
    return STORED_ITEM_MODELS[item_type]


def to_item(entity: Entity) -> Item:
    """The item the table stores for `entity` (its model's encode)."""
    model: type[EntityItem[Any]] = ENTITY_ITEMS[type(entity)]
    return model.encode(entity)


def from_item[E: Entity](entity_class: type[E], item: Mapping[str, Any]) -> E:
    """The entity of a stored item (its model's decode)."""
    model: type[EntityItem[E]] = ENTITY_ITEMS[entity_class]
    return model.decode(item)


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
    return ListingItem.decode(full) if item["type"] == "listing" else RequestItem.decode(full)
