"""The API Lambda: one APIGatewayRestResolver, a Router per resource, errors as problems."""

from __future__ import annotations

import importlib
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.api import problems
from harvest.api.auth import CORRELATION_HEADER, correlation_id
from harvest.api.gate import refuse_early
from harvest.api.wire import (
    conditional_get,
    flat_headers,
    json_object,
    normalise_json_content_type,
)
from harvest.domain.errors import DomainError
from harvest.settings import IN_LAMBDA, get_settings

logger = Logger(service="harvest-api")
# Only botocore is patched (the DynamoDB calls): patch_all() imported and patched every
# library X-Ray knows, ~100 ms of cold start for calls this function never makes.
tracer = Tracer(service="harvest-api", patch_modules=["botocore"])
metrics = Metrics(namespace="HarvestExchange", service="harvest-api")

# Request headers a browser may send and response headers its scripts may read.
CORS_REQUEST_HEADERS = ["If-Match", "If-None-Match", "Idempotency-Key", CORRELATION_HEADER]
CORS_EXPOSED_HEADERS = [
    "ETag",
    "Location",
    "Retry-After",
    "Idempotent-Replayed",
    "WWW-Authenticate",
    CORRELATION_HEADER,
]


def cors_config(origins: list[str]) -> CORSConfig | None:
    """Powertools answers preflights (204) and adds Access-Control-* to every route's
    response for an allowed Origin; no origins configured, no CORS."""
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        max_age=600,
    )


CORS = cors_config(get_settings().cors_origins)
resolver = APIGatewayRestResolver(cors=CORS, json_body_deserializer=json_object)
# Every route is validated, but the machinery (pydantic, Powertools' OpenAPI models) loads
# with the first routed request, not at import: Powertools builds the validation middlewares
# on a route's first call when the resolver did not (enable_validation=True would import
# them in the constructor).
resolver._enable_validation = True
# Imported and registered on the first request (routes()), with the models they bring: a
# cold start that only answers a preflight, a 401 or a 415 never loads them.
ROUTE_MODULES = (
    "health",
    "crops",
    "profiles",
    "listings",
    "requests",
    "claims",
    "feed",
    "communities",
    "guidance",
    "matches",
)
_registering = threading.Lock()
_registered: list[str] = []


def routes() -> APIGatewayRestResolver:
    """The resolver with every route registered."""
    with _registering:
        for name in ROUTE_MODULES[len(_registered) :]:
            module = importlib.import_module(f"harvest.api.routes.{name}")
            resolver.include_router(module.router)
            _registered.append(name)
    return resolver


def __getattr__(name: str) -> APIGatewayRestResolver:
    # `from harvest.api.app import app`: the resolver, routes registered (PEP 562).
    if name == "app":
        return routes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@resolver.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    from harvest.api import contract  # noqa: PLC0415 - only this route needs it

    body = contract.json_text(routes())
    return Response(status_code=200, content_type="application/json", body=body)


@resolver.exception_handler(DomainError)  # type: ignore[untyped-decorator]
def on_domain_error(error: DomainError) -> Response[str]:
    logger.info("request refused", extra={"error": type(error).__name__, "detail": error.detail})
    return problems.from_domain_error(error)


@resolver.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def on_validation_error(error: RequestValidationError) -> Response[str]:
    return problems.from_validation_errors(error.errors())


def allowed_methods(path: str) -> list[str]:
    app = routes()
    registered = app._static_routes + app._dynamic_routes  # Powertools lists them nowhere public
    methods = {route.method for route in registered if route.rule.match(path)}
    return sorted(methods | {"OPTIONS"} if methods and CORS else methods)


@resolver.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
def on_unsupported_content_type(_: RequestUnsupportedContentType) -> Response[str]:
    # The gate refuses these first; a body-less request with a form type still lands here.
    return problems.problem(
        415, "unsupported-media-type", "Unsupported media type", "send bodies as application/json"
    )


@resolver.not_found
def on_not_found(_: Exception) -> Response[str]:
    event = resolver.current_event
    allowed = allowed_methods(event.path)
    if allowed:
        return problems.problem(
            405,
            "method-not-allowed",
            "Method not allowed",
            f"{event.http_method} is not allowed on {event.path[:100]}; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    return problems.problem(404, "not-found", "Not found", "no such route")


@resolver.exception_handler(Exception)  # type: ignore[untyped-decorator]
def on_unexpected(error: Exception) -> Response[str]:
    # Never leak internals; the log line carries the stack and the correlation id.
    logger.exception("unhandled error")
    metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
    return problems.problem(
        500, "internal-error", "Internal error", "an unexpected error occurred; retry later"
    )


def _finish(event: dict[str, Any], response: dict[str, Any], cid: str) -> dict[str, Any]:
    """One `headers` dict with the correlation id, and CORS headers on the responses that
    never went through the resolver (the gate's refusals)."""
    headers = flat_headers(response)
    if CORS is not None and not any(k.lower().startswith("access-control-") for k in headers):
        origin = APIGatewayProxyEvent(event).headers.get("Origin")
        headers.update(CORS.to_dict(origin))
    headers[CORRELATION_HEADER] = cid
    return {**response, "headers": headers, "multiValueHeaders": {}}


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cid = correlation_id(APIGatewayProxyEvent(event))
    logger.set_correlation_id(cid)
    logger.append_keys(path=event.get("path"), method=event.get("httpMethod"))
    refusal = refuse_early(event, get_settings().max_body_bytes)
    if refusal is not None:
        return _finish(event, refusal, cid)
    normalise_json_content_type(event)
    return _finish(event, conditional_get(event, routes().resolve(event, context)), cid)
