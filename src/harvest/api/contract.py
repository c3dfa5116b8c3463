"""The OpenAPI 3.1 contract: Powertools' document of the routes, completed with what it cannot
know: the problem+json error responses of each operation, the bearer security scheme, the
HTTP headers (ETag, If-Match, If-None-Match, Idempotency-Key, Retry-After, Location) and
operation ids a generated client can use as method names.

Served at /openapi.json and checked in as schemas/openapi.json (`make schemas`; a drift test
fails when the two differ). Built on request only: no cold-start cost.
"""

from __future__ import annotations

import copy
import json
import re
from typing import TYPE_CHECKING, Any

from harvest.api.auth import CORRELATION_HEADER
from harvest.api.gate import PUBLIC_PATHS
from harvest.api.problems import PROBLEM_BASE, PROBLEM_JSON

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

TITLE = "Harvest Exchange API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Community surplus-food exchange. Bodies are JSON objects (application/json); errors are "
    "RFC 7807 problem+json. Every successful GET has an ETag: send it as If-None-Match and an "
    "unchanged answer is 304. A wrong method on a known path is 405 with Allow."
)
SECURITY_SCHEME = "cognito"
_REF = "#/components/"
# Routes that refuse a caller who is known but not allowed: entitlements (tiers), ownership,
# claim parties.
FORBIDDEN_FOR_SOME = {
    ("patch", "/listings/{listingId}"),
    ("delete", "/listings/{listingId}"),
    ("patch", "/requests/{requestId}"),
    ("delete", "/requests/{requestId}"),
    ("post", "/listings/{listingId}/claims"),
    ("get", "/claims/{claimId}"),
    ("patch", "/claims/{claimId}"),
    ("get", "/communities/{geohash}/explanation"),
    ("post", "/me/guidance"),
    ("get", "/me/guidance"),
    ("get", "/me/guidance/{guidanceId}"),
}
# Routes whose state or body can clash with what is stored (409).
CONFLICTS = {
    ("post", "/listings"): "the same id or Idempotency-Key with another body",
    ("post", "/requests"): "the same id or Idempotency-Key with another body",
    ("post", "/listings/{listingId}/claims"): "not enough remains, or the key was reused",
    ("post", "/me/guidance"): "the same id or Idempotency-Key with another body",
    ("patch", "/listings/{listingId}"): "the listing's status does not allow the change",
    ("delete", "/listings/{listingId}"): "the listing is no longer open",
    ("patch", "/requests/{requestId}"): "the request's status does not allow the change",
    ("delete", "/requests/{requestId}"): "the request is no longer open",
    ("patch", "/claims/{claimId}"): "an illegal transition",
}
OPTIONAL_IF_MATCH = {
    ("put", "/me"),
    ("delete", "/listings/{listingId}"),
    ("delete", "/requests/{requestId}"),
}
NOT_FOUND_WITHOUT_PATH = {("get", "/me")}  # no profile yet
BUDGETED = {("post", "/me/guidance")}  # 429 with Retry-After when the daily budget is used
NOT_THROTTLED = {"/health", "/crops"}  # served without a DynamoDB read


# One tag per operation, by resource: Swagger UI groups by it, and a generated client puts
# each operation under it (harvest_client.api.listings.create_listing).
TAGS = {
    "listings": "Surplus food posted by growers",
    "requests": "Food asked for by searchers",
    "claims": "A searcher's reservation of part of a listing, and its lifecycle",
    "feed": "Live listings and open requests near a point",
    "communities": "Published supply/demand signals and explanations of an area",
    "guidance": "Personal grower guidance (pro tier)",
    "matches": "Listings and requests nearby suggested for the caller's own",
    "profile": "The caller's own profile",
    "crops": "The crop catalogue: units and conversions",
    "health": "Liveness",
}


def tag_of(path: str) -> str:
    """`/me/listings` -> listings, `/listings/{listingId}/claims` -> claims, `/me` -> profile."""
    segments = [part for part in path.strip("/").split("/") if not part.startswith("{")]
    if segments[0] == "me":
        segments = segments[1:] or ["profile"]
    return "claims" if "claims" in segments else segments[0]


def _problem_schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "type": "object",
            "title": "Problem",
            "description": "RFC 7807 problem details. `type` is a stable URI per kind of "
            f"problem ({PROBLEM_BASE}<slug>); further members depend on the kind.",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {"$ref": _REF + "schemas/FieldProblem"},
                    "description": "Validation problems: one per invalid input.",
                },
                "suggestions": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "unknown-crop: catalogue slugs close to the one sent.",
                },
                "allowedUnits": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "unit-not-allowed: the crop's units.",
                },
                "requiredTier": {"type": "string", "enum": ["free", "supporter", "pro"]},
                "entitlement": {"type": "string"},
                "currentVersion": {
                    "type": "integer",
                    "description": "version-mismatch: the version now stored (also its ETag).",
                },
            },
            "additionalProperties": True,
        },
        "FieldProblem": {
            "type": "object",
            "title": "FieldProblem",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {
                    "type": "string",
                    "description": "Where: a body field path (`location.lat`), "
                    "`query.<name>`, `path.<name>`, `header.<name>`, or `body`.",
                },
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        },
        "GatewayError": {
            "type": "object",
            "title": "GatewayError",
            "description": "API Gateway's own answer (authorizer, throttling), not the API's.",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
    }


def _header(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "schema": schema or {"type": "string"}}


HEADERS: dict[str, dict[str, Any]] = {
    "ETag": _header('The version of the resource ("3"), or W/"..." for a collection.'),
    "Location": _header("Where the created resource (or the pending guidance) lives."),
    "Retry-After": _header("Seconds to wait before trying again.", {"type": "integer"}),
    "Idempotent-Replayed": _header(
        "true when this is the stored result of an earlier create with the same key.",
        {"type": "string", "enum": ["true"]},
    ),
    "WWW-Authenticate": _header("Bearer challenge."),
    CORRELATION_HEADER: _header("The request's correlation id (the caller's, when valid)."),
}
PARAMETERS: dict[str, dict[str, Any]] = {
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "description": "The ETag of the version being changed, or * for whatever is current.",
        "schema": {"type": "string"},
    },
    "IfMatchOptional": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag of the version being changed; without it, the change applies "
        "to whatever is current.",
        "schema": {"type": "string"},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags the client holds: 304 when one of them is current.",
        "schema": {"type": "string"},
    },
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes the create safe to retry: a replay returns the original.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,128}$"},
    },
    "CorrelationId": {
        "name": CORRELATION_HEADER,
        "in": "header",
        "required": False,
        # Any value is accepted: a malformed one is ignored, not refused, so no pattern.
        "description": "Echoed back and stored on every item the request writes when it "
        "matches ^[A-Za-z0-9._:-]{1,128}$; otherwise the request id is used instead.",
        "schema": {"type": "string"},
    },
}
ERRORS: dict[int, str] = {
    400: "Malformed request: not JSON, not an object, a bad cursor or geohash",
    401: "No valid bearer token",
    403: "Authenticated, but not allowed (tier, owner or party)",
    404: "No such resource",
    409: "Conflict",
    412: "If-Match names a version that is no longer current",
    413: "The body is larger than the limit",
    415: "The body is not application/json",
    422: "Invalid input (see errors)",
    428: "If-Match is required",
    429: "The daily budget is used up",
    503: "Temporarily unavailable; retry after Retry-After seconds",
}


def _problem(status: int, description: str, *headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "schemas/Problem"}}},
    }
    if headers:
        response["headers"] = {name: {"$ref": _REF + f"headers/{name}"} for name in headers}
    return response


def _unauthorized() -> dict[str, Any]:
    response = _problem(401, ERRORS[401], "WWW-Authenticate")
    response["content"]["application/json"] = {"schema": {"$ref": _REF + "schemas/GatewayError"}}
    return response


def _error_statuses(method: str, path: str, operation: dict[str, Any]) -> dict[int, Any]:
    key = (method, path)
    parameters = operation.get("parameters", [])
    has_query = any(p["in"] == "query" for p in parameters)
    has_path = any(p["in"] == "path" for p in parameters)
    errors: dict[int, Any] = {}
    if "requestBody" in operation or has_query or has_path:
        errors[400] = _problem(400, ERRORS[400])
        errors[422] = _problem(422, ERRORS[422])
    if path not in PUBLIC_PATHS:
        errors[401] = _unauthorized()
    if key in FORBIDDEN_FOR_SOME:
        errors[403] = _problem(403, ERRORS[403])
    if has_path or key in NOT_FOUND_WITHOUT_PATH:
        errors[404] = _problem(404, ERRORS[404])
    if key in CONFLICTS:
        errors[409] = _problem(409, f"{ERRORS[409]}: {CONFLICTS[key]}")
    if method == "patch" or key in OPTIONAL_IF_MATCH:
        errors[412] = _problem(412, ERRORS[412], "ETag")
    if "requestBody" in operation:
        errors[413] = _problem(413, ERRORS[413])
        errors[415] = _problem(415, ERRORS[415])
    if method == "patch":
        errors[428] = _problem(428, ERRORS[428])
    if key in BUDGETED:
        errors[429] = _problem(429, ERRORS[429], "Retry-After")
    if method == "get" and path not in NOT_THROTTLED:
        errors[503] = _problem(503, ERRORS[503], "Retry-After")
    return errors


def _header_parameters(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    names = ["CorrelationId"]
    if method == "get":
        names.append("IfNoneMatch")
    if method == "patch":
        names.append("IfMatch")
    if (method, path) in OPTIONAL_IF_MATCH:
        names.append("IfMatchOptional")
    if method == "post" and any(str(s).startswith("20") for s in operation["responses"]):
        names.append("IdempotencyKey")
    return names


def _complete_success(method: str, status: str, response: dict[str, Any]) -> None:
    headers = {CORRELATION_HEADER}
    if status in {"200", "201"}:
        headers.add("ETag")
    if status in {"201", "202"} and method == "post":
        headers |= {"Location", "Idempotent-Replayed"}
    if status == "202" and method == "get":
        headers.add("Retry-After")
    response["headers"] = {name: {"$ref": _REF + f"headers/{name}"} for name in sorted(headers)}


def _operation_ids(app: APIGatewayRestResolver) -> dict[tuple[str, str], str]:
    """lowerCamel of each route function's name: `create_listing` -> `createListing`."""
    routes = app._static_routes + app._dynamic_routes  # Powertools lists them nowhere public
    found = {}
    for route in routes:
        path = re.sub(r"<(\w+)>", r"{\1}", route.path)
        head, *rest = route.func.__name__.split("_")
        found[(route.method.lower(), path)] = head + "".join(part.title() for part in rest)
    return found


def complete(document: dict[str, Any], operation_ids: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Powertools' document with errors, security, headers and operation ids added."""
    done = copy.deepcopy(document)
    done["info"]["description"] = DESCRIPTION
    done.pop("servers", None)  # the deployment's URL, not the document's
    done["tags"] = [{"name": name, "description": text} for name, text in TAGS.items()]
    components = done.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for generated in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(generated, None)  # Powertools' own error shapes: the API never sends them
    schemas.update(_problem_schemas())
    components["headers"] = HEADERS
    components["parameters"] = PARAMETERS
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Cognito user pool ID token (API Gateway's Cognito authorizer).",
        }
    }
    for path, operations in done["paths"].items():
        for method, operation in operations.items():
            operation["operationId"] = operation_ids.get((method, path), operation["operationId"])
            operation["tags"] = [tag_of(path)]
            operation["security"] = [] if path in PUBLIC_PATHS else [{SECURITY_SCHEME: []}]
            responses = operation["responses"]
            responses.pop("422", None)
            for status, response in responses.items():
                _complete_success(method, status, response)
            if method == "get":
                responses["304"] = {
                    "description": "Not modified: If-None-Match names the current ETag",
                    "headers": {"ETag": {"$ref": _REF + "headers/ETag"}},
                }
            for status, response in _error_statuses(method, path, operation).items():
                responses[str(status)] = response
            operation["responses"] = dict(sorted(responses.items()))
            operation["parameters"] = [
                *operation.get("parameters", []),
                *(
                    {"$ref": _REF + f"parameters/{name}"}
                    for name in _header_parameters(method, path, operation)
                ),
            ]
    return done


def document(app: APIGatewayRestResolver) -> dict[str, Any]:
    generated = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
    return complete(generated, _operation_ids(app))


def json_text(app: APIGatewayRestResolver) -> str:
    """The document as served and as checked in (stable key order, a final newline)."""
    return json.dumps(document(app), indent=2, ensure_ascii=False) + "\n"
