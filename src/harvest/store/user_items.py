"""The stored models of the items a user owns that sit at no place: profiles, claims,
guidance requests, and the bookkeeping of creates (idempotency records) and daily budgets
(usage counters). Listings and requests, and the registry of every model, are in
harvest.store.items."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import ID_PATTERN, MATCH_ID_PATTERN, iso
from harvest.domain.entitlements import Tier
from harvest.domain.guidance import Guidance
from harvest.domain.profile import Profile
from harvest.store import keys
from harvest.store.codec import (
    GEOHASH7_PATTERN,
    EntityItem,
    Item,
    Shape,
    StoredItem,
    attr,
    expect,
)


@dataclass(frozen=True, kw_only=True)
class HomeLocation(Shape):
    """A profile's home point (exact: only its owner ever sees it)."""

    lat: Decimal = attr(ge=-90, le=90, description="Latitude in degrees.")
    lon: Decimal = attr(ge=-180, le=180, description="Longitude in degrees.")
    geohash: str = attr(pattern=GEOHASH7_PATTERN, description="Geohash (precision 7) of lat/lon.")


@dataclass(frozen=True, kw_only=True)
class ProfileItem(StoredItem, EntityItem[Profile]):
    """A user's profile.

    PK = USER#{userId}, SK = PROFILE. No GSI keys: profiles are read by user id only.
    """

    pk: str = attr(alias="PK", pattern=r"^USER#.+$", description="USER#{userId}")
    sk: Literal["PROFILE"] = attr(alias="SK", description="Always PROFILE.")
    type: Literal["profile"] = attr(description="Entity discriminator.")
    user_id: str = attr(
        published=True, min_length=1, description="The identity provider's subject (token sub)."
    )
    display_name: str = attr(published=True, description="Name shown to other users; may be empty.")
    home_location: HomeLocation | None = attr(
        published=True, default=None, description="Home point; absent until the user sets one."
    )
    share_radius_km: Decimal = attr(
        published=True, gt=0, le=50, description="Radius the user shares within, km."
    )
    tier: Tier = attr(
        published=True, description="Subscription tier copied from the token; input, never a grant."
    )

    def check(self) -> None:
        expect("PK", self.pk, keys.profile_key(self.user_id)["PK"])

    @classmethod
    def item_keys(cls, entity: Profile) -> Item:
        return keys.profile_key(entity.user_id)


@dataclass(frozen=True, kw_only=True)
class ClaimItem(StoredItem, EntityItem[Claim]):
    """A searcher's reservation on a listing.

    PK = CLAIM#{claimId}, SK = CLAIM.
    OwnerIndex (claims made): GSI1PK = USER#{claimerId}, GSI1SK = CLAIM#{createdAt}#{claimId}.
    GeoIndex (claims received): GSI2PK = RECEIVED#{ownerId}, GSI2SK = CLAIM#{createdAt}#{claimId}.
    """

    pk: str = attr(alias="PK", pattern=r"^CLAIM#.+$", description="CLAIM#{claimId}")
    sk: Literal["CLAIM"] = attr(alias="SK", description="Always CLAIM.")
    gsi1_pk: str = attr(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{claimerId}")
    gsi1_sk: str = attr(
        alias="GSI1SK", pattern=r"^CLAIM#.+#.+$", description="CLAIM#{createdAt}#{claimId}"
    )
    gsi2_pk: str = attr(
        alias="GSI2PK", pattern=r"^RECEIVED#.+$", description="RECEIVED#{ownerId} (listing owner)"
    )
    gsi2_sk: str = attr(
        alias="GSI2SK", pattern=r"^CLAIM#.+#.+$", description="CLAIM#{createdAt}#{claimId}"
    )
    type: Literal["claim"] = attr(description="Entity discriminator.")
    claim_id: str = attr(
        published=True, pattern=ID_PATTERN, description="Claim id (client- or server-made)."
    )
    listing_id: str = attr(published=True, pattern=ID_PATTERN, description="The claimed listing.")
    claimer_id: str = attr(
        published=True, min_length=1, description="User id of the searcher who claims."
    )
    owner_id: str = attr(
        published=True, min_length=1, description="User id of the listing's owner."
    )
    quantity: Decimal = attr(published=True, gt=0, description="Quantity reserved, in `unit`.")
    unit: str = attr(published=True, min_length=1, description="The listing's unit.")
    status: ClaimStatus = attr(
        published=True,
        description="pending -> confirmed -> completed; pending|confirmed -> cancelled; "
        "confirmed -> no_show.",
    )
    request_id: str | None = attr(
        published=True,
        default=None,
        pattern=ID_PATTERN,
        description="The request this claim serves, if any.",
    )
    note: str | None = attr(
        published=True, default=None, description="Free text; absent when not given."
    )
    match_id: str | None = attr(
        published=True,
        default=None,
        pattern=MATCH_ID_PATTERN,
        description="The match suggestion (`{requestId}.{listingId}`) it was made from, if any.",
    )

    def check(self) -> None:
        owned = keys.owned_sk("claim", self.created_at, self.claim_id)
        expect("PK", self.pk, keys.claim_key(self.claim_id)["PK"])
        expect("GSI1PK", self.gsi1_pk, keys.owner_pk(self.claimer_id))
        expect("GSI1SK", self.gsi1_sk, owned)
        expect("GSI2PK", self.gsi2_pk, keys.received_claims_pk(self.owner_id))
        expect("GSI2SK", self.gsi2_sk, owned)

    @classmethod
    def item_keys(cls, entity: Claim) -> Item:
        owned = keys.owned_sk("claim", iso(entity.created_at), entity.claim_id)
        return {
            **keys.claim_key(entity.claim_id),
            "GSI1PK": keys.owner_pk(entity.claimer_id),
            "GSI1SK": owned,
            "GSI2PK": keys.received_claims_pk(entity.owner_id),
            "GSI2SK": owned,
        }


@dataclass(frozen=True, kw_only=True)
class IdempotencyItem(StoredItem):
    """Makes a create replayable; written in the same transaction as the entity it created.

    PK = IDEMPOTENCY#{userId}#{idempotencyKey}, SK = IDEMPOTENCY. Expires by TTL (expiresAt).
    """

    pk: str = attr(
        alias="PK", pattern=r"^IDEMPOTENCY#.+#.+$", description="IDEMPOTENCY#{userId}#{key}"
    )
    sk: Literal["IDEMPOTENCY"] = attr(alias="SK", description="Always IDEMPOTENCY.")
    type: Literal["idempotency"] = attr(description="Entity discriminator.")
    user_id: str = attr(min_length=1, description="User who sent the create.")
    idempotency_key: str = attr(
        min_length=1, description="Client-supplied id or Idempotency-Key header value."
    )
    request_hash: str = attr(
        min_length=1, description="Hash of the create body; a replay with another body is 409."
    )
    entity_type: Literal["listing", "request", "claim", "guidance"] = attr(
        description="Type of the entity the create made."
    )
    entity_id: str = attr(pattern=ID_PATTERN, description="Id of the entity the create made.")
    expires_at: int = attr(
        gt=0, description="TTL: epoch seconds after which DynamoDB deletes the record."
    )

    def check(self) -> None:
        expect("PK", self.pk, keys.idempotency_key(self.user_id, self.idempotency_key)["PK"])


@dataclass(frozen=True, kw_only=True)
class GuidanceItem(StoredItem, EntityItem[Guidance]):
    """A grower-guidance request (pro); answered by the AI worker in a derived item.

    PK = GUIDANCE#{guidanceId}, SK = GUIDANCE; GSI1 (OwnerIndex) = USER#{ownerId} /
    GUIDANCE#{createdAt}#{guidanceId}. Never changes after creation.
    """

    pk: str = attr(alias="PK", pattern=r"^GUIDANCE#.+$", description="GUIDANCE#{guidanceId}")
    sk: Literal["GUIDANCE"] = attr(alias="SK", description="Always GUIDANCE.")
    gsi1pk: str = attr(alias="GSI1PK", pattern=r"^USER#.+$", description="USER#{ownerId}")
    gsi1sk: str = attr(
        alias="GSI1SK", pattern=r"^GUIDANCE#.+#.+$", description="GUIDANCE#{createdAt}#{id}"
    )
    type: Literal["guidance"] = attr(description="Entity discriminator.")
    guidance_id: str = attr(published=True, pattern=ID_PATTERN, description="Guidance request id.")
    owner_id: str = attr(published=True, min_length=1, description="User who asked.")
    area: str = attr(
        published=True, pattern=r"^[0-9b-hjkmnp-z]{4,6}$", description="Geohash cell asked about."
    )
    crop: str | None = attr(
        published=True, default=None, description="Crop slug; absent: any crop."
    )
    tier: Literal["free", "supporter", "pro"] = attr(
        published=True, description="Tier when asked (context)."
    )

    @classmethod
    def item_keys(cls, entity: Guidance) -> Item:
        sk = keys.owned_sk("guidance", iso(entity.created_at), entity.guidance_id)
        return keys.guidance_key(entity.guidance_id) | {
            "GSI1PK": keys.owner_pk(entity.owner_id),
            "GSI1SK": sk,
        }

    def check(self) -> None:
        expect("PK", self.pk, keys.guidance_key(self.guidance_id)["PK"])


@dataclass(frozen=True, kw_only=True)
class UsageItem(StoredItem):
    """A per-user daily counter: PK = USAGE#{userId}, SK = {COUNTER}#{yyyy-mm-dd}. Expires
    by TTL a day after its day."""

    pk: str = attr(alias="PK", pattern=r"^USAGE#.+$", description="USAGE#{userId}")
    sk: str = attr(alias="SK", pattern=r"^[A-Z]+#\d{4}-\d{2}-\d{2}$", description="{COUNTER}#{day}")
    type: Literal["usage"] = attr(description="Entity discriminator.")
    day: str = attr(pattern=r"^\d{4}-\d{2}-\d{2}$", description="UTC day counted.")
    count: int = attr(ge=1, description="Uses on that day (checked against the budget).")
    expires_at: int = attr(gt=0, description="TTL: epoch seconds.")
