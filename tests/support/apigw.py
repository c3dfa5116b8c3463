"""Builds API Gateway REST proxy events (as the Cognito authorizer delivers them) and calls
the real handler."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harvest.api.app import handler


@dataclass
class FakeLambdaContext:
    function_name: str = "harvest-test-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:harvest-test-api"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str

    @property
    def etag(self) -> str:
        return self.headers["ETag"]

    def header(self, name: str) -> str | None:
        lowered = {k.lower(): v for k, v in self.headers.items()}
        return lowered.get(name.lower())


def event(
    method: str,
    url: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    user: str | None = "alice",
    tier: str = "free",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    split = urlsplit(url)
    multi_query = dict(parse_qs(split.query, keep_blank_values=True).items())
    query = {k: v[-1] for k, v in multi_query.items()}
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    authorizer: dict[str, Any] = {}
    if user is not None:
        authorizer = {"claims": {"sub": user, "custom:tier": tier}}
    return {
        "resource": "/{proxy+}",
        "path": split.path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": split.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/test{split.path}",
            "stage": "test",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": False,
    }


class Api:
    """`api.post('/listings', body, user='bob')` -> ApiResponse, through the real handler."""

    def call(self, method: str, url: str, **kwargs: Any) -> ApiResponse:
        result = handler(event(method, url, **kwargs), FakeLambdaContext())
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.setdefault(name, values[-1])
        raw = result.get("body") or ""
        try:
            parsed = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            parsed = None
        return ApiResponse(result["statusCode"], headers, parsed, raw)

    def get(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.call("GET", url, **kwargs)

    def post(self, url: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("POST", url, body=body, **kwargs)

    def put(self, url: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PUT", url, body=body, **kwargs)

    def patch(self, url: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.call("PATCH", url, body=body, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.call("DELETE", url, **kwargs)
