"""The API's composition root: `bootstrap` builds every service from the API's settings;
`services` holds that one graph per Lambda container, built on the first routed request."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, cast

from aws_lambda_powertools.event_handler import Depends, Request

from harvest.api import http
from harvest.api.auth import actor_of
from harvest.domain.common import Actor, utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.cursor import CursorCodec
from harvest.domain.entitlements import Entitlement, Tier, require
from harvest.once import Once
from harvest.services.claims import ClaimService
from harvest.services.feed import FeedService
from harvest.services.guidance import GuidanceService
from harvest.services.listings import ListingService
from harvest.services.my_matches import MyMatchesService
from harvest.services.profiles import ProfileService
from harvest.services.requests import RequestService
from harvest.services.signals import SignalService
from harvest.services.support import Clock, ServiceContext
from harvest.settings import ApiSettings, signal_policy
from harvest.store.advice import AdviceRepository
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.matches import MatchRepository
from harvest.store.repository import Repository
from harvest.store.table import Table

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
    from mypy_boto3_dynamodb import DynamoDBClient


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


def cursor_key(settings: ApiSettings) -> bytes:
    if settings.cursor_key_parameter:
        # Imported here: only deployed functions pay for the SSM client.
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

        value = parameters.get_parameter(settings.cursor_key_parameter, decrypt=True, max_age=300)
        return str(value).encode()
    return settings.cursor_key.encode()


def bootstrap(
    settings: ApiSettings,
    client: DynamoDBClient | None = None,
    catalog: CropCatalog | None = None,
    clock: Clock = utc_now,
) -> Services:
    """Every service of the API, from its settings; tests give their own client or catalog."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    repository = Repository(table)
    context = ServiceContext(
        cursors=CursorCodec(cursor_key(settings)),
        idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
        clock=clock,
    )
    catalog = catalog or load_catalog()
    signals = SignalService(
        DerivedRepository(table, clock),
        catalog,
        context.clock,
        signal_policy(settings),
        insights=InsightRepository(table, clock),
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


services = Once(lambda: bootstrap(ApiSettings.from_environ(os.environ)))


# ---------------------------------------------------------------- what a route declares
# Routes name what they need as annotated parameters (Powertools' Depends, resolved once per
# request); tests swap any of these through `resolver.dependency_overrides`.


def api_services() -> Services:
    return services()


def current_actor(request: Request) -> Actor:
    """The caller (401 without a valid subject)."""
    return actor_of(cast("APIGatewayProxyEvent", request.resolved_event))


def required_version(request: Request) -> int | None:
    """If-Match, required (428 when absent; `*` is None: whatever is current)."""
    return http.if_match(cast("APIGatewayProxyEvent", request.resolved_event), required=True)


def optional_version(request: Request) -> int | None:
    return http.if_match(cast("APIGatewayProxyEvent", request.resolved_event), required=False)


def idempotency_key(request: Request) -> str | None:
    return http.idempotency_key(cast("APIGatewayProxyEvent", request.resolved_event))


ApiServices = Annotated[Services, Depends(api_services)]
CurrentActor = Annotated[Actor, Depends(current_actor)]
RequiredVersion = Annotated[int | None, Depends(required_version)]
OptionalVersion = Annotated[int | None, Depends(optional_version)]
IdempotencyKey = Annotated[str | None, Depends(idempotency_key)]


def entitled(entitlement: Entitlement) -> Callable[[Actor], Actor]:
    """A dependency: the caller, when their tier includes `entitlement` (403 otherwise)."""

    def entitled_actor(actor: CurrentActor) -> Actor:
        require(Tier(actor.tier), entitlement)
        return actor

    return entitled_actor
