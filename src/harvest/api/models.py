"""Request and response shapes of the v1 contract (camelCase on the wire)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, StringConstraints
from pydantic.alias_generators import to_camel

from harvest.domain.common import ID_PATTERN

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Unit = Annotated[str, StringConstraints(min_length=1, max_length=16, strip_whitespace=True)]
Notes = Annotated[str, StringConstraints(max_length=1000)]
Quantity = Annotated[Decimal, Field(gt=0, le=1_000_000, max_digits=12, decimal_places=3)]


def _number(value: Decimal) -> int | float:
    # Quantities have at most 12 digits and 3 decimals: a JSON number holds them exactly,
    # and clients expect numbers, not strings.
    return int(value) if value == value.to_integral_value() else float(value)


QuantityOut = Annotated[Decimal, PlainSerializer(_number, return_type=int | float)]


class Inbound(BaseModel):
    """Requests: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_max_length=2000
    )


class Outbound(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class PointIn(Inbound):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)


class ListingCreate(Inbound):
    listing_id: Id | None = None
    crop: Slug
    quantity: Quantity
    unit: Unit
    available_from: AwareDatetime
    available_until: AwareDatetime
    location: PointIn
    notes: Notes | None = None


class ListingUpdate(Inbound):
    quantity: Quantity | None = None
    available_from: AwareDatetime | None = None
    available_until: AwareDatetime | None = None
    notes: Notes | None = None
    status: Literal["completed", "cancelled"] | None = None


class RequestCreate(Inbound):
    request_id: Id | None = None
    crop: Slug
    quantity: Quantity
    unit: Unit
    needed_by: AwareDatetime
    location: PointIn
    notes: Notes | None = None


class RequestUpdate(Inbound):
    quantity: Quantity | None = None
    unit: Unit | None = None
    needed_by: AwareDatetime | None = None
    notes: Notes | None = None
    status: Literal["matched", "closed", "cancelled"] | None = None


class ClaimCreate(Inbound):
    claim_id: Id | None = None
    quantity: Quantity
    request_id: Id | None = None
    note: Notes | None = None


class ClaimUpdate(Inbound):
    status: Literal["confirmed", "completed", "cancelled", "no_show"]


class ProfilePut(Inbound):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    home_location: PointIn | None = None
    share_radius_km: float = Field(default=5.0, gt=0, le=50)


class LocationOut(Outbound):
    geohash: str
    lat: float
    lon: float
    exact: bool


class ListingOut(Outbound):
    listing_id: str
    owner_id: str
    crop: str
    unit: str
    quantity_total: QuantityOut
    quantity_remaining: QuantityOut
    available_from: str
    available_until: str
    location: LocationOut
    notes: str | None = None
    status: str
    version: int
    created_at: str
    updated_at: str


class RequestOut(Outbound):
    request_id: str
    owner_id: str
    crop: str
    unit: str
    quantity: QuantityOut
    needed_by: str
    location: LocationOut
    notes: str | None = None
    status: str
    version: int
    created_at: str
    updated_at: str


class ClaimOut(Outbound):
    claim_id: str
    listing_id: str
    claimer_id: str
    owner_id: str
    quantity: QuantityOut
    unit: str
    request_id: str | None = None
    note: str | None = None
    status: str
    version: int
    created_at: str
    updated_at: str


class ProfileOut(Outbound):
    user_id: str
    display_name: str
    home_location: LocationOut | None = None
    share_radius_km: float
    tier: str
    version: int
    created_at: str
    updated_at: str


class ListingFeedItem(ListingOut):
    kind: Literal["listing"]
    distance_km: float


class RequestFeedItem(RequestOut):
    kind: Literal["request"]
    distance_km: float


class ListingCollection(Outbound):
    items: list[ListingOut]
    next_cursor: str | None


class RequestCollection(Outbound):
    items: list[RequestOut]
    next_cursor: str | None


class ClaimCollection(Outbound):
    items: list[ClaimOut]
    next_cursor: str | None


class FeedCollection(Outbound):
    items: list[ListingFeedItem | RequestFeedItem]
    next_cursor: str | None


class Health(Outbound):
    status: Literal["ok"]
    version: str


class CropSignalOut(Outbound):
    """A crop of a window: every figure is null when classification is insufficient_data."""

    crop: str
    unit: str
    supply: QuantityOut | None
    demand: QuantityOut | None
    listings: int | None
    requests: int | None
    scarcity: QuantityOut | None
    abundance: QuantityOut | None
    classification: Literal["shortage", "surplus", "balanced", "insufficient_data"]
    confidence: QuantityOut | None


class AllCropsOut(Outbound):
    """Counts over every crop (null under k contributors; rounded down to multiples of k
    when a crop is hidden). No quantities: units differ between crops."""

    listings: int | None
    requests: int | None
    contributors: int | None
    rounded: bool


class SignalWindowOut(Outbound):
    days: Literal[7, 14, 30]
    crops: list[CropSignalOut]
    summary: str
    all_crops: AllCropsOut


class CommunitySignalsOut(Outbound):
    geohash: str
    as_of: str
    data_updated_at: str | None
    windows: list[SignalWindowOut]


class GuidanceCreate(Inbound):
    """Only an area and a crop: no free text, so nothing personal reaches a prompt."""

    guidance_id: Id | None = None
    area: Annotated[str, StringConstraints(min_length=4, max_length=6)] | None = Field(
        default=None, description="Geohash precision 4-6; default: the profile's home cell."
    )
    crop: Slug | None = None


class AdviceOut(Outbound):
    headline: str
    reasoning: list[str]
    actions: list[str]
    source: Literal["bedrock", "fallback"]
    model_id: str | None


class GuidanceOut(Outbound):
    guidance_id: str
    status: Literal["pending", "ready"]
    area: str
    crop: str | None
    created_at: str
    guidance: AdviceOut | None = Field(description="Present once status is ready.")


class ExplanationOut(Outbound):
    geohash: str
    days: int
    as_of: str
    cached: bool = Field(description="False: computed now as the fallback, not yet answered.")
    explanation: AdviceOut
