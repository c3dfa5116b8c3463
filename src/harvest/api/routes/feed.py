from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.auth import actor_of
from harvest.api.dependencies import services
from harvest.services.feed import FeedKind, FeedQuery

router = APIGatewayRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/feed",
    summary="Live listings and open requests near a point, nearest first",
    responses=http.documented(200, models.FeedCollection, "A page of nearby items"),
)
def feed(
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    radiusKm: Annotated[float, Query(gt=0, le=50, allow_inf_nan=False)] = 5.0,  # noqa: N803
    crop: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[FeedKind | None, Query()] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    actor = actor_of(router.current_event)
    query = FeedQuery(lat=lat, lon=lon, radius_km=radiusKm, crop=crop, kind=kind)
    page = services().feed.nearby(query, limit, cursor)
    return http.json_response(
        models.FeedCollection(
            items=[views.feed_item(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
