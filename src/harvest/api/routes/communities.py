from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.auth import actor_of
from harvest.api.dependencies import services
from harvest.domain.entitlements import Entitlement, Tier, require

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
# Checked by the service (InvalidGeohash, a 400 problem): precision 4-6 of the geohash alphabet.
Geohash = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(
    "/communities/<geohash>/signals",
    summary="Supply/demand signals of an area (geohash precision 4-6) over 7, 14 and 30 days",
    responses=http.documented(200, models.CommunitySignalsOut, "Signals as of now"),
)
def community_signals(geohash: Geohash) -> Response[str]:
    actor = actor_of(router.current_event)
    require(Tier(actor.tier), Entitlement.SIGNALS)
    return http.json_response(views.signals(services().signals.published(geohash)))


@router.get(
    "/communities/<geohash>/explanation",
    summary="AI explanation of an area's signals over one window (supporter and up)",
    responses=http.documented(200, models.ExplanationOut, "Explanation (model or fallback)"),
)
def community_explanation(
    geohash: Geohash, days: Annotated[int, Query(description="7, 14 or 30")] = 7
) -> Response[str]:
    actor = actor_of(router.current_event)
    require(Tier(actor.tier), Entitlement.AI_EXPLANATIONS)
    return http.json_response(views.explanation(services().guidance.explain(geohash, days)))
