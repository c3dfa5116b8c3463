"""HTTP -> API Gateway REST proxy event -> the real Lambda handler -> HTTP.

Emulates what sits in front of the API function in AWS: the Cognito authorizer (a missing or
bad token is API Gateway's own 401 before the function runs; routes declared with
`Auth: {Authorizer: NONE}` in template.yaml are public, and so are CORS preflights when the
template routes OPTIONS past the authorizer), the headers of the API's gateway responses
(CORS on API Gateway's own errors), and the proxy integration's event shape.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from harvest.local import docs
from harvest.local.tokens import InvalidToken, TokenIssuer, bearer

log = logging.getLogger("harvest.local.api")
LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
IDLE_CONNECTION_S = 5.0
# Connections the kernel completes while every accepting thread is busy (a CPU hog, a slow
# handler). socketserver's default of 5 made clients see resets under load; API Gateway
# never refuses a connection for being early.
LISTEN_BACKLOG = 128
PROBLEM_TYPE = "application/problem+json"


def _open_events(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    events = template["Resources"][function]["Properties"].get("Events", {})
    return [
        event["Properties"]
        for event in events.values()
        if event.get("Type") == "Api"
        and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE"
    ]


def public_routes(template: dict[str, Any], function: str = "ApiFunction") -> set[str]:
    """Paths whose API event in template.yaml opts out of the authorizer (preflights aside)."""
    return {
        str(event["Path"])
        for event in _open_events(template, function)
        if str(event.get("Method", "")).upper() != "OPTIONS"
    }


def preflight_is_public(template: dict[str, Any], function: str = "ApiFunction") -> bool:
    """True when the template sends OPTIONS on every path past the authorizer."""
    return any(
        str(event.get("Method", "")).upper() == "OPTIONS" and event.get("Path") == "/{proxy+}"
        for event in _open_events(template, function)
    )


def gateway_response_headers(
    template: dict[str, Any], api: str = "HarvestApi", kind: str = "DEFAULT_4XX"
) -> dict[str, str]:
    """Static headers of one of the API's gateway responses ('value' literals unquoted)."""
    responses = template["Resources"][api]["Properties"].get("GatewayResponses", {})
    headers = responses.get(kind, {}).get("ResponseParameters", {}).get("Headers", {})
    return {str(name): str(value).strip("'") for name, value in headers.items()}


@dataclass
class LocalContext:
    """The bits of the Lambda context object that Powertools reads."""

    function_name: str = "harvest-local-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:harvest-local-api"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_ms: int = 10_000
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self.started) * 1000))


def build_event(
    method: str,
    raw_path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    claims: dict[str, Any] | None,
    source_ip: str,
) -> dict[str, Any]:
    split = urlsplit(raw_path)
    multi_query = parse_qs(split.query, keep_blank_values=True)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    text: str | None = None
    encoded = False
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": split.path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": {"proxy": split.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{split.path}",
            "stage": "local",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "000000000000",
            "apiId": "local",
            "protocol": "HTTP/1.1",
            "identity": {
                "sourceIp": source_ip,
                "userAgent": multi_headers.get("User-Agent", [""])[-1],
            },
            "authorizer": {"claims": claims} if claims else {},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class ApiGatewayEmulator:
    """Holds what the request handler threads share: the function, the authorizer, routes."""

    def __init__(
        self,
        handler: LambdaHandler,
        issuer: TokenIssuer,
        public: set[str],
        *,
        open_preflight: bool = False,
        refusal_headers: dict[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.issuer = issuer
        self.public = public
        self.open_preflight = open_preflight
        self.refusal_headers = refusal_headers or {}
        # Lambda runs one invocation at a time per execution environment, and the handler
        # relies on it: Powertools' resolver keeps the current event in a class attribute
        # (BaseRouter.current_event), so two requests handled at once in this process would
        # read each other's body and claims. Requests still arrive concurrently; their
        # invocations take turns, as in one warm container.
        self.invocation_lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        with self.invocation_lock:
            return self.handler(event, LocalContext())

    def authorize(
        self, path: str, authorization: str | None, method: str = "GET"
    ) -> dict[str, Any] | None:
        """Claims for a valid token; None on a public path or an open preflight (API Gateway
        runs no authorizer there, so any Authorization header is ignored); InvalidToken
        otherwise."""
        if path in self.public or (method == "OPTIONS" and self.open_preflight):
            return None
        token = bearer(authorization)
        if token is None:
            raise InvalidToken("no token")
        return self.issuer.verify(token)

    def make_server(self, host: str, port: int, *, reuse_port: bool = False) -> ThreadingHTTPServer:
        """`reuse_port`: other processes may listen on the same port (SO_REUSEPORT); the
        kernel spreads the connections over them."""
        emulator = self

        class Handler(_RequestHandler):
            gateway = emulator

        server = GatewayServer((host, port), Handler, bind_and_activate=False)
        server.reuse_port = reuse_port
        try:
            server.server_bind()
            server.server_activate()
        except BaseException:
            server.server_close()
            raise
        server.daemon_threads = True
        return server


class GatewayServer(ThreadingHTTPServer):
    """A thread per connection and a listen backlog that holds a burst of clients."""

    request_queue_size = LISTEN_BACKLOG
    reuse_port = False

    def server_bind(self) -> None:
        if self.reuse_port:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


def problem(status: int, title: str, detail: str) -> bytes:
    """An RFC 7807 body, the shape every error of this API has."""
    document = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return json.dumps(document).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: ApiGatewayEmulator
    protocol_version = "HTTP/1.1"
    server_version = "harvest-local"
    # Seconds a kept-alive connection may sit idle. A browser (Swagger UI at /docs) keeps idle
    # connections for minutes, and stopping the runtime waits for open ones (block_on_close).
    timeout = IDLE_CONNECTION_S

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: one structured line per request is logged in _handle instead."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line or header block, a method
        it has no handler for) as problem documents instead of its HTML page."""
        title = self.responses.get(code, ("Error",))[0]
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            # Set when the request line could not be parsed; a 0.9 answer has no status
            # line or headers, and no client of this API speaks 0.9.
            self.request_version = self.protocol_version
        self.send_response(code, title)
        payload = problem(code, title, message or explain or title)
        self.send_header("Content-Type", PROBLEM_TYPE)
        self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and code >= 200 and code not in {204, 304}:
            self.wfile.write(payload)
        log.info("%s %s %d (%s)", self.command, getattr(self, "path", "-"), code, message)

    def _content_length(self) -> int | None:
        """The declared body length; None (after a 400 answer) when it is not a number."""
        declared = self.headers.get_all("Content-Length") or []
        values = {value.strip() for value in declared}
        if not values:
            return 0
        if len(values) == 1:
            (value,) = values
            if value.isdigit():  # digits only: no sign, no spaces, no underscores
                return int(value)
        self.send_error(400, "Bad Request", f"Content-Length {', '.join(declared)!r} is invalid")
        return None

    def _handle(self) -> None:
        started = time.perf_counter()
        if self.headers.defects:  # a line that is no header: what follows cannot be trusted
            self.send_error(400, "Malformed header block", type(self.headers.defects[0]).__name__)
            return
        length = self._content_length()
        if length is None:
            return
        body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        page = docs.answer(self.command, path)
        if page is not None:  # Swagger UI, the local runtime's own page: never the API's
            self._send(page.status, page.headers, page.body)
            log.info("%s %s %d %.1fms", self.command, self.path, page.status, _ms(started))
            return
        try:
            claims = self.gateway.authorize(path, self.headers.get("Authorization"), self.command)
        except InvalidToken as error:
            headers = {"Content-Type": "application/json", **self.gateway.refusal_headers}
            self._send(401, headers, b'{"message":"Unauthorized"}')
            log.info("%s %s 401 (%s) %.1fms", self.command, self.path, error, _ms(started))
            return
        event = build_event(
            self.command,
            self.path,
            list(self.headers.items()),
            body,
            claims,
            self.client_address[0],
        )
        try:
            result = self.gateway.invoke(event)
        except Exception:  # the function crashed: API Gateway answers 502
            log.exception("handler crashed on %s %s", self.command, self.path)
            self._send(
                502, {"Content-Type": "application/json"}, b'{"message":"Internal server error"}'
            )
            return
        headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.setdefault(name, str(values[-1]))
        raw = result.get("body") or ""
        payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        status = int(result.get("statusCode", 200))
        self._send(status, headers, payload)
        user = (claims or {}).get("sub", "-")
        log.info(
            "%s %s %d %.1fms user=%s cid=%s",
            self.command,
            self.path,
            status,
            _ms(started),
            user,
            headers.get("X-Correlation-Id", "-"),
        )

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in {"content-length", "connection"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle  # noqa: N815


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
