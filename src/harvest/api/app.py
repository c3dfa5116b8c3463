"""The API Lambda: one APIGatewayRestResolver, a Router per resource, errors as problems."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.api import problems
from harvest.api.auth import CORRELATION_HEADER, correlation_id
from harvest.api.gate import refuse_early
from harvest.api.routes import (
    claims,
    communities,
    feed,
    guidance,
    health,
    listings,
    profiles,
    requests,
)
from harvest.domain.errors import DomainError
from harvest.settings import IN_LAMBDA, get_settings

logger = Logger(service="harvest-api")
tracer = Tracer(service="harvest-api")
metrics = Metrics(namespace="HarvestExchange", service="harvest-api")

app = APIGatewayRestResolver(enable_validation=True)
for module in (health, profiles, listings, requests, claims, feed, communities, guidance):
    app.include_router(module.router)

OPENAPI_TITLE = "Harvest Exchange API"
OPENAPI_VERSION = "1.0.0"


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    document = app.get_openapi_json_schema(
        title=OPENAPI_TITLE,
        version=OPENAPI_VERSION,
        description="Community surplus-food exchange. Errors are RFC 7807 problem+json.",
    )
    return Response(status_code=200, content_type="application/json", body=document)


@app.exception_handler(DomainError)  # type: ignore[untyped-decorator]
def on_domain_error(error: DomainError) -> Response[str]:
    logger.info("request refused", extra={"error": type(error).__name__, "detail": error.detail})
    return problems.from_domain_error(error)


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def on_validation_error(error: RequestValidationError) -> Response[str]:
    return problems.from_validation_errors(error.errors())


@app.not_found
def on_not_found(_: Exception) -> Response[str]:
    return problems.problem(404, "not-found", "Not found", "no such route")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def on_unexpected(error: Exception) -> Response[str]:
    # Never leak internals; the log line carries the stack and the correlation id.
    logger.exception("unhandled error")
    metrics.add_metric(name="UnhandledErrors", unit=MetricUnit.Count, value=1)
    return problems.problem(
        500, "internal-error", "Internal error", "an unexpected error occurred; retry later"
    )


def _with_correlation(response: dict[str, Any], cid: str) -> dict[str, Any]:
    response.setdefault("headers", {})
    response["headers"] = {**(response["headers"] or {}), CORRELATION_HEADER: cid}
    if response.get("multiValueHeaders"):
        response["multiValueHeaders"].pop(CORRELATION_HEADER, None)
    return response


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    cid = correlation_id(APIGatewayProxyEvent(event))
    logger.set_correlation_id(cid)
    logger.append_keys(path=event.get("path"), method=event.get("httpMethod"))
    refusal = refuse_early(event, get_settings().max_body_bytes)
    if refusal is not None:
        return _with_correlation(refusal, cid)
    return _with_correlation(app.resolve(event, context), cid)
