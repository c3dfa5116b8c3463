"""A world of growers for the differencing-attack suite: items -> day buckets (as the
Aggregator keeps them) -> what SignalService publishes, and an exact linear solver.

The buckets are built the way `harvest rebuild` defines them (sums per cell, crop and day;
`contributors` on each user's latest live day, domain.disclosure.latest_days), and read
through SignalService's own port (BucketReader), so what is attacked is the code the route
runs. The solver is attack-agnostic: every published supply/demand figure is a sum over
some set of items; with each item's quantity a distinct power of two, the figure names that
set exactly (publication never depends on quantities, only on counts and contributors), and
the counts of a region sum over the same items. The attacker may take any rational linear
combination of those rows (and knows their own items); it isolates a group of contributors
C when some combination depends on C's items only: rank(M) > rank(M without C's columns).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Context, Decimal, localcontext
from fractions import Fraction
from itertools import combinations
from typing import Literal

from harvest.domain.common import iso
from harvest.domain.disclosure import latest_days
from harvest.domain.noise import Noise
from harvest.domain.signals import DayTotals, SignalPolicy
from harvest.services.signals import AreaSignalsView, SignalService
from harvest.store.derived import BucketRow

AS_OF = date(2026, 6, 30)
ALL = "all"

type Kind = Literal["listing", "request"]


@dataclass(frozen=True, slots=True)
class Item:
    """One live listing or request: its owner, geohash-6 cell, crop, age in days, quantity."""

    owner: str
    cell: str
    crop: str
    ago: int
    kind: Kind = "listing"
    quantity: Decimal = Decimal(1)

    @property
    def day(self) -> date:
        return AS_OF - timedelta(days=self.ago)

    @property
    def cells(self) -> tuple[str, str, str]:
        return (self.cell[:4], self.cell[:5], self.cell)

    @property
    def live(self) -> bool:
        return True


class BucketStore:
    """SignalService's BucketReader over buckets computed from items (no DynamoDB: the suite
    attacks the computation, and thousands of worlds must run in seconds)."""

    def __init__(self, items: Iterable[Item]) -> None:
        self.rows: dict[tuple[str, str], dict[date, BucketRow]] = defaultdict(dict)
        sums: dict[tuple[str, str, date], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
        crops: dict[tuple[str, date], set[str]] = defaultdict(set)
        stock = list(items)
        for item in stock:
            for cell in item.cells:
                for crop in (item.crop, ALL):
                    entry = sums[(cell, crop, item.day)]
                    if item.kind == "listing":
                        entry[0] += item.quantity if crop != ALL else 0
                        entry[2] += 1
                    else:
                        entry[1] += item.quantity if crop != ALL else 0
                        entry[3] += 1
                crops[(cell, item.day)].add(item.crop)
        for (_, cell, crop), day in latest_days(stock).items():
            sums[(cell, crop, day)][4] += 1
        for (cell, crop, day), (supply, demand, listings, requests, users) in sums.items():
            self.rows[(cell, crop)][day] = BucketRow(
                totals=DayTotals(day, crop, supply, demand, int(listings), int(requests),
                                 int(users) if crop != ALL else 0),
                crops=frozenset(crops[(cell, day)]) if crop == ALL else frozenset(),
                # Noon of the bucket's day: a bucket's own stamp, finer than a day.
                updated_at=iso(datetime.combine(day, time(12, 34))),
                version=1,
            )  # fmt: skip

    def area_days(
        self, cell: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        return self.bucket_rows(cell, ALL, since_day, until_day)

    def bucket_rows(
        self, cell: str, crop: str, since_day: date, until_day: date, *, consistent: bool = False
    ) -> list[BucketRow]:
        days = self.rows.get((cell, crop), {})
        return [days[day] for day in sorted(days) if since_day <= day <= until_day]


class SymbolicNoise:
    """domain.noise's Noise as unknowns for the solver: each distinct message (a region's
    identity and true state: what the HMAC of the real noise is keyed by, so the same
    message is the same draw) adds 2**(NOISE_BIT + its index) to a quantity. Decoded, a
    published sum names its items and the noise unknowns in it. Counts are left exact (the
    solver reads quantities; the real noise draws counts per region the same way)."""

    def __init__(self) -> None:
        self.draws: dict[str, int] = {}

    def quantity(self, message: str, value: Decimal) -> Decimal:
        index = self.draws.setdefault(message, len(self.draws))
        return value + Decimal(2 ** (NOISE_BIT + index))

    def count(self, message: str, value: int) -> int:
        return value


# Items are bits 0..NOISE_BIT - 1 of a decoded sum, noise unknowns the bits above.
NOISE_BIT = 64
# Exact decimal sums of thousands of bits (the default context keeps 28 digits).
EXACT = Context(prec=4000)


def publish(
    items: Iterable[Item], area: str, k: int = 3, noise: Noise | None = None
) -> AreaSignalsView:
    """What `GET /communities/{area}/signals` answers as of AS_OF in a world of `items`."""
    service = SignalService(
        BucketStore(items),
        clock=lambda: datetime.combine(AS_OF, time(18, 0), UTC),
        policy=SignalPolicy(k=k, noise=noise),
    )
    with localcontext(EXACT):
        return service.for_area(area)


def binary(items: Sequence[Item]) -> list[Item]:
    """The same items with quantity 2**index: any published sum names its items."""
    return [replace(item, quantity=Decimal(2**index)) for index, item in enumerate(items)]


def decode(total: Decimal) -> frozenset[int]:
    whole = int(total)
    if whole != total:
        raise AssertionError(f"a published sum {total} is not a sum of distinct items")
    return frozenset(bit for bit in range(whole.bit_length()) if whole >> bit & 1)


@dataclass(frozen=True, slots=True)
class Published:
    """Every linear figure an attacker read, as the set of items (indices) it sums over."""

    rows: frozenset[frozenset[int]]
    all_crops_off_span: tuple[str, ...]  # all-crops figures that are not sums of crops shown


def read_everything(
    items: Sequence[Item], areas: Iterable[str], k: int = 3, *, noise: bool = False
) -> Published:
    """All published figures of `areas`, all windows and crops (quantities in binary);
    `noise`: with the noise of every released region as unknowns (SymbolicNoise)."""
    return read_versions(items, [range(len(items))], areas, k, noise=noise)


def read_versions(
    world: Sequence[Item],
    versions: Iterable[Iterable[int]],
    areas: Iterable[str],
    k: int = 3,
    *,
    noise: bool = False,
) -> Published:
    """All published figures of `areas` in each version of the world (a version: the
    indices of the `world` items live then), as one attacker reading them one after the
    other. Each item keeps its quantity 2**index in every version, so the rows of all
    versions name items of the same `world` (the solver's columns)."""
    symbols = SymbolicNoise() if noise else None
    coded = binary(world)
    rows: set[frozenset[int]] = set()
    off_span: list[str] = []
    targets = list(areas)
    for version in versions:
        live = [coded[i] for i in sorted(set(version))]
        _read_version(live, targets, k, rows, off_span, symbols)
    return Published(frozenset(rows), tuple(off_span))


def _read_version(
    coded: Sequence[Item], areas: Iterable[str], k: int, rows: set[frozenset[int]],
    off_span: list[str], noise: SymbolicNoise | None,
) -> None:  # fmt: skip
    for area in areas:
        view = publish(coded, area, k, noise)
        for window in view.signals.windows:
            for signal in window.crops:
                for total in (signal.supply, signal.demand):
                    if total is not None and total != 0:
                        rows.add(decode(total))
            shown = [s for s in window.crops if s.listings is not None]
            for name in ("listings", "requests"):
                value = getattr(window.all_crops, name)
                if value is not None and value != sum(getattr(s, name) or 0 for s in shown):
                    off_span.append(f"{area} {window.days}d allCrops.{name}={value}")


def _rank(rows: Sequence[Sequence[int]]) -> int:
    matrix = [[Fraction(v) for v in row] for row in rows if any(row)]
    rank, columns = 0, len(matrix[0]) if matrix else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column]), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column]:
                factor = matrix[r][column] / matrix[rank][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def _without_lone_noise(rows: list[frozenset[int]], items: int) -> list[frozenset[int]]:
    """Rows no noise-cancelling combination can use: a row holding a noise unknown that no
    other row holds has coefficient 0 in every such combination, so it goes (and the rows
    it alone shared an unknown with may follow). Only for speed: the rank test gives the
    same groups with them."""
    while True:
        holders: dict[int, int] = defaultdict(int)
        for row in rows:
            for bit in row:
                if bit >= items:
                    holders[bit] += 1
        kept = [row for row in rows if all(holders[bit] > 1 for bit in row if bit >= items)]
        if len(kept) == len(rows):
            return kept
        rows = kept


def isolated_groups(
    items: Sequence[Item], rows: Iterable[frozenset[int]], *, attacker: str, smaller_than: int
) -> list[frozenset[str]]:
    """Groups of real owners (fewer than `smaller_than`) some linear combination of `rows`
    depends on alone: it cancels every noise unknown and every other item. Every owner
    whose name starts with `attacker` is one of the attacker's accounts: their items are
    known (each a row of its own) and they are not real contributors."""
    rows = _without_lone_noise(list(rows), len(items))

    def mine(item: Item) -> bool:
        return item.owner.startswith(attacker)

    known = [frozenset({i}) for i, item in enumerate(items) if mine(item)]
    # Columns: the items, then every noise unknown any row holds (never dropped below).
    columns = sorted({*range(len(items)), *(bit for row in rows for bit in row)})
    matrix = [[int(c in row) for c in columns] for row in (*rows, *known)]
    full = _rank(matrix)
    owners = sorted({item.owner for item in items if not mine(item)})
    found = []
    for size in range(1, smaller_than):
        for group in combinations(owners, size):
            drop = {i for i, item in enumerate(items) if item.owner in group}
            keep = [j for j, c in enumerate(columns) if c not in drop]
            if _rank([[row[j] for j in keep] for row in matrix]) < full:
                found.append(frozenset(group))
    return found
