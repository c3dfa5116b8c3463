"""Pydantic models of every stored core item, exactly as codec.py (and the idempotency record
of Repository._create) writes it. They are the source of schemas/entities/*.schema.json.

Attribute names are the stored names (aliases); Python-side names are snake_case so the models
read like the rest of the code. Numbers DynamoDB keeps as N are Decimal here: a float would
silently round quantities and coordinates. The model validators check the key templates
against the ids, which JSON Schema cannot express but a data engineer can rely on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic.fields import ComputedFieldInfo, FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from harvest.domain.claim import ClaimStatus
from harvest.domain.common import ID_PATTERN, MATCH_ID_PATTERN
from harvest.domain.entitlements import Tier
from harvest.domain.listing import ListingStatus
from harvest.domain.request import RequestStatus
from harvest.store import keys

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
GEOHASH7_PATTERN = r"^[0-9b-hjkmnp-z]{7}$"
_TS = "ISO-8601 UTC with milliseconds and Z, e.g. 2026-05-01T08:00:00.000Z"
KEY_ATTRIBUTES = (
    "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK",
    "type",
)  # fmt: skip
AUDIT_ATTRIBUTES = ("version", "createdAt", "updatedAt", "correlationId")


def _stored_name(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    # Titles show the stored attribute name, which is what a data engineer searches for.
    alias = info.alias if isinstance(info, FieldInfo) else None
    return alias or to_camel(name)


_CONFIG = ConfigDict(
    extra="forbid", alias_generator=to_camel, frozen=True, field_title_generator=_stored_name
)


class StoredItem(BaseModel):
    """Attributes every core item carries (DESIGN §3 invariant 3)."""

    model_config = _CONFIG

    version: int = Field(
        ge=1, description="Optimistic-concurrency version: 1 on create, +1 per write."
    )
    created_at: str = Field(pattern=TIMESTAMP_PATTERN, description=f"Creation time. {_TS}.")
    updated_at: str = Field(pattern=TIMESTAMP_PATTERN, description=f"Last write time. {_TS}.")
    correlation_id: str = Field(
        min_length=1, description="Correlation id of the API request that wrote this version."
    )


def _expect(name: str, actual: str | None, expected: str | None) -> None:
    if actual != expected:
        raise ValueError(f"{name} is {actual!r}, expected {expected!r}")


class HomeLocation(BaseModel):
    """A profile's home point (exact: only its owner ever sees it)."""

    model_config = _CONFIG

    lat: Decimal = Field(ge=-90, le=90, description="Latitude in degrees.")
    lon: Decimal = Field(ge=-180, le=180, description="Longitude in degrees.")
    geohash: str = Field(pattern=GEOHASH7_PATTERN, description="Geohash (precision 7) of lat/lon.")


class ProfileItem(StoredItem):
    """A user's profile.

    PK = USER#{userId}, SK = PROFILE. No GSI keys: profiles are read by user id only.
    """

    pk: str = Field(alias="PK", pattern=r"^USER#.+$", description="USER#{userId}")
    sk: Literal["PROFILE"] = Field(alias="SK", description="Always PROFILE.")
    type: Literal["profile"] = Field(description="Entity discriminator.")
    user_id: str = Field(min_length=1, description="The identity provider's subject (token sub).")
    display_name: str = Field(description="Name shown to other users; may be empty.")
    home_location: HomeLocation | None = Field(
        default=None, description="Home point; absent until the user sets one."
    )
    share_radius_km: Decimal = Field(gt=0, le=50, description="Radius the user shares within, km.")
    tier: Tier = Field(description="Subscription tier copied from the token; input, never a grant.")

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        _expect("PK", self.pk, keys.profile_key(self.user_id)["PK"])
        return self


class _Placed(StoredItem):
    """Fields of items that sit at a place: exact point plus its precision-7 geohash."""

    lat: Decimal = Field(ge=-90, le=90, description="Exact latitude (owner-only in the API).")
    lon: Decimal = Field(ge=-180, le=180, description="Exact longitude (owner-only in the API).")
    geohash: str = Field(pattern=GEOHASH7_PATTERN, description="Geohash (precision 7) of lat/lon.")
    crop: str = Field(min_length=1, description="Crop catalog slug, e.g. tomato.")
    unit: str = Field(min_length=1, description="Unit of the quantities, e.g. kg, each, bunch.")
    owner_id: str = Field(min_length=1, description="User id of the owner.")
    notes: str | None = Field(default=None, description="Free text; absent when not given.")
    gsi1_pk: str = Field(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{ownerId}")
    gsi3_pk: str | None = Field(
        default=None,
        alias="GSI3PK",
        pattern=r"^FEED#[0-9b-hjkmnp-z]{4}$",
        description="FEED#{geohash4}; present only while the item is live (FeedIndex).",
    )
    gsi3_sk: str | None = Field(default=None, alias="GSI3SK")
    gsi4_pk: str | None = Field(
        default=None,
        alias="GSI4PK",
        pattern=r"^CROP#[0-9b-hjkmnp-z]{4}#(listing|request)#[a-z]+(-[a-z]+)*$",
        description="CROP#{geohash4}#{kind}#{crop}; present only while the item is live "
        "(CropIndex, sorted by GSI3SK).",
    )

    def _check_placed(self, entity: str, entity_id: str, live: bool) -> None:
        _expect("GSI1PK", self.gsi1_pk, keys.owner_pk(self.owner_id))
        # Sparse FeedIndex: only live items carry GSI3 keys, so the index holds nothing else.
        sk = keys.feed_sk(self.geohash, entity, entity_id)
        _expect("GSI3PK", self.gsi3_pk, keys.feed_pk(self.geohash) if live else None)
        _expect("GSI3SK", self.gsi3_sk, sk if live else None)
        crop_pk = keys.crop_pk(self.geohash, entity, self.crop)
        _expect("GSI4PK", self.gsi4_pk, crop_pk if live else None)


class ListingItem(_Placed):
    """Surplus food a grower offers.

    PK = LISTING#{listingId}, SK = LISTING.
    OwnerIndex: GSI1PK = USER#{ownerId}, GSI1SK = LISTING#{createdAt}#{listingId}.
    FeedIndex (only while status = active): GSI3PK = FEED#{geohash[:4]},
    GSI3SK = {geohash[:5]}#listing#{listingId}.
    CropIndex (the same): GSI4PK = CROP#{geohash[:4]}#listing#{crop}, GSI3SK.
    """

    pk: str = Field(alias="PK", pattern=r"^LISTING#.+$", description="LISTING#{listingId}")
    sk: Literal["LISTING"] = Field(alias="SK", description="Always LISTING.")
    gsi1_sk: str = Field(
        alias="GSI1SK", pattern=r"^LISTING#.+#.+$", description="LISTING#{createdAt}#{listingId}"
    )
    gsi3_sk: str | None = Field(
        default=None,
        alias="GSI3SK",
        pattern=r"^[0-9b-hjkmnp-z]{5}#listing#.+$",
        description="{geohash5}#listing#{listingId}: published cell, kind, id; present only "
        "while the listing is active.",
    )
    type: Literal["listing"] = Field(description="Entity discriminator.")
    listing_id: str = Field(pattern=ID_PATTERN, description="Listing id (client- or server-made).")
    quantity_total: Decimal = Field(gt=0, description="Quantity offered, in `unit`.")
    quantity_remaining: Decimal = Field(
        ge=0, description="Quantity not yet reserved by confirmed claims, in `unit`."
    )
    available_from: str = Field(pattern=TIMESTAMP_PATTERN, description=f"Pick-up from. {_TS}.")
    available_until: str = Field(pattern=TIMESTAMP_PATTERN, description=f"Pick-up until. {_TS}.")
    status: ListingStatus = Field(description="active -> claimed -> completed|expired|cancelled.")

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        _expect("PK", self.pk, keys.listing_key(self.listing_id)["PK"])
        _expect("GSI1SK", self.gsi1_sk, keys.owned_sk("listing", self.created_at, self.listing_id))
        self._check_placed("listing", self.listing_id, self.status is ListingStatus.ACTIVE)
        if self.quantity_remaining > self.quantity_total:
            raise ValueError("quantityRemaining exceeds quantityTotal")
        return self


class RequestItem(_Placed):
    """What a searcher needs.

    PK = REQUEST#{requestId}, SK = REQUEST.
    OwnerIndex: GSI1PK = USER#{ownerId}, GSI1SK = REQUEST#{createdAt}#{requestId}.
    FeedIndex (only while status = open): GSI3PK = FEED#{geohash[:4]},
    GSI3SK = {geohash[:5]}#request#{requestId}.
    CropIndex (the same): GSI4PK = CROP#{geohash[:4]}#request#{crop}, GSI3SK.
    """

    pk: str = Field(alias="PK", pattern=r"^REQUEST#.+$", description="REQUEST#{requestId}")
    sk: Literal["REQUEST"] = Field(alias="SK", description="Always REQUEST.")
    gsi1_sk: str = Field(
        alias="GSI1SK", pattern=r"^REQUEST#.+#.+$", description="REQUEST#{createdAt}#{requestId}"
    )
    gsi3_sk: str | None = Field(
        default=None,
        alias="GSI3SK",
        pattern=r"^[0-9b-hjkmnp-z]{5}#request#.+$",
        description="{geohash5}#request#{requestId}: published cell, kind, id; present only "
        "while the request is open.",
    )
    type: Literal["request"] = Field(description="Entity discriminator.")
    request_id: str = Field(pattern=ID_PATTERN, description="Request id (client- or server-made).")
    quantity: Decimal = Field(gt=0, description="Quantity needed, in `unit`.")
    needed_by: str = Field(pattern=TIMESTAMP_PATTERN, description=f"Needed by. {_TS}.")
    status: RequestStatus = Field(description="open -> matched -> closed | cancelled.")

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        _expect("PK", self.pk, keys.request_key(self.request_id)["PK"])
        _expect("GSI1SK", self.gsi1_sk, keys.owned_sk("request", self.created_at, self.request_id))
        self._check_placed("request", self.request_id, self.status is RequestStatus.OPEN)
        return self


class ClaimItem(StoredItem):
    """A searcher's reservation on a listing.

    PK = CLAIM#{claimId}, SK = CLAIM.
    OwnerIndex (claims made): GSI1PK = USER#{claimerId}, GSI1SK = CLAIM#{createdAt}#{claimId}.
    GeoIndex (claims received): GSI2PK = RECEIVED#{ownerId}, GSI2SK = CLAIM#{createdAt}#{claimId}.
    """

    pk: str = Field(alias="PK", pattern=r"^CLAIM#.+$", description="CLAIM#{claimId}")
    sk: Literal["CLAIM"] = Field(alias="SK", description="Always CLAIM.")
    gsi1_pk: str = Field(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{claimerId}")
    gsi1_sk: str = Field(
        alias="GSI1SK", pattern=r"^CLAIM#.+#.+$", description="CLAIM#{createdAt}#{claimId}"
    )
    gsi2_pk: str = Field(
        alias="GSI2PK", pattern=r"^RECEIVED#.+$", description="RECEIVED#{ownerId} (listing owner)"
    )
    gsi2_sk: str = Field(
        alias="GSI2SK", pattern=r"^CLAIM#.+#.+$", description="CLAIM#{createdAt}#{claimId}"
    )
    type: Literal["claim"] = Field(description="Entity discriminator.")
    claim_id: str = Field(pattern=ID_PATTERN, description="Claim id (client- or server-made).")
    listing_id: str = Field(pattern=ID_PATTERN, description="The claimed listing.")
    claimer_id: str = Field(min_length=1, description="User id of the searcher who claims.")
    owner_id: str = Field(min_length=1, description="User id of the listing's owner.")
    quantity: Decimal = Field(gt=0, description="Quantity reserved, in `unit`.")
    unit: str = Field(min_length=1, description="The listing's unit.")
    status: ClaimStatus = Field(
        description="pending -> confirmed -> completed; pending|confirmed -> cancelled; "
        "confirmed -> no_show."
    )
    request_id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="The request this claim serves, if any."
    )
    note: str | None = Field(default=None, description="Free text; absent when not given.")
    match_id: str | None = Field(
        default=None,
        pattern=MATCH_ID_PATTERN,
        description="The match suggestion (`{requestId}.{listingId}`) it was made from, if any.",
    )

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        owned = keys.owned_sk("claim", self.created_at, self.claim_id)
        _expect("PK", self.pk, keys.claim_key(self.claim_id)["PK"])
        _expect("GSI1PK", self.gsi1_pk, keys.owner_pk(self.claimer_id))
        _expect("GSI1SK", self.gsi1_sk, owned)
        _expect("GSI2PK", self.gsi2_pk, keys.received_claims_pk(self.owner_id))
        _expect("GSI2SK", self.gsi2_sk, owned)
        return self


class IdempotencyItem(StoredItem):
    """Makes a create replayable; written in the same transaction as the entity it created.

    PK = IDEMPOTENCY#{userId}#{idempotencyKey}, SK = IDEMPOTENCY. Expires by TTL (expiresAt).
    """

    pk: str = Field(
        alias="PK", pattern=r"^IDEMPOTENCY#.+#.+$", description="IDEMPOTENCY#{userId}#{key}"
    )
    sk: Literal["IDEMPOTENCY"] = Field(alias="SK", description="Always IDEMPOTENCY.")
    type: Literal["idempotency"] = Field(description="Entity discriminator.")
    user_id: str = Field(min_length=1, description="User who sent the create.")
    idempotency_key: str = Field(
        min_length=1, description="Client-supplied id or Idempotency-Key header value."
    )
    request_hash: str = Field(
        min_length=1, description="Hash of the create body; a replay with another body is 409."
    )
    entity_type: Literal["listing", "request", "claim", "guidance"] = Field(
        description="Type of the entity the create made."
    )
    entity_id: str = Field(pattern=ID_PATTERN, description="Id of the entity the create made.")
    expires_at: int = Field(
        gt=0, description="TTL: epoch seconds after which DynamoDB deletes the record."
    )

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        _expect("PK", self.pk, keys.idempotency_key(self.user_id, self.idempotency_key)["PK"])
        return self


class GuidanceItem(StoredItem):
    """A grower-guidance request (pro); answered by the AI worker in a derived item.

    PK = GUIDANCE#{guidanceId}, SK = GUIDANCE; GSI1 (OwnerIndex) = USER#{ownerId} /
    GUIDANCE#{createdAt}#{guidanceId}. Never changes after creation.
    """

    pk: str = Field(alias="PK", pattern=r"^GUIDANCE#.+$", description="GUIDANCE#{guidanceId}")
    sk: Literal["GUIDANCE"] = Field(alias="SK", description="Always GUIDANCE.")
    gsi1pk: str = Field(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{ownerId}")
    gsi1sk: str = Field(
        alias="GSI1SK", pattern=r"^GUIDANCE#.+#.+$", description="GUIDANCE#{createdAt}#{id}"
    )
    type: Literal["guidance"] = Field(description="Entity discriminator.")
    guidance_id: str = Field(pattern=ID_PATTERN, description="Guidance request id.")
    owner_id: str = Field(min_length=1, description="User who asked.")
    area: str = Field(pattern=r"^[0-9b-hjkmnp-z]{4,6}$", description="Geohash cell asked about.")
    crop: str | None = Field(default=None, description="Crop slug; absent: any crop.")
    tier: Literal["free", "supporter", "pro"] = Field(description="Tier when asked (context).")

    @model_validator(mode="after")
    def _keys_match(self) -> Self:
        _expect("PK", self.pk, keys.guidance_key(self.guidance_id)["PK"])
        return self


class UsageItem(StoredItem):
    """A per-user daily counter: PK = USAGE#{userId}, SK = {COUNTER}#{yyyy-mm-dd}. Expires
    by TTL a day after its day."""

    pk: str = Field(alias="PK", pattern=r"^USAGE#.+$", description="USAGE#{userId}")
    sk: str = Field(
        alias="SK", pattern=r"^[A-Z]+#\d{4}-\d{2}-\d{2}$", description="{COUNTER}#{day}"
    )
    type: Literal["usage"] = Field(description="Entity discriminator.")
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="UTC day counted.")
    count: int = Field(ge=1, description="Uses on that day (checked against the budget).")
    expires_at: int = Field(gt=0, description="TTL: epoch seconds.")


class StoredItemJsonSchema(GenerateJsonSchema):
    """JSON Schema of what is in the table: a sparse attribute is absent, never null."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


def _rank(name: str) -> tuple[int, int]:
    if name in KEY_ATTRIBUTES:
        return 0, KEY_ATTRIBUTES.index(name)
    if name in AUDIT_ATTRIBUTES:
        return 2, AUDIT_ATTRIBUTES.index(name)
    return 1, 0  # sorted() is stable: other attributes keep their declared order


def stored_attribute_names(model: type[StoredItem]) -> list[str]:
    """Stored names of the model's attributes: keys and type first, audit attributes last."""
    return sorted((info.alias or name for name, info in model.model_fields.items()), key=_rank)


def item_json_schema(model: type[StoredItem]) -> dict[str, object]:
    """The model's JSON Schema, attributes in stored_attribute_names order."""
    schema = model.model_json_schema(by_alias=True, schema_generator=StoredItemJsonSchema)
    properties: dict[str, object] = schema["properties"]
    order = sorted(properties, key=_rank)
    schema["properties"] = {name: properties[name] for name in order}
    schema["required"] = [name for name in order if name in schema.get("required", [])]
    return schema


STORED_ITEM_MODELS: dict[str, type[StoredItem]] = {
    "profile": ProfileItem,
    "listing": ListingItem,
    "request": RequestItem,
    "claim": ClaimItem,
    "idempotency": IdempotencyItem,
    "guidance": GuidanceItem,
    "usage": UsageItem,
}


def model_for(item_type: str) -> type[StoredItem]:
    """The model of a stored item's `type`; KeyError for derived or unknown types."""
    return STORED_ITEM_MODELS[item_type]
