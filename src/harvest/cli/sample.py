"""The sample data set of schemas/: a few Berlin/Potsdam users, listings, requests and claims.

Built from fixed values through the real codec, so regenerating gives the same bytes and the
items have exactly the stored shape. The access-pattern examples in
harvest.store.access_patterns name these ids, and the integration tests seed a table with
these items and run every documented pattern against them.

The story: Ana (grower) offers tomatoes and zucchini in Berlin; Ben offers apples in Berlin
and potatoes (cancelled) and basil in Potsdam. Cleo and the kitchen Dora ask for food and
claim some of it. Quantities add up: a listing's remaining quantity is its total minus its
confirmed and completed claims.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harvest.domain import geo
from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import STORED_GEOHASH_PRECISION, Location, iso
from harvest.domain.guidance import Guidance
from harvest.domain.listing import Listing, ListingStatus
from harvest.domain.profile import Profile
from harvest.domain.request import Request, RequestStatus
from harvest.store import keys
from harvest.store.codec import StoredItem, attribute_examples
from harvest.store.items import (
    ClaimItem,
    Entity,
    GuidanceItem,
    ListingItem,
    ProfileItem,
    RequestItem,
    from_item,
    to_item,
)
from harvest.store.table import Item

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DAY = 24.0


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def place(lat: float, lon: float) -> Location:
    return Location(lat, lon, geo.encode(lat, lon, STORED_GEOHASH_PRECISION))


MITTE = place(52.52, 13.405)
PRENZLAUER_BERG = place(52.5301, 13.3849)
NEUKOELLN = place(52.4862, 13.4244)
TIERGARTEN = place(52.5076, 13.3904)
POTSDAM = place(52.3906, 13.0645)


def _every_attribute_once[E: Entity](
    model: type[StoredItem], samples: tuple[E, ...]
) -> tuple[E, ...]:
    """The samples, with every optional attribute of `model` set at least once: NoSQL
    Workbench takes each attribute's type from the sample set. An attribute no sample here
    sets takes its model's example (`attr(examples=[...])`), on the first sample, so a new
    optional field is written on the entity and its model, not also here."""
    stored = [to_item(sample) for sample in samples]
    unset = {
        name: examples[0]
        for name, examples in attribute_examples(model).items()
        if not any(name in item for item in stored)
    }
    if not unset:
        return samples
    first = from_item(type(samples[0]), {**stored[0], **unset})
    return (first, *samples[1:])


def _profile(user_id: str, name: str, home: Location | None, tier: str, hours: float) -> Profile:
    return Profile(
        user_id=user_id,
        display_name=name,
        home_location=home,
        share_radius_km=5.0,
        tier=tier,
        version=1,
        created_at=at(hours),
        updated_at=at(hours),
        correlation_id=f"corr-{user_id}",
    )


_PROFILES = (
    _profile("grower-ana", "Ana's Garden", MITTE, "pro", -48),
    _profile("grower-ben", "Ben's Orchard", NEUKOELLN, "free", -47),
    _profile("searcher-cleo", "Cleo", None, "supporter", -46),
    _profile("kitchen-dora", "Dora's Community Kitchen", TIERGARTEN, "free", -45),
)
PROFILES: tuple[Profile, ...] = _every_attribute_once(ProfileItem, _PROFILES)


def _listing(
    listing_id: str,
    owner_id: str,
    crop: str,
    total: str,
    remaining: str,
    where: Location,
    status: ListingStatus,
    hours: float,
    *,
    unit: str = "kg",
    version: int = 1,
    updated_hours: float | None = None,
    notes: str | None = None,
) -> Listing:
    return Listing(
        listing_id=listing_id,
        owner_id=owner_id,
        crop=crop,
        unit=unit,
        quantity_total=Decimal(total),
        quantity_remaining=Decimal(remaining),
        available_from=at(hours),
        available_until=at(hours + 7 * DAY),
        location=where,
        notes=notes,
        status=status,
        version=version,
        created_at=at(hours),
        updated_at=at(hours if updated_hours is None else updated_hours),
        correlation_id=f"corr-{listing_id}",
    )


ACTIVE, CLAIMED, CANCELLED = ListingStatus.ACTIVE, ListingStatus.CLAIMED, ListingStatus.CANCELLED
_LISTINGS = (
    # 10 kg, 4 kg confirmed to Dora -> 6 remain.
    _listing(
        "lst-ana-tomato",
        "grower-ana",
        "tomato",
        "10",
        "6",
        MITTE,
        ACTIVE,
        0,
        version=2,
        updated_hours=5.1,
        notes="Cherry tomatoes, ripe now. Bring a box.",
    ),
    # 3 kg, all confirmed to Dora -> claimed, out of the GeoIndex.
    _listing(
        "lst-ana-zucchini",
        "grower-ana",
        "zucchini",
        "3",
        "0",
        PRENZLAUER_BERG,
        CLAIMED,
        1,
        version=2,
        updated_hours=6.2,
    ),
    # 20 kg, 5 kg collected by Cleo -> 15 remain.
    _listing(
        "lst-ben-apples",
        "grower-ben",
        "apple",
        "20",
        "15",
        NEUKOELLN,
        ACTIVE,
        DAY - 0.5,
        version=2,
        updated_hours=DAY + 1.2,
    ),
    _listing(
        "lst-ben-potato",
        "grower-ben",
        "potato",
        "8",
        "8",
        POTSDAM,
        CANCELLED,
        DAY + 2,
        version=2,
        updated_hours=DAY + 3,
    ),
    _listing(
        "lst-ben-basil",
        "grower-ben",
        "basil",
        "12.5",
        "12.5",
        POTSDAM,
        ACTIVE,
        DAY + 4,
        unit="bunch",
    ),
)
LISTINGS: tuple[Listing, ...] = _every_attribute_once(ListingItem, _LISTINGS)


def _request(
    request_id: str,
    owner_id: str,
    crop: str,
    quantity: str,
    where: Location,
    status: RequestStatus,
    hours: float,
    *,
    version: int = 1,
    notes: str | None = None,
) -> Request:
    return Request(
        request_id=request_id,
        owner_id=owner_id,
        crop=crop,
        unit="kg",
        quantity=Decimal(quantity),
        needed_by=at(hours + 4 * DAY),
        location=where,
        notes=notes,
        status=status,
        version=version,
        created_at=at(hours),
        updated_at=at(hours + version - 1),
        correlation_id=f"corr-{request_id}",
    )


_REQUESTS = (
    _request(
        "req-cleo-tomato",
        "searcher-cleo",
        "tomato",
        "2",
        TIERGARTEN,
        RequestStatus.OPEN,
        2,
        notes="For a family of four.",
    ),
    _request(
        "req-dora-potato",
        "kitchen-dora",
        "potato",
        "15",
        MITTE,
        RequestStatus.MATCHED,
        3,
        version=2,
    ),
    _request(
        "req-cleo-apples",
        "searcher-cleo",
        "apple",
        "5",
        TIERGARTEN,
        RequestStatus.CLOSED,
        DAY,
        version=2,
    ),
    _request("req-dora-onion", "kitchen-dora", "onion", "0.75", POTSDAM, RequestStatus.OPEN, 5),
)
REQUESTS: tuple[Request, ...] = _every_attribute_once(RequestItem, _REQUESTS)


def _claim(
    claim_id: str,
    listing: Listing,
    claimer_id: str,
    quantity: str,
    status: ClaimStatus,
    hours: float,
    *,
    version: int,
    request_id: str | None = None,
    note: str | None = None,
    match_id: str | None = None,
) -> Claim:
    return Claim(
        claim_id=claim_id,
        listing_id=listing.listing_id,
        claimer_id=claimer_id,
        owner_id=listing.owner_id,
        quantity=Decimal(quantity),
        unit=listing.unit,
        request_id=request_id,
        note=note,
        status=status,
        version=version,
        created_at=at(hours),
        updated_at=at(hours + (version - 1) * 0.1),
        correlation_id=f"corr-{claim_id}",
        match_id=match_id,
    )


TOMATO, ZUCCHINI, APPLES = LISTINGS[0], LISTINGS[1], LISTINGS[2]
_CLAIMS = (
    _claim(
        "clm-cleo-tomato",
        TOMATO,
        "searcher-cleo",
        "2",
        ClaimStatus.PENDING,
        4,
        version=1,
        request_id="req-cleo-tomato",
        note="Can pick up after 5 pm.",
        # Made from the match suggestion GET /me/matches showed Cleo.
        match_id=f"req-cleo-tomato.{TOMATO.listing_id}",
    ),
    _claim("clm-dora-tomato", TOMATO, "kitchen-dora", "4", ClaimStatus.CONFIRMED, 5, version=2),
    _claim("clm-dora-zucchini", ZUCCHINI, "kitchen-dora", "3", ClaimStatus.CONFIRMED, 6, version=2),
    _claim(
        "clm-cleo-apples",
        APPLES,
        "searcher-cleo",
        "5",
        ClaimStatus.COMPLETED,
        DAY + 1,
        version=3,
        request_id="req-cleo-apples",
    ),
)
CLAIMS: tuple[Claim, ...] = _every_attribute_once(ClaimItem, _CLAIMS)

# Cleo's first claim was sent with an Idempotency-Key header; the record lives 24 hours.
_IDEMPOTENT = CLAIMS[0]
IDEMPOTENCY_RECORDS: tuple[Item, ...] = (
    {
        **keys.idempotency_key(_IDEMPOTENT.claimer_id, "5f0c2a8e-claim-tomato-0001"),
        "type": "idempotency",
        "userId": _IDEMPOTENT.claimer_id,
        "idempotencyKey": "5f0c2a8e-claim-tomato-0001",
        "requestHash": "9b1c6a3f1e0d4c2b8a7f6e5d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a09",
        "entityType": "claim",
        "entityId": _IDEMPOTENT.claim_id,
        "version": 1,
        "createdAt": iso(_IDEMPOTENT.created_at),
        "updatedAt": iso(_IDEMPOTENT.created_at),
        "correlationId": _IDEMPOTENT.correlation_id,
        "expiresAt": int((_IDEMPOTENT.created_at + timedelta(hours=24)).timestamp()),
    },
)


# A pro grower asked for guidance on tomatoes around her home cell; one use of her budget.
GUIDANCE = Guidance(
    guidance_id="gd-ada-tomato",
    owner_id="grower-ana",
    area="u33dc",
    crop="tomato",
    tier="pro",
    version=1,
    created_at=at(DAY + 2),
    updated_at=at(DAY + 2),
    correlation_id="c-7f3e9a10-guidance",
)
USAGE_COUNTERS: tuple[Item, ...] = (
    {
        **keys.usage_key(GUIDANCE.owner_id, "guidance", GUIDANCE.created_at.date().isoformat()),
        "type": "usage",
        "day": GUIDANCE.created_at.date().isoformat(),
        "count": 1,
        "version": 1,
        "createdAt": iso(GUIDANCE.created_at),
        "updatedAt": iso(GUIDANCE.created_at),
        "correlationId": GUIDANCE.correlation_id,
        "expiresAt": int((GUIDANCE.created_at + timedelta(days=2)).timestamp()),
    },
)


def sample_items() -> list[Item]:
    """Every sample item in stored form: profiles, listings, requests, claims, idempotency,
    a guidance request and its usage counter."""
    return [
        *(ProfileItem.encode(profile) for profile in PROFILES),
        *(ListingItem.encode(listing) for listing in LISTINGS),
        *(RequestItem.encode(request) for request in REQUESTS),
        *(ClaimItem.encode(claim) for claim in CLAIMS),
        *(dict(record) for record in IDEMPOTENCY_RECORDS),
        GuidanceItem.encode(GUIDANCE),
        *(dict(counter) for counter in USAGE_COUNTERS),
    ]
