from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models, views
from harvest.api.dependencies import ApiServices, CurrentActor, OptionalVersion
from harvest.services.profiles import ProfileDraft

router = APIGatewayRouter()  # type: ignore[no-untyped-call]


@router.get(
    "/me", summary="Own profile", responses=http.documented(200, models.ProfileOut, "Profile")
)
def get_me(
    actor: CurrentActor,
    api: ApiServices,
) -> Response[str]:
    profile = api.profiles.get(actor)
    return http.json_response(views.profile(profile), headers=http.etag(profile.version))


@router.put(
    "/me",
    summary="Create or replace own profile (If-Match once it exists)",
    responses=http.documented(200, models.ProfileOut, "Saved profile"),
)
def put_me(
    actor: CurrentActor,
    version: OptionalVersion,
    api: ApiServices,
    body: Annotated[models.ProfilePut, Body()],
) -> Response[str]:
    home = body.home_location
    draft = ProfileDraft(
        display_name=body.display_name,
        home_lat=home.lat if home else None,
        home_lon=home.lon if home else None,
        share_radius_km=body.share_radius_km,
    )
    profile = api.profiles.save(actor, draft, version)
    return http.json_response(views.profile(profile), headers=http.etag(profile.version))
