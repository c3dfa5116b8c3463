"""Entity <-> stored item. Attribute names here are the data engineers' contract (schemas/)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Location, iso, parse_iso
from harvest.domain.guidance import Guidance
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store import keys

Item = dict[str, Any]


def _audit(version: int, created_at: str, updated_at: str, correlation_id: str) -> Item:
    return {
        "version": version,
        "createdAt": created_at,
        "updatedAt": updated_at,
        "correlationId": correlation_id,
    }


def _location(item: Mapping[str, Any]) -> Location:
    return Location(lat=float(item["lat"]), lon=float(item["lon"]), geohash=str(item["geohash"]))


def _optional(item: Item, name: str, value: object | None) -> None:
    # DynamoDB has no use for nulls in a sparse design; an absent attribute means "not set".
    if value is not None:
        item[name] = value


def _float_attr(value: float) -> Decimal:
    # boto3 refuses floats; str() keeps the shortest exact repr of the coordinate.
    return Decimal(str(value))


def profile_to_item(profile: Profile) -> Item:
    item: Item = {
        **keys.profile_key(profile.user_id),
        "type": "profile",
        "userId": profile.user_id,
        "displayName": profile.display_name,
        "shareRadiusKm": _float_attr(profile.share_radius_km),
        "tier": profile.tier,
        **_audit(
            profile.version,
            iso(profile.created_at),
            iso(profile.updated_at),
            profile.correlation_id,
        ),
    }
    if profile.home_location is not None:
        item["homeLocation"] = {
            "lat": _float_attr(profile.home_location.lat),
            "lon": _float_attr(profile.home_location.lon),
            "geohash": profile.home_location.geohash,
        }
    return item


def item_to_profile(item: Mapping[str, Any]) -> Profile:
    home = item.get("homeLocation")
    return Profile(
        user_id=item["userId"],
        display_name=item["displayName"],
        home_location=_location(home) if home else None,
        share_radius_km=float(item["shareRadiusKm"]),
        tier=item["tier"],
        version=int(item["version"]),
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        correlation_id=item["correlationId"],
    )


def listing_to_item(listing: Listing) -> Item:
    created = iso(listing.created_at)
    item: Item = {
        **keys.listing_key(listing.listing_id),
        "GSI1PK": keys.owner_pk(listing.owner_id),
        "GSI1SK": keys.owned_sk("listing", created, listing.listing_id),
        "type": "listing",
        "listingId": listing.listing_id,
        "ownerId": listing.owner_id,
        "crop": listing.crop,
        "unit": listing.unit,
        "quantityTotal": listing.quantity_total,
        "quantityRemaining": listing.quantity_remaining,
        "availableFrom": iso(listing.available_from),
        "availableUntil": iso(listing.available_until),
        "lat": _float_attr(listing.location.lat),
        "lon": _float_attr(listing.location.lon),
        "geohash": listing.location.geohash,
        "status": listing.status.value,
        **_audit(listing.version, created, iso(listing.updated_at), listing.correlation_id),
    }
    _optional(item, "notes", listing.notes)
    # Sparse feed index: only claimable listings are discoverable by place.
    if listing.status is ListingStatus.ACTIVE:
        item["GSI3PK"] = keys.feed_pk(listing.location.geohash)
        item["GSI3SK"] = keys.feed_sk(listing.location.geohash, "listing", listing.listing_id)
    return item


def item_to_listing(item: Mapping[str, Any]) -> Listing:
    return Listing(
        listing_id=item["listingId"],
        owner_id=item["ownerId"],
        crop=item["crop"],
        unit=item["unit"],
        quantity_total=Decimal(item["quantityTotal"]),
        quantity_remaining=Decimal(item["quantityRemaining"]),
        available_from=parse_iso(item["availableFrom"]),
        available_until=parse_iso(item["availableUntil"]),
        location=_location(item),
        notes=item.get("notes"),
        status=ListingStatus(item["status"]),
        version=int(item["version"]),
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        correlation_id=item["correlationId"],
    )


def request_to_item(request: Request) -> Item:
    created = iso(request.created_at)
    item: Item = {
        **keys.request_key(request.request_id),
        "GSI1PK": keys.owner_pk(request.owner_id),
        "GSI1SK": keys.owned_sk("request", created, request.request_id),
        "type": "request",
        "requestId": request.request_id,
        "ownerId": request.owner_id,
        "crop": request.crop,
        "unit": request.unit,
        "quantity": request.quantity,
        "neededBy": iso(request.needed_by),
        "lat": _float_attr(request.location.lat),
        "lon": _float_attr(request.location.lon),
        "geohash": request.location.geohash,
        "status": request.status.value,
        **_audit(request.version, created, iso(request.updated_at), request.correlation_id),
    }
    _optional(item, "notes", request.notes)
    if request.status is RequestStatus.OPEN:
        item["GSI3PK"] = keys.feed_pk(request.location.geohash)
        item["GSI3SK"] = keys.feed_sk(request.location.geohash, "request", request.request_id)
    return item


def item_to_request(item: Mapping[str, Any]) -> Request:
    return Request(
        request_id=item["requestId"],
        owner_id=item["ownerId"],
        crop=item["crop"],
        unit=item["unit"],
        quantity=Decimal(item["quantity"]),
        needed_by=parse_iso(item["neededBy"]),
        location=_location(item),
        notes=item.get("notes"),
        status=RequestStatus(item["status"]),
        version=int(item["version"]),
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        correlation_id=item["correlationId"],
    )


def claim_to_item(claim: Claim) -> Item:
    created = iso(claim.created_at)
    item: Item = {
        **keys.claim_key(claim.claim_id),
        "GSI1PK": keys.owner_pk(claim.claimer_id),
        "GSI1SK": keys.owned_sk("claim", created, claim.claim_id),
        "GSI2PK": keys.received_claims_pk(claim.owner_id),
        "GSI2SK": keys.owned_sk("claim", created, claim.claim_id),
        "type": "claim",
        "claimId": claim.claim_id,
        "listingId": claim.listing_id,
        "claimerId": claim.claimer_id,
        "ownerId": claim.owner_id,
        "quantity": claim.quantity,
        "unit": claim.unit,
        "status": claim.status.value,
        **_audit(claim.version, created, iso(claim.updated_at), claim.correlation_id),
    }
    _optional(item, "requestId", claim.request_id)
    _optional(item, "note", claim.note)
    _optional(item, "matchId", claim.match_id)
    return item


def item_to_claim(item: Mapping[str, Any]) -> Claim:
    return Claim(
        claim_id=item["claimId"],
        listing_id=item["listingId"],
        claimer_id=item["claimerId"],
        owner_id=item["ownerId"],
        quantity=Decimal(item["quantity"]),
        unit=item["unit"],
        request_id=item.get("requestId"),
        note=item.get("note"),
        match_id=item.get("matchId"),
        status=ClaimStatus(item["status"]),
        version=int(item["version"]),
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        correlation_id=item["correlationId"],
    )


def guidance_to_item(guidance: Guidance) -> Item:
    created = iso(guidance.created_at)
    item: Item = {
        **keys.guidance_key(guidance.guidance_id),
        "GSI1PK": keys.owner_pk(guidance.owner_id),
        "GSI1SK": keys.owned_sk("guidance", created, guidance.guidance_id),
        "type": "guidance",
        "guidanceId": guidance.guidance_id,
        "ownerId": guidance.owner_id,
        "area": guidance.area,
        "tier": guidance.tier,
        **_audit(guidance.version, created, iso(guidance.updated_at), guidance.correlation_id),
    }
    _optional(item, "crop", guidance.crop)
    return item


def item_to_guidance(item: Mapping[str, Any]) -> Guidance:
    return Guidance(
        guidance_id=item["guidanceId"],
        owner_id=item["ownerId"],
        area=item["area"],
        crop=item.get("crop"),
        tier=item["tier"],
        version=int(item["version"]),
        created_at=parse_iso(item["createdAt"]),
        updated_at=parse_iso(item["updatedAt"]),
        correlation_id=item["correlationId"],
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
