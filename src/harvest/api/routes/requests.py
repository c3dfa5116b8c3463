from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.dependencies import (
    ApiServices,
    CurrentActor,
    IdempotencyKey,
    OptionalVersion,
    RequiredVersion,
)
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
def create_request(
    actor: CurrentActor,
    key: IdempotencyKey,
    api: ApiServices,
    body: Annotated[models.RequestCreate, Body()],
) -> Response[str]:
    # By name: an optional field of the body reaches the draft once the draft names it.
    draft = RequestDraft(
        **body.model_dump(exclude={"location"}),
        lat=body.location.lat,
        lon=body.location.lon,
    )
    result = api.requests.create(actor, draft, key)
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
def get_request(
    actor: CurrentActor,
    api: ApiServices,
    requestId: RequestId,  # noqa: N803 - path name is the contract
) -> Response[str]:
    request = api.requests.get(requestId)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.patch(
    "/requests/<requestId>",
    summary="Change quantity, unit, date, notes or status (owner, If-Match required)",
    responses=http.documented(200, models.RequestOut, "Updated request"),
)
def update_request(
    actor: CurrentActor,
    version: RequiredVersion,
    api: ApiServices,
    requestId: RequestId,  # noqa: N803
    body: Annotated[models.RequestUpdate, Body()],
) -> Response[str]:
    changes = RequestChanges(
        quantity=body.quantity,
        unit=body.unit,
        needed_by=body.needed_by,
        notes=body.notes,
        clear_notes="notes" in body.model_fields_set and body.notes is None,
        status=RequestStatus(body.status) if body.status else None,
    )
    request = api.requests.update(actor, requestId, changes, version)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.delete(
    "/requests/<requestId>",
    summary="Cancel a request (owner; If-Match optional)",
    responses=http.documented(200, models.RequestOut, "Cancelled request"),
)
def cancel_request(
    actor: CurrentActor,
    version: OptionalVersion,
    api: ApiServices,
    requestId: RequestId,  # noqa: N803
) -> Response[str]:
    request = api.requests.cancel(actor, requestId, version)
    return http.json_response(
        views.request(request, actor.user_id), headers=http.etag(request.version)
    )


@router.get(
    "/me/requests",
    summary="Own requests, newest first",
    responses=http.documented(200, models.RequestCollection, "A page of requests"),
)
def my_requests(
    actor: CurrentActor,
    api: ApiServices,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response[str]:
    page = api.requests.list_own(actor, limit, cursor)
    return http.json_response(
        models.RequestCollection(
            items=[views.request(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
