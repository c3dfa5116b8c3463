from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from harvest.api import http, models

router = APIGatewayRouter()  # type: ignore[no-untyped-call]


def _version() -> str:
    try:
        return version("harvest-exchange")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


@router.get(
    "/health",
    summary="Liveness (no auth)",
    responses=http.documented(200, models.Health, "Alive"),
)
def health() -> Response[str]:
    return http.json_response(models.Health(status="ok", version=_version()))
