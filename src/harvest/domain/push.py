"""Live updates over the WebSocket API: which topics exist, who may hear what.

Pure rules, shared by the WebSocket route handlers (what a client may subscribe to) and the
delivery worker (which topics a domain event is pushed to).

Topics a client names, and what they are bound to server-side:

    client topic         bound topic              receives
    claims               claims#{userId}          claim.* where the user is grower or claimer
    matches              matches#{userId}         match.suggested where the user owns a side
    signals:{geohash}    signals#{geohash}        insight.generated of that area (precision 4-6)

A private topic is always bound to the authenticated user id, never to anything the client
sends: a third party subscribing to `claims` hears its own claims and nobody else's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harvest.domain.errors import ValidationFailed

PRIVATE_TOPICS = ("claims", "matches")
SIGNALS_PREFIX = "signals:"
MIN_SIGNALS_PRECISION = 4
MAX_SIGNALS_PRECISION = 6
# A connection holds a bounded number of subscriptions (its items stay bounded too).
MAX_TOPICS_PER_CONNECTION = 20
_GEOHASH = re.compile(r"^[0-9b-hjkmnp-z]{4,6}$")
# match.suggested (issue 15a) is one event per side of a match, addressed to that side's
# owner in `recipientId` (its data is what that side may see): pushed to that user only.
MATCH_RECIPIENT_FIELDS = ("recipientId",)
# claim.*: both parties (the claim's public view carries both ids).
CLAIM_PARTY_FIELDS = ("claimerId", "ownerId")


@dataclass(frozen=True, slots=True)
class Topic:
    """A subscription: `name` as the client wrote it, `key` as stored (bound to a user or an
    area, safe as a key segment)."""

    name: str
    key: str


def bind_topic(name: object, user_id: str) -> Topic:
    """The topic a client asked for, bound to its authenticated user. Raises ValidationFailed
    for anything that is not one of the documented topics."""
    if not isinstance(name, str):
        raise ValidationFailed("topic must be a string")
    if name in PRIVATE_TOPICS:
        return Topic(name, f"{name}#{user_id}")
    if name.startswith(SIGNALS_PREFIX):
        area = name.removeprefix(SIGNALS_PREFIX)
        if _GEOHASH.match(area):
            return Topic(name, f"signals#{area}")
        raise ValidationFailed(
            f"signals topic needs a geohash of precision {MIN_SIGNALS_PRECISION}-"
            f"{MAX_SIGNALS_PRECISION} (signals:u4pru)"
        )
    raise ValidationFailed(f"unknown topic (claims, matches, signals:{{geohash}}): {name[:40]!r}")


def topics_for_event(detail_type: str, data: Mapping[str, Any]) -> list[str]:
    """The bound topic keys a domain event is pushed to; [] for events nobody hears live."""
    if detail_type.startswith("claim."):
        return _user_topics("claims", data, CLAIM_PARTY_FIELDS)
    if detail_type == "match.suggested":
        return _user_topics("matches", data, MATCH_RECIPIENT_FIELDS)
    if detail_type == "insight.generated":
        area = data.get("area")
        if not isinstance(area, str):
            return []
        # An area's insight reaches the subscribers of its cell and of every coarser cell
        # down to precision 4 (signals:u4pr hears the insights of u4pru).
        return [
            f"signals#{area[:size]}"
            for size in range(MIN_SIGNALS_PRECISION, min(len(area), MAX_SIGNALS_PRECISION) + 1)
            if _GEOHASH.match(area[:size])
        ]
    return []


def _user_topics(kind: str, data: Mapping[str, Any], fields: tuple[str, ...]) -> list[str]:
    users = sorted({str(data[field]) for field in fields if isinstance(data.get(field), str)})
    return [f"{kind}#{user}" for user in users]
