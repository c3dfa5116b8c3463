from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.dependencies import ApiServices, CurrentActor
from harvest.services.feed import (
    RADIUS_FLOOR_KM,
    RADIUS_MAX_KM,
    RADIUS_STEP_KM,
    FeedKind,
    FeedQuery,
)

router = APIGatewayRouter()  # type: ignore[no-untyped-call]

# The plural spellings came first; they stay as deprecated aliases of the item's `kind`.
_KINDS = {"listing": FeedKind.LISTING, "request": FeedKind.REQUEST}
_DEPRECATED_KINDS = {"listings": FeedKind.LISTING, "requests": FeedKind.REQUEST}

RADIUS_DESCRIPTION = (
    f"Search radius in km (default 5, at most {RADIUS_MAX_KM:g}). The feed searches at least "
    f"{RADIUS_FLOOR_KM:g} km and rounds the radius up to the next {RADIUS_STEP_KM:g} km. An item "
    "is in range when the point it shows (the centre of its published geohash-5 cell) is; "
    "its order and `distanceKm` are measured to that point too, never to its exact place."
)
KIND_DESCRIPTION = (
    "Only items of this `kind`: `listing` or `request` (the value items carry). "
    "`listings` and `requests` are deprecated aliases, still accepted."
)


@router.get(
    "/feed",
    summary="Live listings and open requests near a point, nearest first",
    description="Nearest first by the distance to each item's published cell centre, then "
    "kind, then id; `distanceKm` is that distance rounded up to the next 0.5 km. A page may "
    "hold fewer than `limit` items (a rare crop in a dense area) and still have a "
    "`nextCursor`: follow it until it is null.",
    responses=http.documented(200, models.FeedCollection, "A page of nearby items"),
)
def feed(
    actor: CurrentActor,
    api: ApiServices,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    radiusKm: Annotated[  # noqa: N803
        float,
        Query(gt=0, le=RADIUS_MAX_KM, allow_inf_nan=False, description=RADIUS_DESCRIPTION),
    ] = 5.0,
    crop: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[
        Literal["listing", "request", "listings", "requests"] | None,
        Query(description=KIND_DESCRIPTION),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    wanted = None if kind is None else {**_KINDS, **_DEPRECATED_KINDS}[kind]
    query = FeedQuery(lat=lat, lon=lon, radius_km=radiusKm, crop=crop, kind=wanted)
    page = api.feed.nearby(query, limit, cursor)
    return http.json_response(
        models.FeedCollection(
            items=[views.feed_item(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
