"""The core services wired to one FakeRepository, a FakeClock and the real crop catalog,
with the drafts and actors the service tests share (tests/unit/test_*_service.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from harvest.domain.common import Actor
from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.listing import Listing
from harvest.services.claims import ClaimService
from harvest.services.feed import FeedService
from harvest.services.listings import ListingDraft, ListingService
from harvest.services.profiles import ProfileService
from harvest.services.requests import RequestDraft, RequestService
from harvest.services.support import ServiceContext
from support.clock import NOW, FakeClock
from support.fake_repository import FakeRepository

BERLIN = (52.52, 13.405)
CURSOR_KEY = b"test-cursor-signing-key-32-bytes"
CATALOG = load_catalog()

GROWER = Actor("grower-1", "free", "corr-grower")
SEARCHER = Actor("searcher-1", "supporter", "corr-searcher")
OTHER = Actor("other-1", "pro", "corr-other")


@dataclass
class World:
    repo: FakeRepository
    clock: FakeClock
    context: ServiceContext
    listings: ListingService
    requests: RequestService
    claims: ClaimService
    profiles: ProfileService
    feed: FeedService


def make_world() -> World:
    repo, clock = FakeRepository(), FakeClock()
    context = ServiceContext(cursors=CursorCodec(CURSOR_KEY), clock=clock)
    return World(
        repo,
        clock,
        context,
        ListingService(repo, CATALOG, context),
        RequestService(repo, CATALOG, context),
        ClaimService(repo, context),
        ProfileService(repo, context),
        FeedService(repo, context),
    )


def listing_draft(**overrides: object) -> ListingDraft:
    draft = ListingDraft(
        crop="tomato",
        quantity=Decimal("10"),
        unit="kg",
        available_from=NOW,
        available_until=NOW + timedelta(days=3),
        lat=BERLIN[0],
        lon=BERLIN[1],
        notes="ripe",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


def request_draft(**overrides: object) -> RequestDraft:
    draft = RequestDraft(
        crop="apple",
        quantity=Decimal("4"),
        unit="kg",
        needed_by=NOW + timedelta(days=2),
        lat=BERLIN[0],
        lon=BERLIN[1],
        notes="for the food bank",
    )
    return replace(draft, **overrides)  # type: ignore[arg-type]


def offer(world: World, actor: Actor = GROWER, **overrides: object) -> Listing:
    return world.listings.create(actor, listing_draft(**overrides)).entity
