"""Request and response shapes of the v1 contract (camelCase on the wire)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from harvest.domain.claim import ClaimStatus
from harvest.domain.common import ID_PATTERN, MATCH_ID_PATTERN
from harvest.domain.entitlements import Tier
from harvest.domain.listing import ListingStatus
from harvest.domain.request import RequestStatus

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Unit = Annotated[str, StringConstraints(min_length=1, max_length=16, strip_whitespace=True)]
Notes = Annotated[str, StringConstraints(max_length=1000)]
MatchId = Annotated[str, StringConstraints(pattern=MATCH_ID_PATTERN)]
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _json_number(value: Any) -> Any:
    # JSON has one number type: true and "5" are not numbers, whatever Python's lax
    # conversions think (true was stored as latitude 1.0).
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("number_type", "Input should be a JSON number")
    return value


def _representable(value: datetime) -> datetime:
    # 0001-01-01T00:00:00+14:00 is a valid ISO date that has no UTC form (OverflowError).
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        raise PydanticCustomError(
            "datetime_range", "Input should be between 2000-01-01 and 2200-01-01 (UTC)"
        )
    return utc


Number = BeforeValidator(_json_number)
QUANTITY_SCHEMA = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 1_000_000,
    "description": "At most 3 decimals; a whole number for count units "
    "(each, bunch, dozen, jar, head, box).",
}
Quantity = Annotated[
    Decimal,
    Number,
    Field(gt=0, le=1_000_000, max_digits=12, decimal_places=3),
    WithJsonSchema(QUANTITY_SCHEMA),
]
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_representable),
    Field(description="ISO-8601 with a UTC offset, from 2000-01-01 to 2200-01-01 (UTC)."),
]


def _number(value: Decimal) -> int | float:
    # Quantities have at most 12 digits and 3 decimals: a JSON number holds them exactly,
    # and clients expect numbers, not strings.
    return int(value) if value == value.to_integral_value() else float(value)


QuantityOut = Annotated[
    Decimal,
    PlainSerializer(_number, return_type=int | float),
    WithJsonSchema({"type": "number"}),
]


class Inbound(BaseModel):
    """Requests: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_max_length=2000,
        defer_build=True,
    )


class Outbound(BaseModel):
    # Built on first use (defer_build): a cold start pays only for the models its route uses.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, defer_build=True)


def _centimetres(value: float) -> float:
    # 7 decimals of a degree are ~1 cm. Finer is noise, and a subnormal such as 4.9e-324
    # cannot be stored as a DynamoDB number (decimal.Underflow: it was a 500).
    return round(value, 7)


Coordinate = AfterValidator(_centimetres)


class PointIn(Inbound):
    lat: Annotated[float, Number, Field(ge=-90, le=90, allow_inf_nan=False), Coordinate]
    lon: Annotated[float, Number, Field(ge=-180, le=180, allow_inf_nan=False), Coordinate]


class ListingCreate(Inbound):
    listing_id: Id | None = None
    crop: Slug
    quantity: Quantity
    unit: Unit
    available_from: Moment
    available_until: Moment
    location: PointIn
    notes: Notes | None = None


class ListingUpdate(Inbound):
    quantity: Quantity | None = None
    available_from: Moment | None = None
    available_until: Moment | None = None
    notes: Notes | None = None
    status: Literal["completed", "cancelled"] | None = None


class RequestCreate(Inbound):
    request_id: Id | None = None
    crop: Slug
    quantity: Quantity
    unit: Unit
    needed_by: Moment
    location: PointIn
    notes: Notes | None = None


class RequestUpdate(Inbound):
    quantity: Quantity | None = None
    unit: Unit | None = None
    needed_by: Moment | None = None
    notes: Notes | None = None
    status: Literal["matched", "closed", "cancelled"] | None = None


class ClaimCreate(Inbound):
    claim_id: Id | None = None
    quantity: Quantity
    request_id: Id | None = None
    note: Notes | None = None
    match_id: MatchId | None = None


class ClaimUpdate(Inbound):
    status: Literal["confirmed", "completed", "cancelled", "no_show"]


class ProfilePut(Inbound):
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    home_location: PointIn | None = None
    # At least 100 m: a subnormal radius (4.9e-324) passed gt=0 and failed to store (a 500).
    share_radius_km: Annotated[float, Number, Field(ge=0.1, le=50, allow_inf_nan=False)] = 5.0


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
    status: ListingStatus
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
    status: RequestStatus
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
    match_id: str | None = Field(default=None, description="The match it was made from.")
    status: ClaimStatus
    version: int
    created_at: str
    updated_at: str


class ProfileOut(Outbound):
    user_id: str
    display_name: str
    home_location: LocationOut | None = None
    share_radius_km: float
    tier: Tier
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
    """A crop of a window, listed only when it may be published (docs/privacy.md): a crop
    under the k-anonymity thresholds is left out, as if nobody had listed it."""

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
    """The sums of the crops shown (docs/privacy.md); `contributors` is always null and
    `rounded` false (kept for the v1 contract). No quantities: units differ."""

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


Area = Annotated[str, StringConstraints(min_length=4, max_length=6)]


class GuidanceCreate(Inbound):
    """Only an area and a crop: no free text, so nothing personal reaches a prompt."""

    guidance_id: Id | None = None
    geohash: Area | None = Field(
        default=None, description="Geohash precision 4-6; default: the profile's home cell."
    )
    area: Area | None = Field(
        default=None,
        description="Deprecated: the old name of `geohash` (still accepted).",
        json_schema_extra={"deprecated": True},
    )
    crop: Slug | None = None

    @model_validator(mode="after")
    def _one_area(self) -> GuidanceCreate:
        if self.geohash and self.area and self.geohash != self.area:
            raise PydanticCustomError(
                "area_conflict", "geohash and its deprecated name area disagree"
            )
        return self

    @property
    def cell(self) -> str | None:
        return self.geohash or self.area


class AdviceOut(Outbound):
    headline: str
    reasoning: list[str]
    actions: list[str]
    source: Literal["bedrock", "fallback"]
    model_id: str | None


class GuidanceOut(Outbound):
    guidance_id: str
    status: Literal["pending", "ready"]
    geohash: str
    area: str = Field(
        description="Deprecated: the same as `geohash`.", json_schema_extra={"deprecated": True}
    )
    crop: str | None
    created_at: str
    guidance: AdviceOut | None = Field(description="Present once status is ready.")


class GuidanceCollection(Outbound):
    items: list[GuidanceOut]
    next_cursor: str | None


class ExplanationOut(Outbound):
    geohash: str
    days: int
    as_of: str
    cached: bool = Field(description="False: computed now as the fallback, not yet answered.")
    explanation: AdviceOut
