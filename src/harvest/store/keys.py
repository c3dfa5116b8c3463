"""Key templates of the single table. The catalogue in schemas/key-design.md mirrors this file.

Core families (written by the API only) and derived families (written by stream consumers
only) are told apart by the PK prefix; IAM enforces the split with dynamodb:LeadingKeys.
"""

from __future__ import annotations

from typing import Final

OWNER_INDEX: Final = "OwnerIndex"
GEO_INDEX: Final = "GeoIndex"
FEED_INDEX: Final = "FeedIndex"
# The FeedIndex of one kind and crop: the same rows and sort key (GSI3SK), partitioned by
# geohash-4 cell, kind and crop (GSI4PK), so a search for one crop (the matching worker's
# candidates, the feed with crop and kind) reads only that crop's rows, however many items
# of other crops share its cells.
CROP_INDEX: Final = "CropIndex"
# Live items are partitioned by geohash-4 cell (~39 km x 19.5 km at the equator), and sorted
# inside it by their *published* cell (geohash-5, what a non-owner sees), then kind, then id:
# the feed's order. Nothing in the feed's keys is finer than the published cell, so no read
# of the feed can depend on where in that cell the exact point lies.
GEO_PARTITION_PRECISION: Final = 4
FEED_CELL_PRECISION: Final = 5

CORE_PREFIXES: Final = (
    "USER#",
    "LISTING#",
    "REQUEST#",
    "CLAIM#",
    "GUIDANCE#",
    "IDEMPOTENCY#",
    "USAGE#",
)
DERIVED_PREFIXES: Final = ("AGG#", "INSIGHT#", "AICACHE#", "AIUSAGE#", "MATCH#")
# The core items the derived views are made from (listings: supply, requests: demand).
SOURCE_PREFIXES: Final = ("LISTING#", "REQUEST#")
MATCH_PREFIX: Final = "MATCH#"
MATCH_SET_SK: Final = "SET"
# Live connections of the WebSocket API and their topic subscriptions: neither core (no user
# data, never an event) nor derived (not rebuildable: a connection exists while a socket is
# open). Written by the WebSocket functions only; every item expires (expiresAt).
CONNECTION_PREFIXES: Final = ("CONN#", "TOPIC#")


def profile_key(user_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": "PROFILE"}


def listing_key(listing_id: str) -> dict[str, str]:
    return {"PK": f"LISTING#{listing_id}", "SK": "LISTING"}


def request_key(request_id: str) -> dict[str, str]:
    return {"PK": f"REQUEST#{request_id}", "SK": "REQUEST"}


def claim_key(claim_id: str) -> dict[str, str]:
    return {"PK": f"CLAIM#{claim_id}", "SK": "CLAIM"}


def guidance_key(guidance_id: str) -> dict[str, str]:
    return {"PK": f"GUIDANCE#{guidance_id}", "SK": "GUIDANCE"}


def usage_key(user_id: str, counter: str, day: str) -> dict[str, str]:
    """A per-user daily counter, e.g. guidance requests asked on one UTC day."""
    return {"PK": f"USAGE#{user_id}", "SK": f"{counter.upper()}#{day}"}


def idempotency_key(user_id: str, key: str) -> dict[str, str]:
    return {"PK": f"IDEMPOTENCY#{user_id}#{key}", "SK": "IDEMPOTENCY"}


def owner_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def owned_sk(entity: str, created_at: str, entity_id: str) -> str:
    return f"{entity.upper()}#{created_at}#{entity_id}"


def feed_pk(geohash: str) -> str:
    """FeedIndex partition of a live listing or request: its geohash-4 cell."""
    return f"FEED#{geohash[:GEO_PARTITION_PRECISION]}"


def feed_sk(geohash: str, entity: str, entity_id: str) -> str:
    """FeedIndex sort key: published cell, then kind (`listing` < `request`), then id."""
    return f"{geohash[:FEED_CELL_PRECISION]}#{entity}#{entity_id}"


def crop_pk(geohash: str, entity: str, crop: str) -> str:
    """CropIndex partition of a live listing or request: its geohash-4 cell, kind and crop
    (crop slugs are lowercase words and hyphens: no `#`)."""
    return f"CROP#{geohash[:GEO_PARTITION_PRECISION]}#{entity}#{crop}"


def feed_cell_prefix(cell: str, entity: str | None = None) -> str:
    """Sort-key prefix of everything live in a published cell (optionally of one kind)."""
    return f"{cell}#" if entity is None else f"{cell}#{entity}#"


def match_set_key(side: str, entity_id: str) -> dict[str, str]:
    """The bounded set of matches of one request (`side` request) or listing (derived)."""
    return {"PK": f"{MATCH_PREFIX}{side.upper()}#{entity_id}", "SK": MATCH_SET_SK}


def matches_owner_pk(owner_id: str) -> str:
    """OwnerIndex partition of a user's match sets (GET /me/matches)."""
    return f"MATCHES#{owner_id}"


def matches_owner_sk(side: str, entity_id: str) -> str:
    return f"{side}#{entity_id}"


def received_claims_pk(owner_id: str) -> str:
    return f"RECEIVED#{owner_id}"


def is_core_key(pk: str) -> bool:
    return pk.startswith(CORE_PREFIXES)


def is_derived_key(pk: str) -> bool:
    return pk.startswith(DERIVED_PREFIXES)


def connection_key(connection_id: str) -> dict[str, str]:
    return {"PK": f"CONN#{connection_id}", "SK": "CONN"}


def subscription_key(topic_key: str, connection_id: str) -> dict[str, str]:
    """One connection subscribed to one bound topic (harvest.domain.push): the delivery
    worker queries a topic's partition for its connections."""
    return {"PK": f"TOPIC#{topic_key}", "SK": f"CONN#{connection_id}"}
