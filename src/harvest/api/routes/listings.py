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
from harvest.domain.listing import ListingStatus
from harvest.services.listings import ListingChanges, ListingDraft

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
ListingId = Annotated[str, Path(pattern=ID_PATTERN)]
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query()]


@router.post(
    "/listings",
    summary="Post surplus (idempotent with listingId or Idempotency-Key)",
    responses=http.documented(201, models.ListingOut, "Created (or replayed)"),
)
def create_listing(
    actor: CurrentActor,
    key: IdempotencyKey,
    api: ApiServices,
    body: Annotated[models.ListingCreate, Body()],
) -> Response[str]:
    # By name: an optional field of the body reaches the draft once the draft names it.
    draft = ListingDraft(
        **body.model_dump(exclude={"location"}),
        lat=body.location.lat,
        lon=body.location.lon,
    )
    result = api.listings.create(actor, draft, key)
    listing = result.entity
    return http.created(
        views.listing(listing, actor.user_id),
        f"/listings/{listing.listing_id}",
        listing.version,
        result.replayed,
    )


@router.get(
    "/listings/<listingId>",
    summary="Read a listing (exact place for its owner only)",
    responses=http.documented(200, models.ListingOut, "Listing"),
)
def get_listing(
    actor: CurrentActor,
    api: ApiServices,
    listingId: ListingId,  # noqa: N803 - path name is the contract
) -> Response[str]:
    listing = api.listings.get(listingId)
    return http.json_response(
        views.listing(listing, actor.user_id), headers=http.etag(listing.version)
    )


@router.patch(
    "/listings/<listingId>",
    summary="Change quantity, window, notes or status (owner, If-Match required)",
    responses=http.documented(200, models.ListingOut, "Updated listing"),
)
def update_listing(
    actor: CurrentActor,
    version: RequiredVersion,
    api: ApiServices,
    listingId: ListingId,  # noqa: N803
    body: Annotated[models.ListingUpdate, Body()],
) -> Response[str]:
    fields = body.model_fields_set
    changes = ListingChanges(
        quantity=body.quantity,
        available_from=body.available_from,
        available_until=body.available_until,
        notes=body.notes,
        clear_notes="notes" in fields and body.notes is None,
        status=ListingStatus(body.status) if body.status else None,
    )
    listing = api.listings.update(actor, listingId, changes, version)
    return http.json_response(
        views.listing(listing, actor.user_id), headers=http.etag(listing.version)
    )


@router.delete(
    "/listings/<listingId>",
    summary="Cancel a listing (owner; If-Match optional)",
    responses=http.documented(200, models.ListingOut, "Cancelled listing"),
)
def cancel_listing(
    actor: CurrentActor,
    version: OptionalVersion,
    api: ApiServices,
    listingId: ListingId,  # noqa: N803
) -> Response[str]:
    listing = api.listings.cancel(actor, listingId, version)
    return http.json_response(
        views.listing(listing, actor.user_id), headers=http.etag(listing.version)
    )


@router.get(
    "/me/listings",
    summary="Own listings, newest first",
    responses=http.documented(200, models.ListingCollection, "A page of listings"),
)
def my_listings(
    actor: CurrentActor,
    api: ApiServices,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response[str]:
    page = api.listings.list_own(actor, limit, cursor)
    return http.json_response(
        models.ListingCollection(
            items=[views.listing(item, actor.user_id) for item in page.items],
            next_cursor=page.next_cursor,
        )
    )
