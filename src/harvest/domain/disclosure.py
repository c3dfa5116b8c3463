"""Disclosure control: what may be published, and how distinct contributors are counted.

Every rule that decides whether a figure may leave the system lives here (docs/privacy.md
states the threat model; tests/security/test_differencing_attacks.py plays the attacker).

**Against differencing.** An attacker reads every published figure and forms linear
combinations of them. Three rules keep every combination attributable to at least k
contributors, or to none:
1. *One published precision* (``PUBLISHED_PRECISION``, geohash 5, the cell a non-owner sees
   a listing in). Its cells are disjoint, so no published cell is a difference of others.
   A coarser area publishes the sums of its published cells' published figures (already
   public: nothing new to subtract); a finer area publishes nothing (it would locate a
   grower inside the public cell, and a parent minus it would give the rest away).
2. *Window segments* (``released_windows``): in one cell, the 7 ⊂ 14 ⊂ 30-day windows of a
   crop are published only where each segment between two published windows (e.g. days
   8-14) holds at least k contributors or nothing at all; otherwise fewer windows are shown,
   always a prefix of the chain 30, 14, 7, so that versions the attacker's own items choose
   between never add up to more windows than one of them shows.
   "k contributors" holds per kind (``region_safe``): supply sums listing owners' items,
   demand requesters', so each needs k of its own (or none at all).
3. *Nothing hidden leaks through a total*: the all-crops counts are sums of the published
   crops only, and a hidden crop is not named at all (it looks exactly like an absent one).

These rules count accounts: an attacker's own (sybil) accounts can fill k - 1 places of a
region. What stops it then learning the one real grower's figure is the noise every
released region gets (domain.noise); the release decisions here stay on the true counts.

**Counting distinct contributors with items of constant size.** k-anonymity needs the
distinct users (listing owners and requesters) with a live item of a crop in a window of
days, and a window is a suffix of days ending today. A user is in the window exactly when
the *latest* day on which they have a live item of that crop in that cell is in it. So each
day bucket keeps one counter, `contributors`: the users whose latest live day (for the
bucket's cell and crop) is that day. A window's distinct contributors are the sum of the
counters of its days: exact, with no user id in any bucket, for any window ending today
(for a window ending earlier it can only under-count: the private side). The difference of
two windows' counts is the users whose latest day falls in the segment between them: each
has an item in that segment, so it is a lower bound of the segment's contributors.

Where a user's latest day is comes from their **presence** (one item per user, geohash-4
cell and crop): how many live items they have per (precision-6 cell, day). A change of one
source item moves the user's latest day in its published cell at most once: -1 on the old
latest day's bucket, +1 on the new one (`presence_moves`). Only cells of the published
precision have buckets (rule 1), so only they have counters to move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol

__all__ = [
    "PUBLISHED_PRECISION",
    "ContributorMove",
    "LiveItem",
    "Presence",
    "WindowCounts",
    "latest_days",
    "meets_k",
    "presence_moves",
    "published_cells",
    "region_safe",
    "released_windows",
]

# The one precision whose cells publish figures (see the module docstring, rule 1).
PUBLISHED_PRECISION: Final = 5

_SEPARATOR: Final = "#"


def meets_k(contributors: int, k: int) -> bool:
    """True when `contributors` distinct users are enough to publish a figure (k-anonymity)."""
    return contributors >= k


class WindowCounts(Protocol):
    """What the window-segment rule needs of one crop's totals in one window."""

    @property
    def contributors(self) -> int: ...
    @property
    def listings(self) -> int: ...
    @property
    def requests(self) -> int: ...


def region_safe(users: int, listings: int, requests: int, k: int) -> bool:
    """May the figures of one region (a window, or the days between two windows) be shown?

    Empty: yes (they are attributable to no one). Otherwise `users` (a lower bound of its
    distinct contributors) must reach k, and so must each kind's own contributors, since
    supply and listings sum the listing owners' items only, demand and requests the
    requesters'. Buckets count distinct users of both kinds together, so each kind's is
    bounded from below: the others are at most one per item of the other kind.
    """
    if listings == 0 and requests == 0:
        return True
    return (
        meets_k(users, k)
        and (listings == 0 or meets_k(users - requests, k))
        and (requests == 0 or meets_k(users - listings, k))
    )


def released_windows(
    per_window: Mapping[int, WindowCounts], eligible: Iterable[int], k: int
) -> frozenset[int]:
    """The windows of one crop in one published cell whose figures may be shown (rule 2).

    `eligible`: the windows that pass the per-window gates (k contributors, enough
    observations). Longest first, a window is kept while it is eligible and `region_safe`
    and so is the segment between it and the window kept before it; the first window that
    fails ends the release, the shorter ones are not shown either.

    Why a prefix (30; 30 and 14; all three; or none), never a set with a gap (30 and 7, or
    14 and 7): an attacker can add and cancel its own items, and so choose between the
    versions of a cell that the same real growers give. Every version shows a prefix of the
    same chain, so all versions together show no more windows than the longest of them,
    whose segments were each checked in that version: k contributors of each kind (the
    attacker at most one of them, its latest day counts once) or no item at all. Skipping a
    failed window instead would let two versions differ in their gaps (14 and 30 before,
    only 7 after its own lone request made 14 and 30 unsafe) and their union hold a segment
    of one real grower (issue 11). The longest windows go first because they change least
    when one contributor comes or goes.
    """

    def safe(longer: int, shorter: int | None) -> bool:
        low = per_window[shorter] if shorter is not None else None
        return region_safe(
            per_window[longer].contributors - (low.contributors if low else 0),
            per_window[longer].listings - (low.listings if low else 0),
            per_window[longer].requests - (low.requests if low else 0),
            k,
        )

    passing = set(eligible)
    chosen: list[int] = []
    for window in sorted(per_window.keys() | passing, reverse=True):
        if window not in passing or not safe(window, None):
            break
        if chosen and not safe(chosen[-1], window):
            break
        chosen.append(window)
    return frozenset(chosen)


def published_cells(area: str, cells: Iterable[str]) -> list[str]:
    """Of `cells`, the published cells whose figures make up `area`'s (rule 1): the area
    itself at the published precision, the published cells inside a coarser area, none
    inside a finer one."""
    if len(area) > PUBLISHED_PRECISION:
        return []
    return sorted(
        {cell for cell in cells if len(cell) == PUBLISHED_PRECISION and cell.startswith(area)}
    )


@dataclass(frozen=True, slots=True)
class Presence:
    """One user's live items of one crop in one geohash-4 cell, per (geohash-6 cell, day).

    Bounded by that user's own live items (one entry per place and day they listed on), never
    by the other users or the items of the area."""

    owner: str
    area: str  # the geohash-4 cell
    crop: str
    live: Mapping[tuple[str, date], int]

    def latest_day(self, cell: str) -> date | None:
        """The latest day with a live item inside `cell` (a prefix of the geohash-6 cells)."""
        return max(
            (
                day
                for (place, day), count in self.live.items()
                if count > 0 and place.startswith(cell)
            ),
            default=None,
        )

    def to_json(self) -> dict[str, int]:
        return {
            f"{place}{_SEPARATOR}{day.isoformat()}": count
            for (place, day), count in sorted(self.live.items())
            if count > 0
        }

    @classmethod
    def from_json(cls, owner: str, area: str, crop: str, data: Mapping[str, Any]) -> Presence:
        live: dict[tuple[str, date], int] = {}
        for name, count in data.items():
            place, _, day = str(name).partition(_SEPARATOR)
            if int(count) > 0:
                live[(place, date.fromisoformat(day))] = int(count)
        return cls(owner, area, crop, live)


@dataclass(frozen=True, slots=True)
class ContributorMove:
    """ADD `change` (±1) to the `contributors` counter of bucket (cell, crop, day)."""

    cell: str
    crop: str
    day: date
    change: int


class LiveItem(Protocol):
    """What presence needs of a contribution (domain.contribution.Contribution fits)."""

    @property
    def owner(self) -> str: ...
    @property
    def crop(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def cells(self) -> tuple[str, str, str]: ...
    @property
    def live(self) -> bool: ...


def presence_moves(
    before: Presence, old: LiveItem | None, new: LiveItem | None
) -> tuple[Presence, list[ContributorMove]]:
    """The presence after one source item went from `old` to `new` (either None: absent),
    and the moves of the `contributors` counters that follow. Both must be of the
    presence's owner, crop and geohash-4 cell (crop and place are immutable: DESIGN §4)."""
    live = dict(before.live)
    cells: set[str] = set()
    for item, change in ((old, -1), (new, 1)):
        if item is None:
            continue
        if (item.owner, item.crop, item.cells[0]) != (before.owner, before.crop, before.area):
            raise ValueError(
                f"a contribution of {item.owner}/{item.crop}/{item.cells[0]} does not belong "
                f"to the presence of {before.owner}/{before.crop}/{before.area}"
            )
        cells.update(cell for cell in item.cells if len(cell) == PUBLISHED_PRECISION)
        if item.live:
            place = (item.cells[2], item.day)
            # Never below zero: a presence behind its markers (a rebuild racing the pipeline,
            # which `harvest audit` reports) must not stop the stream; counters follow it.
            live[place] = max(0, live.get(place, 0) + change)
    after = Presence(before.owner, before.area, before.crop, {p: n for p, n in live.items() if n})
    moves: list[ContributorMove] = []
    for cell in sorted(cells):
        was, now = before.latest_day(cell), after.latest_day(cell)
        if was == now:
            continue
        if was is not None:
            moves.append(ContributorMove(cell, before.crop, was, -1))
        if now is not None:
            moves.append(ContributorMove(cell, before.crop, now, 1))
    return after, moves


def latest_days(items: Iterable[LiveItem]) -> dict[tuple[str, str, str], date]:
    """From live items alone (a rebuild): each (user, published cell, crop)'s latest live
    day (only published cells have buckets, rule 1)."""
    latest: dict[tuple[str, str, str], date] = {}
    for item in items:
        if not item.live:
            continue
        for cell in item.cells:
            if len(cell) != PUBLISHED_PRECISION:
                continue
            key = (item.owner, cell, item.crop)
            if key not in latest or latest[key] < item.day:
                latest[key] = item.day
    return latest
