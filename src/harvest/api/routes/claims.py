from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.auth import actor_of
from harvest.api.dependencies import services
from harvest.domain.claim import ClaimStatus
from harvest.domain.common import ID_PATTERN
from harvest.services.claims import ClaimDraft, ClaimRole

router = APIGatewayRouter()  # type: ignore[no-untyped-call]
EntityId = Annotated[str, Path(pattern=ID_PATTERN)]


@router.post(
    "/listings/<listingId>/claims",
    summary="Claim part of a listing (409 if not enough remains)",
    responses=http.documented(201, models.ClaimOut, "Pending claim created (or replayed)"),
)
def create_claim(
    listingId: EntityId,  # noqa: N803 - path name is the contract
    body: Annotated[models.ClaimCreate, Body()],
) -> Response[str]:
    actor = actor_of(router.current_event)
    draft = ClaimDraft(
        quantity=body.quantity,
        request_id=body.request_id,
        note=body.note,
        claim_id=body.claim_id,
        match_id=body.match_id,
    )
    key = http.idempotency_key(router.current_event)
    result = services().claims.create(actor, listingId, draft, key)
    claim = result.entity
    return http.created(
        views.claim(claim), f"/claims/{claim.claim_id}", claim.version, result.replayed
    )


@router.get(
    "/claims/<claimId>",
    summary="Read a claim (claimer and listing owner only)",
    responses=http.documented(200, models.ClaimOut, "Claim"),
)
def get_claim(claimId: EntityId) -> Response[str]:  # noqa: N803
    actor = actor_of(router.current_event)
    claim = services().claims.get(actor, claimId)
    return http.json_response(views.claim(claim), headers=http.etag(claim.version))


@router.patch(
    "/claims/<claimId>",
    summary="Move a claim: confirmed, completed, cancelled or no_show (If-Match required)",
    responses=http.documented(200, models.ClaimOut, "Claim after the transition"),
)
def transition_claim(
    claimId: EntityId,  # noqa: N803
    body: Annotated[models.ClaimUpdate, Body()],
) -> Response[str]:
    actor = actor_of(router.current_event)
    version = http.if_match(router.current_event, required=True)
    claim = services().claims.transition(actor, claimId, ClaimStatus(body.status), version)
    return http.json_response(views.claim(claim), headers=http.etag(claim.version))


@router.get(
    "/me/claims",
    summary="Claims I made or received, newest first",
    responses=http.documented(200, models.ClaimCollection, "A page of claims"),
)
def my_claims(
    role: Annotated[ClaimRole, Query()] = ClaimRole.ALL,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    actor = actor_of(router.current_event)
    page = services().claims.list_own(actor, role, limit, cursor)
    return http.json_response(
        models.ClaimCollection(
            items=[views.claim(item) for item in page.items], next_cursor=page.next_cursor
        )
    )
