"""Disclosure control: how distinct contributors are counted, and what may be published.

Everything that decides whether a figure may leave the system lives here (issue 11 reshapes
it: differencing across nested cells, windows and versions is not prevented yet).

**Counting distinct contributors with items of constant size.** k-anonymity needs the
distinct users (listing owners and requesters) with a live item of a crop in a window of
days, and a window is a suffix of days ending today. A user is in the window exactly when
the *latest* day on which they have a live item of that crop in that cell is in it. So each
day bucket keeps one counter, `contributors`: the users whose latest live day (for the
bucket's cell and crop) is that day. A window's distinct contributors are the sum of the
counters of its days: exact, with no user id in any bucket, for any window ending today
(for a window ending earlier it can only under-count: the private side).

Where a user's latest day is comes from their **presence** (one item per user, geohash-4
cell and crop): how many live items they have per (precision-6 cell, day). A change of one
source item moves the user's latest day in each of its three cells at most once: -1 on the
old latest day's bucket, +1 on the new one (`presence_moves`).

**All crops.** The all-crops contributors of a window are reported as a lower bound: the
largest per-crop count (a user active for several crops is counted once, never twice). That
errs only on the private side: the all-crops counts are shown less often, never under k
users.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol

__all__ = [
    "ContributorMove",
    "LiveItem",
    "Presence",
    "all_crops_contributors",
    "all_crops_shown",
    "latest_days",
    "meets_k",
    "presence_moves",
]

_SEPARATOR: Final = "#"


def meets_k(contributors: int, k: int) -> bool:
    """True when `contributors` distinct users are enough to publish a figure (k-anonymity)."""
    return contributors >= k


def all_crops_contributors(per_crop: Iterable[int]) -> int:
    """A lower bound of the distinct contributors over every crop: the largest crop's."""
    return max(per_crop, default=0)


def all_crops_shown(
    counts: tuple[int, int, int], *, any_hidden: bool, k: int
) -> tuple[tuple[int, int, int] | tuple[None, None, None], bool]:
    """The all-crops (listings, requests, contributors) that may be shown, and whether they
    were rounded.

    Under k contributors in all: none (the aggregate is k-gated too). With some crop hidden:
    each count rounded down to a multiple of k, because exact totals minus the published
    crops would give the hidden crop's counts; rounded, they only bound them to a band of k
    values within which a hidden count changes nothing published. Otherwise exact.
    """
    listings, requests, contributors = counts
    if not meets_k(contributors, k):
        return (None, None, None), False
    if not any_hidden:
        return counts, False
    return (listings - listings % k, requests - requests % k, contributors - contributors % k), True


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
        cells.update(item.cells)
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
    """From live items alone (a rebuild): each (user, cell, crop)'s latest live day."""
    latest: dict[tuple[str, str, str], date] = {}
    for item in items:
        if not item.live:
            continue
        for cell in item.cells:
            key = (item.owner, cell, item.crop)
            if key not in latest or latest[key] < item.day:
                latest[key] = item.day
    return latest
