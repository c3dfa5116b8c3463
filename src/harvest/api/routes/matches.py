from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, match_models, views
from harvest.api.dependencies import ApiServices, CurrentActor
from harvest.domain.matching import Side
from harvest.services.my_matches import MAX_MATCH_PAGE

router = APIGatewayRouter()  # type: ignore[no-untyped-call]

SIDE_HELP = (
    "`request` (default): listings nearby suggested for your open requests; `listing`: "
    "requests nearby suggested for your live listings."
)


@router.get(
    "/me/matches",
    summary="Match suggestions for my requests or my listings (nearest first per item)",
    responses=http.documented(200, match_models.MatchCollection, "A page of matches"),
)
def my_matches(
    actor: CurrentActor,
    api: ApiServices,
    side: Annotated[Literal["request", "listing"], Query(description=SIDE_HELP)] = "request",
    limit: Annotated[int | None, Query(ge=1, le=MAX_MATCH_PAGE)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    page = api.matches.list_own(actor, Side(side), limit, cursor)
    return http.json_response(
        match_models.MatchCollection(
            items=[views.match(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
