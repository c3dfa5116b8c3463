"""The matching worker's decisions: a listing or request changed -> the bounded sets it touches.

Rules in harvest.domain.matching; this module finds candidates and keeps the sets.

- **Own set** (`own_set`): a live listing's set is the best MAX_MATCHES of the open requests
  of its crop that are eligible, among the CANDIDATES nearest to its published cell; a
  request's set the same of live listings, searched within its owner's share radius. The
  search is the feed's bounded best-first read, given a kind and a crop, so of the
  CropIndex (nearest published cells first, only rows of its crop and the other side,
  stopping when CANDIDATES are found): its cost does not grow with the number of items in
  the area, nor with how many of other crops share its cells.
- **Offers**: the entity is offered to each candidate of its own search and to each member
  of its previous set; a set takes it only when it is eligible and ranks above the set's
  worst entry (a candidate that cannot enter a full set costs the read of that set, no
  write). An entity that leaves a set (no longer eligible, or moved down) leaves a gap: that
  set is recomputed from its own search, so it equals its own set again.
- **Idempotent**: the service reads the entity's current state, not the event's, and writes a
  set only when its entries change, conditioned on the version read (a concurrent write
  makes it read and decide again). A replayed or redelivered event, or an older event
  arriving after a newer one, writes nothing new.
- **Share radius change** (`refresh_owner`, on `profile.updated`): the radius is the request
  owner's, so each of the owner's open requests is refreshed as if it had changed, and its
  offers also go to the CANDIDATES nearest listings of its crop within the largest radius,
  eligible or not: a set that held the request and is now beyond the radius drops it (a
  gap, recomputed), one newly within it may take it.
- **Known limit**: a request farther from a listing than the listing's CANDIDATES nearest
  requests of its crop is not offered that listing; it sees it when its own set is
  recomputed (its own next write, a gap, or `harvest rebuild`), and `harvest audit`
  reports the difference meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from harvest.domain import matching
from harvest.domain.listing import Listing
from harvest.domain.matching import MAX_MATCHES, MatchEntry, Side
from harvest.domain.profile import DEFAULT_SHARE_RADIUS_KM, Profile
from harvest.domain.request import Request
from harvest.services.feed import FeedKind, FeedQuery, FeedStore, nearest_live, published_point
from harvest.services.profiles import MAX_SHARE_RADIUS_KM
from harvest.store.matches import MatchSet, MatchSetConflict
from harvest.store.table import Key

CANDIDATES = 2 * MAX_MATCHES
MAX_CONFLICT_RETRIES = 5

type Entity = Listing | Request


class CoreReads(FeedStore, Protocol):
    """The core items matching reads (harvest.store.repository.Repository)."""

    def listing_by_id(self, listing_id: str) -> Listing | None: ...

    def request_by_id(self, request_id: str) -> Request | None: ...

    def profile_by_user(self, user_id: str) -> Profile | None: ...

    def requests_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> RequestPage: ...


class RequestPage(Protocol):
    """One page of a user's requests (harvest.store.repository.EntityPage)."""

    @property
    def items(self) -> list[Request]: ...

    @property
    def next_key(self) -> Key | None: ...


class MatchSets(Protocol):
    """The derived sets (harvest.store.matches.MatchRepository)."""

    def match_sets(self, side: Side, entity_ids: Iterable[str]) -> dict[str, MatchSet]: ...

    def save(
        self, match_set: MatchSet, correlation_id: str, now: datetime | None = None
    ) -> int: ...


@dataclass(slots=True)
class MatchOutcome:
    """What one change cost and did (metrics, the bench and tests)."""

    sets_read: int = 0
    sets_written: int = 0
    rows_read: int = 0
    conflicts: int = 0


def side_of(entity: Entity) -> Side:
    return Side.LISTING if isinstance(entity, Listing) else Side.REQUEST


def entity_id(entity: Entity) -> str:
    return entity.listing_id if isinstance(entity, Listing) else entity.request_id


class MatchingService:
    def __init__(self, core: CoreReads, sets: MatchSets, clock: Callable[[], datetime]) -> None:
        self.core = core
        self.sets = sets
        self.clock = clock
        self._radii: dict[str, float] = {}

    # ------------------------------------------------------------------ reads
    def share_radius_km(self, owner_id: str) -> float:
        """The request owner's share radius (the default without a profile); read once per
        owner per change."""
        if owner_id not in self._radii:
            profile = self.core.profile_by_user(owner_id)
            self._radii[owner_id] = profile.share_radius_km if profile else DEFAULT_SHARE_RADIUS_KM
        return self._radii[owner_id]

    def _load(self, side: Side, wanted_id: str) -> Entity | None:
        if side is Side.LISTING:
            return self.core.listing_by_id(wanted_id)
        return self.core.request_by_id(wanted_id)

    def candidates(self, entity: Entity, now: datetime, outcome: MatchOutcome) -> list[Entity]:
        """The eligible other-side items among the CANDIDATES nearest (module doc)."""
        if isinstance(entity, Listing):
            radius = MAX_SHARE_RADIUS_KM
        else:
            radius = self.share_radius_km(entity.owner_id)
        found = self._nearest(entity, radius, now, outcome)
        return [other for other in found if self._eligible(entity, other, now)]

    def _nearest(
        self, entity: Entity, radius_km: float, now: datetime, outcome: MatchOutcome
    ) -> list[Entity]:
        """The CANDIDATES nearest live other-side items of its crop within `radius_km`."""
        if not entity.is_live(now):
            return []
        lat, lon = published_point(matching.published_cell(entity.location.geohash))
        kind = FeedKind.REQUEST if isinstance(entity, Listing) else FeedKind.LISTING
        query = FeedQuery(lat=lat, lon=lon, radius_km=radius_km, crop=entity.crop, kind=kind)
        items, rows = nearest_live(self.core, query, CANDIDATES, now)
        outcome.rows_read += rows
        return [item.entity for item in items]

    def _eligible(self, a: Entity, b: Entity, now: datetime) -> bool:
        listing, request = _pair(a, b)
        return matching.eligible(listing, request, self.share_radius_km(request.owner_id), now)

    def _entry(self, holder: Entity, other: Entity) -> MatchEntry:
        listing, request = _pair(holder, other)
        return matching.entry_for(side_of(holder), listing, request)

    def own_set(self, entity: Entity, now: datetime, outcome: MatchOutcome) -> list[MatchEntry]:
        """The entries an entity's set holds by definition (what rebuild writes)."""
        found = self.candidates(entity, now, outcome)
        return matching.best(self._entry(entity, other) for other in found)

    # ------------------------------------------------------------------ the change
    def refresh(self, side: Side, changed_id: str, correlation_id: str) -> MatchOutcome:
        """One listing or request changed: its own set, then the sets it is offered to."""
        self._radii = {}
        outcome = MatchOutcome()
        entity = self._load(side, changed_id)
        if entity is not None:
            self._refresh(entity, self.clock(), correlation_id, outcome, widen=False)
        return outcome

    def refresh_owner(self, owner_id: str, correlation_id: str) -> MatchOutcome:
        """A user's profile changed, so maybe their share radius: each of their open
        requests is refreshed, its offers widened to the largest radius (module doc)."""
        self._radii = {}
        outcome = MatchOutcome()
        now = self.clock()
        start: Key | None = None
        while True:
            page = self.core.requests_by_owner(owner_id, limit=100, start_key=start)
            for request in page.items:
                if request.is_live(now):
                    self._refresh(request, now, correlation_id, outcome, widen=True)
            if page.next_key is None:
                return outcome
            start = page.next_key

    def _refresh(
        self,
        entity: Entity,
        now: datetime,
        correlation_id: str,
        outcome: MatchOutcome,
        *,
        widen: bool,
    ) -> None:
        found = self.candidates(entity, now, outcome)
        own = matching.best(self._entry(entity, other) for other in found)
        previous = self._write(entity, own, correlation_id, outcome)
        others: dict[str, Entity | None] = {entity_id(o): o for o in found}
        if widen:  # sets beyond a radius that shrank may hold it: offer, so they drop it
            for other in self._nearest(entity, MAX_SHARE_RADIUS_KM, now, outcome):
                others.setdefault(entity_id(other), other)
        for entry in previous:
            others.setdefault(entry.other_id, None)
        self._offer(entity, others, now, correlation_id, outcome)

    def _write(
        self,
        entity: Entity,
        entries: list[MatchEntry],
        correlation_id: str,
        outcome: MatchOutcome,
    ) -> tuple[MatchEntry, ...]:
        """Stores an entity's own set when it changed; returns what it held before."""
        side, key = side_of(entity), entity_id(entity)
        for _ in range(MAX_CONFLICT_RETRIES):
            stored = self.sets.match_sets(side, [key]).get(key)
            outcome.sets_read += 1
            before = stored.entries if stored else ()
            if list(before) == entries:
                return before
            base = stored or MatchSet(side, key, entity.owner_id, entity.crop)
            try:
                self.sets.save(replace(base, entries=tuple(entries)), correlation_id)
            except MatchSetConflict:
                outcome.conflicts += 1
                continue
            outcome.sets_written += 1
            return before
        raise MatchSetConflict(f"{side.value} {key}: still changing after retries")

    def _offer(
        self,
        entity: Entity,
        others: dict[str, Entity | None],
        now: datetime,
        correlation_id: str,
        outcome: MatchOutcome,
    ) -> None:
        """Offers `entity` to each other-side set (module doc: offers and gaps)."""
        side = side_of(entity).other
        pending = dict(others)
        for _ in range(MAX_CONFLICT_RETRIES):
            if not pending:
                return
            stored = self.sets.match_sets(side, pending)
            outcome.sets_read += len(pending)
            retry: dict[str, Entity | None] = {}
            for other_id, other in pending.items():
                if not self._offer_one(entity, other_id, other, stored.get(other_id), now,
                                       correlation_id, outcome):  # fmt: skip
                    retry[other_id] = other
            pending = retry
        if pending:
            raise MatchSetConflict(f"{side.value} sets {sorted(pending)}: still changing")

    def _offer_one(
        self,
        entity: Entity,
        other_id: str,
        other: Entity | None,
        stored: MatchSet | None,
        now: datetime,
        correlation_id: str,
        outcome: MatchOutcome,
    ) -> bool:
        """False on a write conflict (offer again after reading again)."""
        before = stored.entries if stored else ()
        mine = matching.match_id(*_ids(entity, other_id))
        rest = [entry for entry in before if entry.match_id != mine]
        held = len(rest) < len(before)
        if other is None:
            other = self._load(side_of(entity).other, other_id)
        if other is None:
            return True
        candidate = self._entry(other, entity) if self._eligible(entity, other, now) else None
        if candidate is None and not held:
            return True  # neither held nor eligible: nothing to do
        if candidate is not None and not held and not matching.may_enter(rest, candidate):
            return True  # cannot enter a full set: no write (the head's worst rank)
        new = matching.best([*rest, candidate] if candidate else rest)
        left = held and all(entry.match_id != mine for entry in new)
        if left and len(before) >= MAX_MATCHES:
            # A gap in a full set: what ranked 11th is unknown here, so recompute it.
            new = self.own_set(other, now, outcome)
        if list(before) == new:
            return True
        base = stored or MatchSet(side_of(other), other_id, other.owner_id, other.crop)
        try:
            self.sets.save(replace(base, entries=tuple(new)), correlation_id)
        except MatchSetConflict:
            outcome.conflicts += 1
            return False
        outcome.sets_written += 1
        return True


def _ids(entity: Entity, other_id: str) -> tuple[str, str]:
    """(request id, listing id) of the pair of `entity` and an other-side id."""
    if isinstance(entity, Listing):
        return other_id, entity.listing_id
    return entity.request_id, other_id


def _pair(a: Entity, b: Entity) -> tuple[Listing, Request]:
    """(listing, request) of one of each, in either order."""
    if isinstance(a, Listing) and isinstance(b, Request):
        return a, b
    if isinstance(b, Listing) and isinstance(a, Request):
        return b, a
    raise TypeError("a match pairs one listing and one request")
