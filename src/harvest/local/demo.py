"""A realistic, deterministic sample community for `harvest seed --demo`.

Written through the real services (same validation, keys, versions and idempotency as the
API), with a clock set back in time so that the data spans the last 30 days: some listings
are still live, some expired unclaimed, some were claimed and collected.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harvest.domain.claim import ClaimStatus
from harvest.domain.common import Actor
from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import DomainError
from harvest.services.claims import ClaimDraft, ClaimService
from harvest.services.listings import ListingDraft, ListingService
from harvest.services.requests import RequestDraft, RequestService
from harvest.services.support import ServiceContext
from harvest.store.repository import Repository

# Neighbourhoods of one city (Portland, Oregon) and a village outside it: several geohash-5
# areas, so signals differ from place to place.
AREAS: dict[str, tuple[float, float]] = {
    "sellwood": (45.4651, -122.6530),
    "st-johns": (45.5901, -122.7540),
    "alberta": (45.5590, -122.6450),
    "hawthorne": (45.5120, -122.6250),
    "beaverton": (45.4871, -122.8037),
    "scappoose": (45.7543, -122.8776),
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


@dataclass
class SeedReport:
    growers: int = 0
    searchers: int = 0
    listings: int = 0
    requests: int = 0
    claims: int = 0
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
    end = now or datetime.now(UTC)
    clock = MovableClock(end - timedelta(days=days))
    context = ServiceContext(cursors=CursorCodec(b"demo-seed-cursor-key-0000"), clock=clock)
    catalog = load_catalog()
    listings = ListingService(repository, catalog, context)
    requests = RequestService(repository, catalog, context)
    claims = ClaimService(repository, context)
    report = SeedReport(growers=growers, searchers=searchers)
    areas = list(AREAS.values())
    grower_home = {f"demo-grower-{i:02d}": rng.choice(areas) for i in range(growers)}
    searcher_home = {f"demo-searcher-{i:02d}": rng.choice(areas) for i in range(searchers)}
    live: list[tuple[str, str, Decimal]] = []
    for day in range(days):
        clock.moment = end - timedelta(days=days - day, hours=rng.randint(0, 10))
        for grower, home in rng.sample(sorted(grower_home.items()), k=max(1, growers // 6)):
            crop, unit, low, high = rng.choice(CROPS)
            lat, lon = _jitter(rng, home, 2.0)
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
            listing = listings.create(Actor(grower, "free", f"seed-{day}"), draft).entity
            report.listings += 1
            live.append((listing.listing_id, grower, amount))
        for searcher, home in rng.sample(sorted(searcher_home.items()), k=max(1, searchers // 8)):
            crop, unit, low, high = rng.choice(CROPS)
            lat, lon = _jitter(rng, home, 2.0)
            requests.create(
                Actor(searcher, "free", f"seed-{day}"),
                RequestDraft(
                    crop=crop,
                    quantity=Decimal(max(1, low)),
                    unit=unit,
                    needed_by=clock.moment + timedelta(days=rng.randint(3, 12)),
                    lat=lat,
                    lon=lon,
                    request_id=f"demo-r-{day:02d}-{searcher[-2:]}",
                ),
            )
            report.requests += 1
        _claim_some(rng, claims, live, sorted(searcher_home), report, clock.moment, day)
        if progress is not None:
            progress(f"day {day + 1}/{days}: {report.listings} listings, {report.claims} claims")
    return report


def _claim_some(
    rng: random.Random,
    claims: ClaimService,
    live: list[tuple[str, str, Decimal]],
    searchers: list[str],
    report: SeedReport,
    moment: datetime,
    day: int,
) -> None:
    for listing_id, owner, amount in rng.sample(live[-12:], k=min(3, len(live[-12:]))):
        searcher = rng.choice(searchers)
        wanted = max(Decimal(1), (amount / 3).quantize(Decimal(1)))
        try:
            claim = claims.create(
                Actor(searcher, "free", f"seed-{day}"),
                listing_id,
                ClaimDraft(
                    quantity=wanted, claim_id=f"demo-c-{day:02d}-{listing_id[-5:]}-{searcher[-2:]}"
                ),
            ).entity
            owner_actor = Actor(owner, "free", f"seed-{day}")
            confirmed = claims.transition(owner_actor, claim.claim_id, ClaimStatus.CONFIRMED, None)
            if rng.random() < 0.7:
                claims.transition(
                    owner_actor, claim.claim_id, ClaimStatus.COMPLETED, confirmed.version
                )
            report.claims += 1
        except DomainError as error:  # sold out or expired: a real community has those too
            report.refused.append(f"{listing_id}: {error.detail}")
    del moment
