from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.auth import actor_of
from harvest.api.dependencies import services
from harvest.domain.common import ID_PATTERN
from harvest.domain.request import RequestStatus
from harvest.services.requests import RequestChanges, RequestDraft

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
RequestId = Annotated[str, Path(pattern=ID_PATTERN)]
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query()]


@router.post(
    "/requests",
    summary="Ask for food (idempotent with requestId or Idempotency-Key)",
    responses=http.documented(201, models.RequestOut, "Created (or replayed)"),
)
def create_request(body: Annotated[models.RequestCreate, Body()]) -> Response[str]:
    actor = actor_of(router.current_event)
    draft = RequestDraft(
        crop=body.crop,
        quantity=body.quantity,
        unit=body.unit,
        needed_by=body.needed_by,
        lat=body.location.lat,
        lon=body.location.lon,
        notes=body.notes,
        request_id=body.request_id,
    )
    key = http.idempotency_key(router.current_event)
    result = services().requests.create(actor, draft, key)
    request = result.entity
    return http.created(
        views.request(request, actor.user_id),
        f"/requests/{request.request_id}",
        request.version,
        result.replayed,
    )


@router.get(
    "/requests/<requestId>",
    summary="Read a request (exact place for its owner only)",
    responses=http.documented(200, models.RequestOut, "Request"),
)
def get_request(requestId: RequestId) -> Response[str]:  # noqa: N803 - path name is the contract
    actor = actor_of(router.current_event)
    request = services().requests.get(requestId)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.patch(
    "/requests/<requestId>",
    summary="Change quantity, unit, date, notes or status (owner, If-Match required)",
    responses=http.documented(200, models.RequestOut, "Updated request"),
)
def update_request(
    requestId: RequestId,  # noqa: N803
    body: Annotated[models.RequestUpdate, Body()],
) -> Response[str]:
    actor = actor_of(router.current_event)
    version = http.if_match(router.current_event, required=True)
    changes = RequestChanges(
        quantity=body.quantity,
        unit=body.unit,
        needed_by=body.needed_by,
        notes=body.notes,
        clear_notes="notes" in body.model_fields_set and body.notes is None,
        status=RequestStatus(body.status) if body.status else None,
    )
    request = services().requests.update(actor, requestId, changes, version)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.delete(
    "/requests/<requestId>",
    summary="Cancel a request (owner; If-Match optional)",
    responses=http.documented(200, models.RequestOut, "Cancelled request"),
)
def cancel_request(requestId: RequestId) -> Response[str]:  # noqa: N803
    actor = actor_of(router.current_event)
    version = http.if_match(router.current_event, required=False)
    request = services().requests.cancel(actor, requestId, version)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.get(
    "/me/requests",
    summary="Own requests, newest first",
    responses=http.documented(200, models.RequestCollection, "A page of requests"),
)
def my_requests(limit: Limit = None, cursor: Cursor = None) -> Response[str]:
    actor = actor_of(router.current_event)
    page = services().requests.list_own(actor, limit, cursor)
    return http.json_response(
        models.RequestCollection(
            items=[views.request(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
