"""A realistic, deterministic sample community for `harvest seed --demo`.

Written through the real services (same validation, keys, versions and idempotency as the
API), with a clock set back in time so that the data spans the last 30 days: some listings
are still live, some expired unclaimed, some were claimed and collected. Most areas end up
with more food on offer than asked for, but two neighbourhoods ask for crops that nobody
there grows, so the signals show shortages as well as surpluses.

Re-running is safe, also after a run that failed half-way: ids are derived from the seed,
the timeline is anchored on the current UTC day (the same run on the same day sends the same
requests, which the services answer as replays), and an item that already exists from an
earlier run is kept as it is and counted, never duplicated.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

from harvest.domain.claim import Claim, ClaimStatus
from harvest.domain.common import Actor
from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import Conflict, DomainError
from harvest.services.claims import ClaimDraft, ClaimService
from harvest.services.listings import ListingDraft, ListingService
from harvest.services.requests import RequestDraft, RequestService
from harvest.services.support import ServiceContext
from harvest.store.repository import Created, Repository

# Neighbourhoods of one city (Portland, Oregon) and a village outside it: several geohash-5
# areas, so signals differ from place to place. The two shortage areas sit at the centre of
# their geohash-5 cell, so that their requests (1 km around it) all count in that cell.
AREAS: dict[str, tuple[float, float]] = {
    "sellwood": (45.4651, -122.6530),
    "st-johns": (45.5933, -122.7612),
    "alberta": (45.5590, -122.6450),
    "hawthorne": (45.5120, -122.6250),
    "beaverton": (45.4871, -122.8037),
    "scappoose": (45.7690, -122.8931),
}
CROPS = [
    ("tomato", "kg", 3, 15),
    ("zucchini", "kg", 2, 12),
    ("apple", "kg", 5, 40),
    ("kale", "kg", 1, 4),
    ("basil", "bunch", 2, 10),
    ("potato", "kg", 5, 30),
    ("egg", "dozen", 1, 6),
    ("blueberry", "kg", 1, 5),
    ("carrot", "kg", 2, 10),
    ("pumpkin", "kg", 5, 25),
    ("honey", "kg", 1, 3),
    ("pear", "kg", 3, 20),
]
# Crops that the searchers of an area keep asking for and its growers never list.
SHORTAGES: dict[str, tuple[str, ...]] = {
    "st-johns": ("egg", "potato"),
    "scappoose": ("apple", "kale"),
}
CROP_BY_SLUG = {crop[0]: crop for crop in CROPS}


@dataclass
class SeedReport:
    growers: int = 0
    searchers: int = 0
    listings: int = 0
    requests: int = 0
    claims: int = 0
    kept: int = 0  # items an earlier run had already written
    refused: list[str] = field(default_factory=list)


class MovableClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _jitter(rng: random.Random, centre: tuple[float, float], km: float) -> tuple[float, float]:
    return (
        round(centre[0] + rng.uniform(-km, km) / 111.0, 6),
        round(centre[1] + rng.uniform(-km, km) / 78.0, 6),
    )


def seed_demo(
    repository: Repository,
    *,
    growers: int = 36,
    searchers: int = 24,
    days: int = 30,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    # The start of the UTC day, so that a re-run later today sends the very same requests.
    end = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock = MovableClock(end - timedelta(days=days))
    context = ServiceContext(cursors=CursorCodec(b"demo-seed-cursor-key-0000"), clock=clock)
    catalog = load_catalog()
    listings = ListingService(repository, catalog, context)
    requests = RequestService(repository, catalog, context)
    claims = ClaimService(repository, context)
    report = SeedReport(growers=growers, searchers=searchers)
    names = sorted(AREAS)
    grower_home = {f"demo-grower-{i:02d}": names[i % len(names)] for i in range(growers)}
    searcher_home = {f"demo-searcher-{i:02d}": names[i % len(names)] for i in range(searchers)}
    live: list[tuple[str, str, Decimal]] = []
    for day in range(days):
        clock.moment = end - timedelta(days=days - day, hours=rng.randint(0, 10))
        for grower, area in rng.sample(sorted(grower_home.items()), k=max(1, growers // 6)):
            grown = [crop for crop in CROPS if crop[0] not in SHORTAGES.get(area, ())]
            crop, unit, low, high = rng.choice(grown)
            lat, lon = _jitter(rng, AREAS[area], 2.0)
            amount = Decimal(rng.randint(low, high))
            draft = ListingDraft(
                crop=crop,
                quantity=amount,
                unit=unit,
                available_from=clock.moment,
                available_until=clock.moment + timedelta(days=rng.randint(2, 9)),
                lat=lat,
                lon=lon,
                notes=f"from {grower.replace('demo-', '')}'s garden",
                listing_id=f"demo-l-{day:02d}-{grower[-2:]}",
            )
            actor = Actor(grower, "free", f"seed-{day}")
            listing = _create_or_keep(
                report,
                partial(listings.create, actor, draft),
                partial(repository.listing_by_id, str(draft.listing_id)),
            )
            report.listings += 1
            live.append((listing.listing_id, grower, amount))
        asks = [
            (searcher, area, rng.choice(CROPS), False)
            for searcher, area in rng.sample(
                sorted(searcher_home.items()), k=max(1, searchers // 8)
            )
        ]
        asks += _shortage_asks(searcher_home, day)
        for searcher, area, (crop, unit, low, high), short in asks:
            lat, lon = _jitter(rng, AREAS[area], 1.0 if short else 2.0)
            wanted = Decimal(rng.randint(low, high) if short else max(1, low))
            request_draft = RequestDraft(
                crop=crop,
                quantity=wanted,
                unit=unit,
                needed_by=clock.moment + timedelta(days=rng.randint(3, 12)),
                lat=lat,
                lon=lon,
                request_id=f"demo-r-{day:02d}-{searcher[-2:]}{'-s' if short else ''}",
            )
            asker = Actor(searcher, "free", f"seed-{day}")
            _create_or_keep(
                report,
                partial(requests.create, asker, request_draft),
                partial(repository.request_by_id, str(request_draft.request_id)),
            )
            report.requests += 1
        _claim_some(rng, claims, repository, live, sorted(searcher_home), report, day)
        if progress is not None:
            progress(f"day {day + 1}/{days}: {report.listings} listings, {report.claims} claims")
    return report


def _shortage_asks(
    searcher_home: dict[str, str], day: int
) -> list[tuple[str, str, tuple[str, str, int, int], bool]]:
    """One request a day in each shortage area, rotating over its searchers and its crops so
    that every window holds several distinct searchers per crop (enough to be published)."""
    asks: list[tuple[str, str, tuple[str, str, int, int], bool]] = []
    for area, crops in SHORTAGES.items():
        locals_ = sorted(s for s, home in searcher_home.items() if home == area)
        if not locals_:
            continue
        crop = CROP_BY_SLUG[crops[(day // len(locals_)) % len(crops)]]
        asks.append((locals_[day % len(locals_)], area, crop, True))
    return asks


def _create_or_keep[T](
    report: SeedReport, create: Callable[[], Created[T]], load: Callable[[], T | None]
) -> T:
    """Create, or keep what an earlier run wrote under the same id (from another day, so the
    services see a different request under the same id and refuse it as a conflict)."""
    try:
        return create().entity
    except Conflict:
        existing = load()
        if existing is None:
            raise
        report.kept += 1
        return existing


def _claim_some(
    rng: random.Random,
    claims: ClaimService,
    repository: Repository,
    live: list[tuple[str, str, Decimal]],
    searchers: list[str],
    report: SeedReport,
    day: int,
) -> None:
    for listing_id, owner, amount in rng.sample(live[-12:], k=min(3, len(live[-12:]))):
        searcher = rng.choice(searchers)
        wanted = max(Decimal(1), (amount / 3).quantize(Decimal(1)))
        collect = rng.random() < 0.7  # drawn every time: a re-run follows the same path
        claim_id = f"demo-c-{day:02d}-{listing_id[-5:]}-{searcher[-2:]}"
        try:
            claim: Claim = _create_or_keep(
                report,
                partial(
                    claims.create,
                    Actor(searcher, "free", f"seed-{day}"),
                    listing_id,
                    ClaimDraft(quantity=wanted, claim_id=claim_id),
                ),
                partial(repository.claim_by_id, claim_id),
            )
            owner_actor = Actor(owner, "free", f"seed-{day}")
            if claim.status is ClaimStatus.PENDING:
                claim = claims.transition(
                    owner_actor, claim.claim_id, ClaimStatus.CONFIRMED, claim.version
                )
            if collect and claim.status is ClaimStatus.CONFIRMED:
                claims.transition(owner_actor, claim.claim_id, ClaimStatus.COMPLETED, claim.version)
            report.claims += 1
        except DomainError as error:  # sold out or expired: a real community has those too
            report.refused.append(f"{listing_id}: {error.detail}")
