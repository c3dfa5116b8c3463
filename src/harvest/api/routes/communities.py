from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.dependencies import ApiServices, entitled
from harvest.domain.common import Actor
from harvest.domain.entitlements import Entitlement

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
SignalsActor = Annotated[Actor, Depends(entitled(Entitlement.SIGNALS))]
AiExplanationsActor = Annotated[Actor, Depends(entitled(Entitlement.AI_EXPLANATIONS))]
# Checked by the service (InvalidGeohash, a 400 problem): precision 4-6 of the geohash alphabet.
Geohash = Annotated[str, Path(min_length=1, max_length=64)]


@router.get(
    "/communities/<geohash>/signals",
    summary="Supply/demand signals of an area (geohash precision 4-6) over 7, 14 and 30 days",
    responses=http.documented(200, models.CommunitySignalsOut, "Signals as of now"),
)
def community_signals(
    actor: SignalsActor,
    api: ApiServices,
    geohash: Geohash,
) -> Response[str]:
    return http.json_response(views.signals(api.signals.published(geohash)))


@router.get(
    "/communities/<geohash>/explanation",
    summary="AI explanation of an area's signals over one window (supporter and up)",
    responses=http.documented(200, models.ExplanationOut, "Explanation (model or fallback)"),
)
def community_explanation(
    actor: AiExplanationsActor,
    api: ApiServices,
    geohash: Geohash,
    days: Annotated[int, Query(description="7, 14 or 30")] = 7,
) -> Response[str]:
    return http.json_response(views.explanation(api.guidance.explain(geohash, days)))
