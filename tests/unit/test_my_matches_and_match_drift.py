"""MyMatchesService pages over fakes, and match_drift / rebuild_match_sets over plain sets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest

from harvest.domain.common import Actor
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import InvalidCursor
from harvest.domain.matching import MatchEntry, Side, entry_for
from harvest.services.match_rebuild import match_drift, rebuild_match_sets
from harvest.services.my_matches import MyMatchesService
from harvest.services.support import ServiceContext
from harvest.store.matches import MatchSet
from harvest.store.table import Key
from support.fake_repository import FakeRepository
from support.feed_world import listing, request

SAM = Actor("sam", "free", "c-1")


def _entries(request_id: str, count: int, core: FakeRepository) -> tuple[MatchEntry, ...]:
    r = request(request_id, 52.52, 13.405)
    found = []
    for n in range(count):
        grown = listing(f"{request_id}-l{n:02d}", 52.53 + n * 0.01, 13.405)
        core.listings[grown.listing_id] = grown
        found.append(entry_for(Side.REQUEST, grown, r))
    return tuple(found)


class FakePages:
    def __init__(self, sets: list[MatchSet]) -> None:
        self.sets = sorted(sets, key=lambda s: s.entity_id)

    def match_set(self, side: Side, entity_id: str) -> MatchSet | None:
        return next((s for s in self.sets if s.entity_id == entity_id and s.side is side), None)

    def sets_of_owner(
        self, owner_id: str, side: Side, limit: int, start_key: Key | None
    ) -> tuple[list[MatchSet], Key | None]:
        mine = [s for s in self.sets if s.owner_id == owner_id and s.side is side]
        after = start_key["GSI1SK"].split("#", 1)[1] if start_key else ""
        rest = [s for s in mine if s.entity_id > after]
        page = rest[:limit]
        more = len(rest) > limit
        last = {"GSI1SK": f"{side.value}#{page[-1].entity_id}"} if more and page else None
        return page, last


def _service(sets: Iterable[MatchSet], core: FakeRepository) -> MyMatchesService:
    context = ServiceContext(cursors=CursorCodec(b"k" * 32))
    return MyMatchesService(FakePages(list(sets)), core, context)


def test_pages_run_across_sets_and_inside_them_and_end_without_a_cursor() -> None:
    core = FakeRepository()
    sets = [
        MatchSet(Side.REQUEST, f"request-{n}", "sam", "tomato", _entries(f"request-{n}", 3, core))
        for n in range(4)
    ] + [MatchSet(Side.REQUEST, "request-x", "eve", "tomato", _entries("request-x", 2, core))]
    service = _service(sets, core)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = service.list_own(SAM, Side.REQUEST, 5, cursor)
        seen += [item.entry.match_id for item in page.items]
        assert all(item.other is not None for item in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [e.match_id for s in sets[:4] for e in s.entries]
    assert service.list_own(SAM, Side.LISTING, None, None).items == []


def test_a_cursor_is_the_callers_only() -> None:
    core = FakeRepository()
    sets = [MatchSet(Side.REQUEST, "request-1", "sam", "tomato", _entries("request-1", 3, core))]
    service = _service(sets, core)
    cursor = service.list_own(SAM, Side.REQUEST, 1, None).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        service.list_own(Actor("eve", "free", "c"), Side.REQUEST, 1, cursor)


def test_drift_names_missing_matches_then_changed_entries_and_rebuild_writes_only_those() -> None:
    core = FakeRepository()
    full = _entries("request-1", 2, core)
    moved = (full[0], _moved(full[1]))
    expected = {(Side.REQUEST, "request-1"): full, (Side.REQUEST, "request-2"): full[:1]}
    actual = {
        (Side.REQUEST, "request-1"): MatchSet(Side.REQUEST, "request-1", "sam", "tomato", moved),
        (Side.REQUEST, "request-3"): MatchSet(Side.REQUEST, "request-3", "sam", "tomato", full),
    }

    drifts = match_drift(expected, actual)

    assert [(d.pk, d.attribute) for d in drifts] == [
        ("MATCH#REQUEST#request-1", f"entries[{full[1].match_id}]"),
        ("MATCH#REQUEST#request-2", "matches"),
        ("MATCH#REQUEST#request-3", "matches"),
    ]
    saved: list[MatchSet] = []

    class Sets:
        def match_sets(self, side: Side, entity_ids: Iterable[str]) -> dict[str, MatchSet]:
            return {}

        def save(
            self, match_set: MatchSet, correlation_id: str, now: datetime | None = None
        ) -> int:
            saved.append(match_set)
            return match_set.version + 1

    owners = {(Side.REQUEST, "request-2"): ("sam", "tomato")}
    written = rebuild_match_sets(Sets(), expected, actual, owners, "rebuild")
    assert [key for _, key in written] == ["request-1", "request-2", "request-3"]
    assert [len(s.entries) for s in saved] == [2, 1, 0]


def _moved(entry: MatchEntry) -> MatchEntry:
    return MatchEntry(
        entry.match_id, entry.request_id, entry.listing_id, entry.crop, entry.cell,
        entry.distance_m + 500, entry.listed_at, entry.holder,
    )  # fmt: skip
