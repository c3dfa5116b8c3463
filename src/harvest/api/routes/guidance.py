from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.dependencies import ApiServices, IdempotencyKey, entitled
from harvest.domain.common import ID_PATTERN, Actor
from harvest.domain.entitlements import Entitlement
from harvest.services.guidance import MAX_GUIDANCE_PAGE, GuidanceDraft, GuidanceStatus

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
AiGuidanceActor = Annotated[Actor, Depends(entitled(Entitlement.AI_GUIDANCE))]
GuidanceId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post(
    "/me/guidance",
    summary="Ask for grower guidance (pro; per-user daily budget, 429 when used up)",
    responses=http.documented(202, models.GuidanceOut, "Accepted: poll the Location"),
)
def ask_guidance(
    actor: AiGuidanceActor,
    key: IdempotencyKey,
    api: ApiServices,
    body: Annotated[models.GuidanceCreate, Body()],
) -> Response[str]:
    draft = GuidanceDraft(area=body.cell, crop=body.crop, guidance_id=body.guidance_id)
    result = api.guidance.ask(actor, draft, key)
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
    actor: AiGuidanceActor,
    api: ApiServices,
    limit: Annotated[int | None, Query(ge=1, le=MAX_GUIDANCE_PAGE)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    page = api.guidance.list_own(actor, limit, cursor)
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
def get_guidance(
    actor: AiGuidanceActor,
    api: ApiServices,
    guidanceId: GuidanceId,  # noqa: N803 - path name is the contract
) -> Response[str]:
    status = api.guidance.status(actor, guidanceId)
    pending = status.answer is None
    headers = {"Retry-After": "2"} if pending else {}
    return http.json_response(
        views.guidance(status), status=202 if pending else 200, headers=headers
    )
