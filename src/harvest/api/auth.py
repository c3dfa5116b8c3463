"""Identity as API Gateway's Cognito authorizer hands it over (requestContext.authorizer)."""

from __future__ import annotations

import re

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from harvest.domain.common import Actor
from harvest.domain.entitlements import parse_tier
from harvest.domain.errors import Unauthenticated

CORRELATION_HEADER = "X-Correlation-Id"
_CORRELATION_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Subjects become key segments: '#' or spaces would let one user address another's keys.
_SUBJECT_PATTERN = re.compile(r"^[A-Za-z0-9_.@:-]{1,128}$")


def correlation_id(event: APIGatewayProxyEvent) -> str:
    """The caller's X-Correlation-Id when well formed, else API Gateway's request id."""
    supplied = event.headers.get(CORRELATION_HEADER)
    if supplied and _CORRELATION_PATTERN.match(supplied):
        return supplied
    return event.request_context.request_id or "unknown"


def actor_of(event: APIGatewayProxyEvent) -> Actor:
    claims = event.request_context.authorizer.claims or {}
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT_PATTERN.match(subject):
        raise Unauthenticated("a valid bearer token is required")
    return Actor(
        user_id=subject,
        tier=parse_tier(claims.get("custom:tier")).value,
        correlation_id=correlation_id(event),
    )
