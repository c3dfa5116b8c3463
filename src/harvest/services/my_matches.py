"""GET /me/matches: the suggestions of the caller's requests (listings nearby) or of the
caller's listings (requests nearby), from their MATCH# sets, with the other side read now.

The API reads the derived sets and never writes them. A page is a run of entries over the
caller's sets in entity id order (OwnerIndex `MATCHES#{owner}`, one side per page run);
the signed cursor holds the last set's id and how many of its entries were served, so a
page may end inside a set. Each entry's other side is read by id (at most a page of reads)
and shown as the API shows it to a non-owner (views decides that: published cell only).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from harvest.domain.common import Actor
from harvest.domain.listing import Listing
from harvest.domain.matching import MatchEntry, Side
from harvest.domain.request import Request
from harvest.services.support import ServiceContext
from harvest.store import keys
from harvest.store.matches import MatchSet
from harvest.store.table import Key

MAX_MATCH_PAGE = 50
_SETS_PER_READ = 10


class MatchPages(Protocol):
    """What the route reads (store.matches.MatchRepository and store.repository.Repository)."""

    def match_set(self, side: Side, entity_id: str) -> MatchSet | None: ...

    def sets_of_owner(
        self, owner_id: str, side: Side, limit: int, start_key: Key | None
    ) -> tuple[list[MatchSet], Key | None]: ...


class EntityReads(Protocol):
    def listing_by_id(self, listing_id: str) -> Listing | None: ...

    def request_by_id(self, request_id: str) -> Request | None: ...


@dataclass(frozen=True, slots=True)
class MatchView:
    """One suggestion: which of mine it is for, and the other side as it is now (None when
    it is gone)."""

    side: Side
    entry: MatchEntry
    other: Listing | Request | None


@dataclass(frozen=True, slots=True)
class MatchPage:
    items: list[MatchView]
    next_cursor: str | None


def _set_start_key(owner_id: str, side: Side, entity_id: str) -> Key:
    """The OwnerIndex position just after one set (ExclusiveStartKey of a GSI query)."""
    return {
        **keys.match_set_key(side.value, entity_id),
        "GSI1PK": keys.matches_owner_pk(owner_id),
        "GSI1SK": keys.matches_owner_sk(side.value, entity_id),
    }


class MyMatchesService:
    def __init__(self, sets: MatchPages, entities: EntityReads, context: ServiceContext) -> None:
        self.sets = sets
        self.entities = entities
        self.context = context

    def list_own(
        self, actor: Actor, side: Side, limit: int | None, cursor: str | None
    ) -> MatchPage:
        size = max(1, min(limit or 20, MAX_MATCH_PAGE))
        scope = f"matches:{actor.user_id}:{side.value}"
        after: tuple[str, int] | None = None
        if cursor:
            position = self.context.cursors.decode(scope, cursor)
            after = (str(position["id"]), int(position["i"]))
        taken: list[tuple[MatchSet, int]] = []  # (set, index of the entry)
        more = False
        for match_set, first in self._entries_from(actor.user_id, side, after):
            for index in range(first, len(match_set.entries)):
                if len(taken) == size:
                    more = True
                    break
                taken.append((match_set, index))
            if more:
                break
        next_cursor = None
        if more and taken:
            last_set, last_index = taken[-1]
            next_cursor = self.context.cursors.encode(
                scope, {"id": last_set.entity_id, "i": last_index + 1}
            )
        items = [self._view(s.entries[i], side) for s, i in taken]
        return MatchPage(items, next_cursor)

    def _entries_from(
        self, owner_id: str, side: Side, after: tuple[str, int] | None
    ) -> Iterator[tuple[MatchSet, int]]:
        """The caller's sets of one side in order, each with the first entry to serve."""
        start: Key | None = None
        if after is not None:
            current = self.sets.match_set(side, after[0])
            if current is not None and current.owner_id == owner_id:
                yield current, after[1]
            start = _set_start_key(owner_id, side, after[0])
        while True:
            found, start = self.sets.sets_of_owner(owner_id, side, _SETS_PER_READ, start)
            for match_set in found:
                yield match_set, 0
            if start is None:
                return

    def _view(self, entry: MatchEntry, side: Side) -> MatchView:
        other: Listing | Request | None
        if side is Side.REQUEST:
            other = self.entities.listing_by_id(entry.listing_id)
        else:
            other = self.entities.request_by_id(entry.request_id)
        return MatchView(side, entry, other)
