"""Matching: which live listings and open requests suggest each other, and in what order.

Pure rules over entities (no I/O); harvest.services.matching finds the candidates and keeps
the bounded sets, harvest.store.matches stores them.

- **Eligible**: same crop, different owners, the listing live, the request open (both as of
  now), and the listing's *published* cell within the request owner's share radius. Every
  distance is measured between the two published cells' centres (precision 5), never from
  an exact point, so a match says no more of a place than the feed does (both sides agree).
- **Ranked** by distance, then freshness (the newer item first), then id: a total order, so
  a set is a function of the core items (rebuildable) whatever order the writes came in.
- **Bounded**: each request keeps its MAX_MATCHES best listings, each listing its
  MAX_MATCHES best requests. A set also remembers its worst retained rank (`worst`), so a
  candidate that cannot enter a full set is refused without a write.
- **match.suggested**: one event per entry that appears in a set (a diff of the set's old and
  new entries), addressed to the set's owner; its id is deterministic per (match, side, set
  version), so a replayed stream record publishes the same ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from harvest.domain import geo
from harvest.domain.common import PUBLIC_GEOHASH_PRECISION, iso, parse_iso
from harvest.domain.events import ENTITY_RULES, DetailType, DomainEvent, JsonValue, event_id
from harvest.domain.listing import Listing
from harvest.domain.request import Request

MAX_MATCHES = 10
# A match id joins the two ids with a character no id may contain (ID_PATTERN).
MATCH_ID_SEPARATOR = "."
MATCH_ENTITY = "match"
MATCH_SET_TYPE = "matchset"

# What a match.suggested event carries in `data`: suggested_events builds it entry by entry.
PUBLISHED_MATCH_ATTRIBUTES = frozenset({
    "matchId", "recipientId", "side", "requestId", "listingId", "crop", "area",
    "distanceKm", "listedAt", "version", "createdAt", "updatedAt",
})  # fmt: skip


class Side(StrEnum):
    """Whose set: a request's set holds listings, a listing's set holds requests."""

    REQUEST = "request"
    LISTING = "listing"

    @property
    def other(self) -> Side:
        return Side.LISTING if self is Side.REQUEST else Side.REQUEST


def match_id(request_id: str, listing_id: str) -> str:
    return f"{request_id}{MATCH_ID_SEPARATOR}{listing_id}"


def parse_match_id(value: str) -> tuple[str, str] | None:
    """(request id, listing id) of a match id, or None when it is not one."""
    request_id, separator, listing_id = value.partition(MATCH_ID_SEPARATOR)
    if not separator or not request_id or not listing_id or MATCH_ID_SEPARATOR in listing_id:
        return None
    return request_id, listing_id


def published_cell(geohash: str) -> str:
    return geohash[:PUBLIC_GEOHASH_PRECISION]


def cell_distance_m(cell_a: str, cell_b: str) -> int:
    """Metres between two published cells' centres (what both sides may know)."""
    lat_a, lon_a = geo.decode(published_cell(cell_a))
    lat_b, lon_b = geo.decode(published_cell(cell_b))
    return round(geo.haversine_km(lat_a, lon_a, lat_b, lon_b) * 1000)


@dataclass(frozen=True, slots=True)
class MatchEntry:
    """One suggestion in a set: the other side, as a non-owner may see it."""

    match_id: str
    request_id: str
    listing_id: str
    crop: str
    cell: str  # the other side's published cell
    distance_m: int
    listed_at: str  # the other side's createdAt (freshness)
    holder: Side  # whose set keeps it: a request's set holds listings

    @property
    def other_id(self) -> str:
        return self.listing_id if self.holder is Side.REQUEST else self.request_id

    def rank(self) -> tuple[int, int, str]:
        """Smaller is better: nearer, then newer, then id."""
        fresh = -int(parse_iso(self.listed_at).timestamp() * 1000)
        return self.distance_m, fresh, self.other_id

    def to_item(self) -> dict[str, Any]:
        return {
            "matchId": self.match_id,
            "requestId": self.request_id,
            "listingId": self.listing_id,
            "crop": self.crop,
            "cell": self.cell,
            "distanceM": self.distance_m,
            "listedAt": self.listed_at,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any], side: Side) -> MatchEntry:
        return cls(
            match_id=str(item["matchId"]),
            request_id=str(item["requestId"]),
            listing_id=str(item["listingId"]),
            crop=str(item["crop"]),
            cell=str(item["cell"]),
            distance_m=int(item["distanceM"]),
            listed_at=str(item["listedAt"]),
            holder=side,
        )


def share_radius_m(radius_km: float) -> int:
    return round(radius_km * 1000)


def eligible(listing: Listing, request: Request, radius_km: float, now: datetime) -> bool:
    """The module doc's rule; radius_km is the request owner's share radius."""
    return (
        listing.crop == request.crop
        and listing.owner_id != request.owner_id
        and listing.is_live(now)
        and request.is_live(now)
        and cell_distance_m(listing.location.geohash, request.location.geohash)
        <= share_radius_m(radius_km)
    )


def entry_for(holder: Side, listing: Listing, request: Request) -> MatchEntry:
    """The entry the holder's set keeps for the other side."""
    other: Listing | Request = listing if holder is Side.REQUEST else request
    return MatchEntry(
        match_id=match_id(request.request_id, listing.listing_id),
        request_id=request.request_id,
        listing_id=listing.listing_id,
        crop=listing.crop,
        cell=published_cell(other.location.geohash),
        distance_m=cell_distance_m(listing.location.geohash, request.location.geohash),
        listed_at=iso(other.created_at),
        holder=holder,
    )


def best(entries: Iterable[MatchEntry], limit: int = MAX_MATCHES) -> list[MatchEntry]:
    """The `limit` best entries, best first, one per match."""
    unique = {entry.match_id: entry for entry in entries}
    return sorted(unique.values(), key=MatchEntry.rank)[:limit]


def may_enter(entries: Sequence[MatchEntry], candidate: MatchEntry) -> bool:
    """Whether a candidate would be kept by a set holding `entries` (best first)."""
    return len(entries) < MAX_MATCHES or candidate.rank() < entries[-1].rank()


def worst_rank(entries: Sequence[MatchEntry]) -> tuple[int, int, str] | None:
    """The rank a candidate must beat to enter a full set; None while there is room."""
    return entries[-1].rank() if len(entries) >= MAX_MATCHES else None


@dataclass(frozen=True, slots=True)
class MatchSetChange:
    """A set's entries before and after one write (from the stream), and whose set it is."""

    side: Side
    owner_id: str
    entity_id: str
    version: int
    updated_at: str
    correlation_id: str
    old: Sequence[Mapping[str, Any]]
    new: Sequence[Mapping[str, Any]]


def suggested_events(change: MatchSetChange) -> list[DomainEvent]:
    """match.suggested for each entry new in the set, in the set's order."""
    before = {str(entry["matchId"]) for entry in change.old}
    events: list[DomainEvent] = []
    for item in change.new:
        entry = MatchEntry.from_item(item, change.side)
        if entry.match_id in before:
            continue
        name = json.dumps([entry.match_id, change.side.value])
        data: dict[str, JsonValue] = {
            "matchId": entry.match_id,
            "recipientId": change.owner_id,
            "side": change.side.value,
            "requestId": entry.request_id,
            "listingId": entry.listing_id,
            "crop": entry.crop,
            "area": entry.cell,
            "distanceKm": round(entry.distance_m / 1000, 1),
            "listedAt": entry.listed_at,
            "version": change.version,
            "createdAt": change.updated_at,
            "updatedAt": change.updated_at,
        }
        events.append(
            DomainEvent(
                id=event_id(MATCH_ENTITY, name, change.version, DetailType.MATCH_SUGGESTED.value),
                source=ENTITY_RULES[MATCH_ENTITY].source,
                detail_type=DetailType.MATCH_SUGGESTED,
                occurred_at=change.updated_at,
                correlation_id=change.correlation_id,
                entity_type=MATCH_ENTITY,
                entity_id=entry.match_id,
                version=change.version,
                data=data,
            )
        )
    return events
