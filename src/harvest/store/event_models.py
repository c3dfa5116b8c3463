"""Pydantic models of the published domain events; the source of schemas/events/*.schema.json.

They describe what harvest.domain.events publishes in a PutEvents entry's `Detail`: the
envelope plus, in `data`, the public view of the item (camelCase, no key attributes, no exact
coordinates: `area` is the precision-5 geohash cell). Numbers are JSON numbers carrying the
stored Decimal's exact value. Only used to generate schemas and to check events in tests.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo

from harvest.domain.claim import ClaimStatus
from harvest.domain.common import ID_PATTERN, MATCH_ID_PATTERN
from harvest.domain.entitlements import Tier
from harvest.domain.events import ENTITY_RULES, DetailType
from harvest.domain.listing import ListingStatus
from harvest.domain.request import RequestStatus
from harvest.store.item_schemas import StoredItemJsonSchema, pydantic_model
from harvest.store.items import (
    PUBLISHED_ATTRIBUTES,
    TIMESTAMP_PATTERN,
    ClaimItem,
    GuidanceItem,
    ListingItem,
    ProfileItem,
    RequestItem,
    StoredItem,
)

AREA_PATTERN = r"^[0-9b-hjkmnp-z]{5}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
_TS = "ISO-8601 UTC with milliseconds and Z"
_EXACT = "JSON number with exactly the stored value"

Quantity = Annotated[float, Field(gt=0, description=f"Quantity in `unit`; {_EXACT}.")]
Area = Annotated[
    str,
    Field(pattern=AREA_PATTERN, description="Geohash cell (precision 5, ~5 km); never exact."),
]
Timestamp = Annotated[str, Field(pattern=TIMESTAMP_PATTERN, description=_TS)]


def _published_name(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    # Titles show the name in the Detail JSON, which is what a subscriber searches for.
    return to_camel(name)


_CONFIG = ConfigDict(
    extra="forbid", alias_generator=to_camel, frozen=True, field_title_generator=_published_name
)


class EventData(BaseModel):
    """Public view of an item: attributes common to every entity."""

    model_config = _CONFIG

    version: int = Field(ge=1, description="Entity version this event announces.")
    created_at: Timestamp
    updated_at: Timestamp


class _Placed(EventData):
    owner_id: str = Field(min_length=1, description="User id of the owner.")
    crop: str = Field(min_length=1, description="Crop catalog slug, e.g. tomato.")
    unit: str = Field(min_length=1, description="Unit of the quantities, e.g. kg.")
    area: Area
    notes: str | None = Field(default=None, description="Free text; absent when not given.")


class ListingData(_Placed):
    """A listing as subscribers see it."""

    listing_id: str = Field(pattern=ID_PATTERN, description="Listing id.")
    quantity_total: Quantity
    quantity_remaining: Annotated[
        float, Field(ge=0, description=f"Quantity not yet reserved, in `unit`; {_EXACT}.")
    ]
    available_from: Timestamp
    available_until: Timestamp
    status: ListingStatus = Field(description="active -> claimed -> completed|expired|cancelled.")


class RequestData(_Placed):
    """A request as subscribers see it."""

    request_id: str = Field(pattern=ID_PATTERN, description="Request id.")
    quantity: Quantity
    needed_by: Timestamp
    status: RequestStatus = Field(description="open -> matched -> closed | cancelled.")


class ClaimData(EventData):
    """A claim as subscribers see it."""

    claim_id: str = Field(pattern=ID_PATTERN, description="Claim id.")
    listing_id: str = Field(pattern=ID_PATTERN, description="The claimed listing.")
    claimer_id: str = Field(min_length=1, description="User id of the searcher who claims.")
    owner_id: str = Field(min_length=1, description="User id of the listing's owner.")
    quantity: Quantity
    unit: str = Field(min_length=1, description="The listing's unit.")
    status: ClaimStatus = Field(description="pending -> confirmed -> completed, or cancelled.")
    request_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The request this claim serves, if any."
    )
    note: str | None = Field(default=None, description="Free text; absent when not given.")
    match_id: str | None = Field(
        default=None,
        pattern=MATCH_ID_PATTERN,
        description="The match suggestion (`{requestId}.{listingId}`) it was made from, if any.",
    )


class PublicPlace(BaseModel):
    """A place reduced to its public cell."""

    model_config = _CONFIG

    area: Area


class ProfileData(EventData):
    """A profile as subscribers see it (the home point only as its public cell)."""

    user_id: str = Field(min_length=1, description="The identity provider's subject.")
    display_name: str = Field(description="Name shown to other users; may be empty.")
    home_location: PublicPlace | None = Field(
        default=None, description="Home cell; absent until the user sets a home."
    )
    share_radius_km: float = Field(gt=0, description=f"Share radius in km; {_EXACT}.")
    tier: Tier = Field(description="Subscription tier copied from the token.")


class GuidanceData(EventData):
    """A grower-guidance request: what the AI worker needs to answer it."""

    guidance_id: str = Field(pattern=ID_PATTERN, description="Guidance request id.")
    owner_id: str = Field(min_length=1, description="User who asked.")
    area: str = Field(pattern=r"^[0-9b-hjkmnp-z]{4,6}$", description="Geohash cell asked about.")
    crop: str | None = Field(default=None, description="Crop slug; absent: any crop.")
    tier: Tier = Field(description="Tier when asked (context for the worker, never a grant).")


class InsightCropData(BaseModel):
    """One crop of a window; the figures are absent when it is `insufficient_data`."""

    model_config = _CONFIG

    crop: str = Field(min_length=1, description="Crop catalog slug.")
    unit: str = Field(min_length=1, description="The crop's canonical unit.")
    classification: Literal["shortage", "surplus", "balanced", "insufficient_data"]
    supply: float | None = Field(default=None, ge=0, description=f"Supply; {_EXACT}.")
    demand: float | None = Field(default=None, ge=0, description=f"Demand; {_EXACT}.")
    listings: int | None = Field(default=None, ge=0)
    requests: int | None = Field(default=None, ge=0)
    scarcity: float | None = Field(default=None, ge=0, description="demand / (supply + 1).")
    abundance: float | None = Field(default=None, ge=0, description="supply / (demand + 1).")
    confidence: float | None = Field(default=None, ge=0, le=1)


class InsightAllCropsData(BaseModel):
    model_config = _CONFIG

    rounded: bool = Field(description="Counts rounded down to a multiple of k.")
    listings: int | None = Field(default=None, ge=0)
    requests: int | None = Field(default=None, ge=0)
    contributors: int | None = Field(default=None, ge=0)


class InsightWindowData(BaseModel):
    model_config = _CONFIG

    days: Literal[7, 14, 30]
    summary: str = Field(description="Deterministic summary text.")
    crops: list[InsightCropData]
    all_crops: InsightAllCropsData


class InsightData(EventData):
    """An area's published signals changed (k-anonymous: hidden crops carry no figures)."""

    area: str = Field(
        pattern=r"^[0-9b-hjkmnp-z]{4,6}$", description="Geohash cell (precision 4-6)."
    )
    as_of_day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="Windows end on this day.")
    # No inputVersion: it counts every bucket write, hidden growers' too, so its steps between
    # versions would say when someone under k was active (docs/privacy.md).
    windows: list[InsightWindowData]
    digests: dict[str, str] = Field(description="sha256 of each window's published figures.")


class MatchData(EventData):
    """A suggestion new in one side's bounded set of matches, addressed to that side's owner.

    The other side is described as the feed shows it to a non-owner: its published cell and
    the distance between the two published cells, never a point. `version`, `createdAt` and
    `updatedAt` are the set's (the write that added the entry)."""

    match_id: str = Field(
        pattern=MATCH_ID_PATTERN,
        description="`{requestId}.{listingId}`: what POST /claims accepts as `matchId`.",
    )
    recipient_id: str = Field(min_length=1, description="Owner of the set: who is told.")
    side: Literal["request", "listing"] = Field(
        description="Whose set: `request` (the recipient searches; the match is a listing) "
        "or `listing` (the recipient grows; the match is a request)."
    )
    request_id: str = Field(pattern=ID_PATTERN, description="The request matched.")
    listing_id: str = Field(pattern=ID_PATTERN, description="The listing matched.")
    crop: str = Field(min_length=1, description="Crop catalog slug (both sides').")
    area: Area
    distance_km: float = Field(
        ge=0, description="Between the two published cells' centres, to 0.1 km."
    )
    listed_at: Timestamp


def published_model(
    declared: type[EventData], stored: type[StoredItem], published: frozenset[str]
) -> type[EventData]:
    """An entity's event model: the `declared` one, plus each `published` attribute it does
    not declare, typed and described as the stored model has it. A field published as it is
    stored (a new optional one) is then marked `published` on its stored model only;
    `declared` writes out what an event shows otherwise than the table (`area`, exact
    numbers)."""
    declared_names = {info.alias or name for name, info in declared.model_fields.items()}
    stored_fields = {
        info.alias or name: (name, info)
        for name, info in pydantic_model(stored).model_fields.items()
    }
    missing = sorted(published - declared_names)
    if not missing:
        return declared
    added: dict[str, Any] = {}
    for attribute in missing:
        name, info = stored_fields[attribute]  # KeyError: published, but neither model has it
        added[name] = (info.annotation, info)
    model = create_model(declared.__name__, __base__=declared, __doc__=declared.__doc__, **added)
    return cast(type[EventData], model)


DATA_MODELS: dict[str, type[EventData]] = {
    "listing": published_model(ListingData, ListingItem, PUBLISHED_ATTRIBUTES["listing"]),
    "request": published_model(RequestData, RequestItem, PUBLISHED_ATTRIBUTES["request"]),
    "claim": published_model(ClaimData, ClaimItem, PUBLISHED_ATTRIBUTES["claim"]),
    "profile": published_model(ProfileData, ProfileItem, PUBLISHED_ATTRIBUTES["profile"]),
    "guidance": published_model(GuidanceData, GuidanceItem, PUBLISHED_ATTRIBUTES["guidance"]),
    "insight": InsightData,
    "match": MatchData,
}

DESCRIPTIONS: dict[DetailType, str] = {
    DetailType.LISTING_CREATED: "A grower published a listing.",
    DetailType.LISTING_UPDATED: "A listing changed without closing (quantity, window, notes, "
    "or back to active when a confirmed claim released quantity).",
    DetailType.LISTING_CLAIMED: "Confirmed claims took a listing's whole remaining quantity.",
    DetailType.LISTING_COMPLETED: "The owner marked a listing completed.",
    DetailType.LISTING_EXPIRED: "A listing's pick-up window ended while it was open.",
    DetailType.LISTING_CANCELLED: "The owner cancelled a listing.",
    DetailType.REQUEST_CREATED: "A searcher posted a request.",
    DetailType.REQUEST_UPDATED: "A request changed without a status change.",
    DetailType.REQUEST_MATCHED: "A request was matched.",
    DetailType.REQUEST_CLOSED: "A request was closed.",
    DetailType.REQUEST_CANCELLED: "A request was cancelled.",
    DetailType.CLAIM_CREATED: "A searcher claimed quantity on a listing (pending).",
    DetailType.CLAIM_CONFIRMED: "The listing owner confirmed a claim; quantity is reserved.",
    DetailType.CLAIM_COMPLETED: "A confirmed claim was picked up.",
    DetailType.CLAIM_CANCELLED: "A claim was cancelled; confirmed quantity was released.",
    DetailType.CLAIM_NO_SHOW: "A confirmed claim was not picked up; quantity was released.",
    DetailType.PROFILE_UPDATED: "A user created or changed their profile.",
    DetailType.GUIDANCE_REQUESTED: "A user asked for grower guidance.",
    DetailType.INSIGHT_GENERATED: "The published supply/demand signals of an area changed.",
    DetailType.MATCH_SUGGESTED: "A live listing and an open request nearby suggest each "
    "other; told to the owner of the side whose set gained the match.",
}


class EventEnvelope(BaseModel):
    """What every domain event carries in its PutEvents `Detail`."""

    model_config = _CONFIG

    id: str = Field(
        pattern=UUID_PATTERN,
        description="uuid5 of (entity type, entity id, version, detail-type): equal for "
        "replays of the same change, so subscribers dedupe on it.",
    )
    source: str = Field(description="EventBridge source: harvest.<entity type>s.")
    detail_type: str = Field(description="EventBridge detail-type.")
    occurred_at: str = Field(pattern=TIMESTAMP_PATTERN, description=f"The item's updatedAt. {_TS}.")
    correlation_id: str = Field(
        min_length=1, description="Correlation id of the API request that wrote the change."
    )
    entity_type: str = Field(description="Entity discriminator.")
    entity_id: str = Field(min_length=1, description="Id of the entity that changed.")
    version: int = Field(ge=1, description="Entity version after the change.")
    data: EventData = Field(description="Public view of the entity after the change.")


def _const(value: str) -> Any:
    return cast(Any, Literal)[value]


@cache
def envelope_model(detail_type: DetailType) -> type[EventEnvelope]:
    """The envelope of one detail-type, with its constants and its entity's data model."""
    rules = ENTITY_RULES[detail_type.entity_type]
    name = "".join(part.title() for part in detail_type.value.replace("_", ".").split("."))
    return create_model(
        f"{name}Event",
        __base__=EventEnvelope,
        __doc__=DESCRIPTIONS[detail_type],
        source=(_const(rules.source), Field(description="EventBridge source.")),
        detail_type=(_const(detail_type.value), Field(description="EventBridge detail-type.")),
        entity_type=(_const(rules.entity_type), Field(description="Entity discriminator.")),
        data=(
            DATA_MODELS[rules.entity_type],
            Field(description="Public view of the entity after the change."),
        ),
    )


def event_json_schema(detail_type: DetailType) -> dict[str, Any]:
    """JSON Schema of one detail-type's `Detail`: sparse attributes are absent, never null."""
    return envelope_model(detail_type).model_json_schema(
        by_alias=True, schema_generator=StoredItemJsonSchema
    )
