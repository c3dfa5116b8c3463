from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.auth import actor_of
from harvest.api.dependencies import services
from harvest.domain.common import ID_PATTERN
from harvest.domain.entitlements import Entitlement, Tier, require
from harvest.services.guidance import MAX_GUIDANCE_PAGE, GuidanceDraft, GuidanceStatus

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
GuidanceId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post(
    "/me/guidance",
    summary="Ask for grower guidance (pro; per-user daily budget, 429 when used up)",
    responses=http.documented(202, models.GuidanceOut, "Accepted: poll the Location"),
)
def ask_guidance(body: Annotated[models.GuidanceCreate, Body()]) -> Response[str]:
    actor = actor_of(router.current_event)
    require(Tier(actor.tier), Entitlement.AI_GUIDANCE)
    draft = GuidanceDraft(area=body.cell, crop=body.crop, guidance_id=body.guidance_id)
    key = http.idempotency_key(router.current_event)
    result = services().guidance.ask(actor, draft, key)
    request = result.entity
    headers = {"Location": f"/me/guidance/{request.guidance_id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    body_out = views.guidance(GuidanceStatus(request, None))
    return http.json_response(body_out, status=202, headers=headers)


@router.get(
    "/me/guidance",
    summary="Own guidance requests, newest first, with their guidance once ready (pro)",
    responses=http.documented(200, models.GuidanceCollection, "A page of guidance requests"),
)
def my_guidance(
    limit: Annotated[int | None, Query(ge=1, le=MAX_GUIDANCE_PAGE)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    actor = actor_of(router.current_event)
    require(Tier(actor.tier), Entitlement.AI_GUIDANCE)
    page = services().guidance.list_own(actor, limit, cursor)
    return http.json_response(
        models.GuidanceCollection(
            items=[views.guidance(item) for item in page.items], next_cursor=page.next_cursor
        )
    )


@router.get(
    "/me/guidance/<guidanceId>",
    summary="A guidance request: 202 while pending, 200 with the guidance when ready",
    responses={
        **http.documented(200, models.GuidanceOut, "Ready"),
        **http.documented(202, models.GuidanceOut, "Still pending; poll again"),
    },
)
def get_guidance(guidanceId: GuidanceId) -> Response[str]:  # noqa: N803 - path name is the contract
    actor = actor_of(router.current_event)
    require(Tier(actor.tier), Entitlement.AI_GUIDANCE)
    status = services().guidance.status(actor, guidanceId)
    pending = status.answer is None
    headers = {"Retry-After": "2"} if pending else {}
    return http.json_response(
        views.guidance(status), status=202 if pending else 200, headers=headers
    )
