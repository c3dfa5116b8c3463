"""Builds the services once per Lambda container (cold start) from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from harvest.domain.crops import load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.signals import SignalPolicy
from harvest.services.claims import ClaimService
from harvest.services.feed import FeedService
from harvest.services.guidance import GuidanceService
from harvest.services.listings import ListingService
from harvest.services.my_matches import MyMatchesService
from harvest.services.profiles import ProfileService
from harvest.services.requests import RequestService
from harvest.services.signals import SignalService
from harvest.services.support import ServiceContext
from harvest.settings import Settings, get_settings
from harvest.store.advice import AdviceRepository
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.matches import MatchRepository
from harvest.store.repository import Repository
from harvest.store.table import Table


@dataclass(frozen=True, slots=True)
class Services:
    profiles: ProfileService
    listings: ListingService
    requests: RequestService
    claims: ClaimService
    feed: FeedService
    signals: SignalService
    guidance: GuidanceService
    matches: MyMatchesService


def cursor_key(settings: Settings) -> bytes:
    if settings.cursor_key_parameter:
        # Imported here: only deployed functions pay for the SSM client.
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

        value = parameters.get_parameter(settings.cursor_key_parameter, decrypt=True, max_age=300)
        return str(value).encode()
    return settings.cursor_key.encode()


def build_services(settings: Settings) -> Services:
    table = Table(make_client(settings.aws_region), settings.table_name)
    repository = Repository(table)
    context = ServiceContext(
        cursors=CursorCodec(cursor_key(settings)),
        idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )
    catalog = load_catalog()
    signals = SignalService(
        DerivedRepository(table),
        catalog,
        context.clock,
        SignalPolicy(k=settings.signal_k),
        insights=InsightRepository(table),
    )
    match_sets = MatchRepository(table)
    return Services(
        profiles=ProfileService(repository, context),
        listings=ListingService(repository, catalog, context),
        requests=RequestService(repository, catalog, context),
        claims=ClaimService(repository, context, match_sets),
        feed=FeedService(repository, context),
        signals=signals,
        guidance=GuidanceService(
            repository,
            AdviceRepository(table),
            signals,
            catalog,
            context,
            daily_budget=settings.guidance_daily_budget,
            model_id=settings.bedrock_model_id,
        ),
        matches=MyMatchesService(match_sets, repository, context),
    )


@cache
def services() -> Services:
    return build_services(get_settings())
