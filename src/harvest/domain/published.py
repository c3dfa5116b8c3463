"""What each entity's domain event may carry in `data`: one list per entity.

`harvest.domain.events.public_view` publishes by inclusion from these lists.
"""

from __future__ import annotations

__all__ = ["PUBLISHED_ATTRIBUTES"]

# What each entity's event may carry in `data` (public_view publishes by inclusion), written
# out because the publisher must not import pydantic (~370 ms CPU on its first record). The
# event models of harvest.store.event_models declare what an event shows otherwise than the
# table and take any other listed attribute from the stored model (published_model), so a
# new attribute is published, and in the event schemas, once it is listed here.
PUBLISHED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "listing": frozenset({
        "listingId", "ownerId", "crop", "unit", "area", "notes", "quantityTotal",
        "quantityRemaining", "availableFrom", "availableUntil", "status",
        "version", "createdAt", "updatedAt",
    }),
    "request": frozenset({
        "requestId", "ownerId", "crop", "unit", "area", "notes", "quantity", "neededBy",
        "status", "version", "createdAt", "updatedAt",
    }),
    "claim": frozenset({
        "claimId", "listingId", "claimerId", "ownerId", "quantity", "unit", "status",
        "requestId", "note", "matchId", "version", "createdAt", "updatedAt",
    }),
    "profile": frozenset({
        "userId", "displayName", "homeLocation", "shareRadiusKm", "tier",
        "version", "createdAt", "updatedAt",
    }),
    "guidance": frozenset({
        "guidanceId", "ownerId", "area", "crop", "tier", "version", "createdAt", "updatedAt",
    }),
    "insight": frozenset({
        "area", "asOfDay", "windows", "digests",
        "version", "createdAt", "updatedAt",
    }),
    # Built entry by entry by harvest.domain.matching.suggested_events, never from an item.
    "match": frozenset({
        "matchId", "recipientId", "side", "requestId", "listingId", "crop", "area",
        "distanceKm", "listedAt", "version", "createdAt", "updatedAt",
    }),
}  # fmt: skip
