"""The local stand-in for API Gateway's WebSocket API and its Management API (issue 15).

Read from template.yaml: the `AWS::ApiGatewayV2::Route`s of the WebSocket API (route key,
whether it answers with a route response, whether it is behind the authorizer) and the
function behind each route's integration. A client connects to ws://host:port/?token=...;
as API Gateway does:
- `$connect` behind a CUSTOM authorizer: a missing or bad token is refused with 401 before
  any function runs (the local tokens of `harvest token` stand for Cognito's, as in the
  REST emulator); the authorizer's context (`sub`, `tier`) reaches every route in
  `requestContext.authorizer`; a `$connect` answer other than 2xx refuses the connection.
- a message is routed by `$request.body.action` (else `$default`); a route with a route
  response sends the function's `body` back as one frame.
- closing the socket calls `$disconnect`.
The Management API runs on its own port: POST /@connections/{id} sends the body as one text
frame (410 GoneException for an unknown connection, as API Gateway), DELETE closes it. The
delivery worker's boto3 client talks to it through WEBSOCKET_MANAGEMENT_ENDPOINT.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from harvest.local.adapter import LocalContext
from harvest.local.esm import resolve_handler
from harvest.local.mappings import function_settings
from harvest.local.tokens import InvalidToken, TokenIssuer

__all__ = ["WebSocketGateway", "WebSocketRoute", "routes_from_template"]

log = logging.getLogger("harvest.local.websocket")
_FUNCTION_ARN = re.compile(r"\$\{(\w+)\.Arn\}")
_SEND_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class WebSocketRoute:
    key: str
    handler: str  # module.function
    authorized: bool  # behind the (custom) authorizer
    responds: bool  # has a route response: the function's body goes back to the client
    token_parameter: str | None = None  # the authorizer's identity source query parameter


def routes_from_template(template: Mapping[str, Any], table_name: str) -> dict[str, WebSocketRoute]:
    resources: Mapping[str, Any] = template.get("Resources") or {}
    routes: dict[str, WebSocketRoute] = {}
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        properties = resource.get("Properties") or {}
        integration_id = str(_sub_text(properties.get("Target"))).rsplit("${", 1)[-1].strip("}")
        uri = _sub_text((resources[integration_id].get("Properties") or {}).get("IntegrationUri"))
        [function_id] = _FUNCTION_ARN.findall(uri)
        authorized = properties.get("AuthorizationType") == "CUSTOM"
        parameter = None
        if authorized:
            authorizer = resources[properties["AuthorizerId"]["Ref"]].get("Properties") or {}
            [source] = authorizer.get("IdentitySource") or ["route.request.querystring.token"]
            parameter = str(source).rsplit(".", 1)[-1]
        routes[str(properties["RouteKey"])] = WebSocketRoute(
            key=str(properties["RouteKey"]),
            handler=function_settings(template, function_id, table_name).handler,
            authorized=authorized,
            responds=bool(properties.get("RouteResponseSelectionExpression")),
            token_parameter=parameter,
        )
    return routes


def _sub_text(value: object) -> str:
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        return str(value["Fn::Sub"])
    return str(value)


class WebSocketGateway:
    """The WebSocket endpoint and the Management API, on an asyncio loop of their own."""

    def __init__(
        self,
        routes: Mapping[str, WebSocketRoute],
        issuer: TokenIssuer,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.routes = dict(routes)
        self.issuer = issuer
        self.host = host
        self.port = port
        self.handlers = {key: resolve_handler(route.handler) for key, route in routes.items()}
        self.loop = asyncio.new_event_loop()
        self.sockets: dict[str, ServerConnection] = {}
        self._ids: dict[ServerConnection, tuple[str, dict[str, Any]]] = {}
        self._server: Server | None = None
        self._error: OSError | None = None  # the port could not be bound
        self._thread: threading.Thread | None = None
        self.management: ThreadingHTTPServer | None = None
        self.url = ""
        self.management_url = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="websocket", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout=30) or self._error is not None:
            raise self._error or RuntimeError("the local WebSocket endpoint did not start")
        if self._server is None:
            raise RuntimeError("the local WebSocket endpoint did not start")
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://{self.host}:{port}"
        self.management = _management_server(self, self.host)
        self.management_url = f"http://{self.host}:{self.management.server_address[1]}"
        threading.Thread(
            target=self.management.serve_forever, name="websocket-management", daemon=True
        ).start()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            try:
                self._server = await serve(
                    self._session, self.host, self.port, process_request=self._connect
                )
            except OSError as error:  # e.g. the port is taken: start() says so at once
                self._error = error
                ready.set()
                return
            ready.set()
            await self._server.wait_closed()

        self.loop.run_until_complete(main())

    def stop(self) -> None:
        if self.management is not None:
            self.management.shutdown()
            self.management.server_close()
        if self._server is not None:
            self.loop.call_soon_threadsafe(self._server.close)
        if self._thread is not None:
            self._thread.join(timeout=30)

    # ------------------------------------------------------------------ API Gateway's part
    def _event(
        self, route: str, connection_id: str, authorizer: Mapping[str, Any], **extra: Any
    ) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": connection_id,
                "requestId": secrets.token_hex(8),
                "connectedAt": int(time.time() * 1000),
                "domainName": self.host,
                "stage": "local",
                "apiId": "local",
                "authorizer": dict(authorizer),
            },
            "isBase64Encoded": False,
            **extra,
        }

    def _invoke(self, route: str, event: dict[str, Any]) -> dict[str, Any]:
        response = self.handlers[route](event, LocalContext(function_name="harvest-local-live"))
        return response if isinstance(response, dict) else {}

    async def _connect(self, connection: ServerConnection, request: Request) -> Response | None:
        route = self.routes.get("$connect")
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        authorizer: dict[str, Any] = {}
        if route is not None and route.authorized:
            token = query.get(route.token_parameter or "token")
            try:
                claims = self.issuer.verify(token or "")
            except InvalidToken:
                return _refuse(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            subject = str(claims["sub"])
            authorizer = {"principalId": subject, "sub": subject, "tier": claims["custom:tier"]}
        connection_id = secrets.token_urlsafe(12)
        if route is not None:
            event = self._event("$connect", connection_id, authorizer, queryStringParameters=query)
            answer = await asyncio.to_thread(self._invoke, "$connect", event)
            status = int(answer.get("statusCode", 200))
            if not 200 <= status < 300:
                return _refuse(HTTPStatus(status), "Forbidden")
        self._ids[connection] = (connection_id, authorizer)
        return None

    async def _session(self, connection: ServerConnection) -> None:
        connection_id, authorizer = self._ids[connection]
        self.sockets[connection_id] = connection
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode()
                await self._message(connection, connection_id, authorizer, text)
        except ConnectionClosed:
            pass
        finally:
            self.sockets.pop(connection_id, None)
            self._ids.pop(connection, None)
            if "$disconnect" in self.routes:
                event = self._event("$disconnect", connection_id, authorizer)
                await asyncio.to_thread(self._invoke, "$disconnect", event)

    async def _message(
        self,
        connection: ServerConnection,
        connection_id: str,
        authorizer: Mapping[str, Any],
        text: str,
    ) -> None:
        try:
            action = json.loads(text).get("action")
        except (ValueError, AttributeError):
            action = None
        key = action if isinstance(action, str) and action in self.routes else "$default"
        if key.startswith("$") and key != "$default":
            key = "$default"  # $connect/$disconnect are never selected by a message
        route = self.routes.get(key)
        if route is None:  # API Gateway's answer when nothing matches
            await connection.send(json.dumps({"message": "Forbidden"}))
            return
        event = self._event(key, connection_id, authorizer, body=text)
        answer = await asyncio.to_thread(self._invoke, key, event)
        if route.responds and answer.get("body") is not None:
            await connection.send(str(answer["body"]))

    # ------------------------------------------------------------------ Management API
    def post(self, connection_id: str, data: bytes) -> bool:
        """Sends one frame; False when there is no such connection (410 Gone)."""
        connection = self.sockets.get(connection_id)
        if connection is None:
            return False
        text = data.decode("utf-8", errors="replace")
        future = asyncio.run_coroutine_threadsafe(connection.send(text), self.loop)
        try:
            future.result(timeout=_SEND_TIMEOUT_S)
        except ConnectionClosed:
            return False
        return True

    def close(self, connection_id: str) -> bool:
        connection = self.sockets.get(connection_id)
        if connection is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(), self.loop).result(_SEND_TIMEOUT_S)
        return True


def _refuse(status: HTTPStatus, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def _management_server(gateway: WebSocketGateway, host: str) -> ThreadingHTTPServer:
    class Management(BaseHTTPRequestHandler):
        def _connection_id(self) -> str | None:
            path = unquote(urlsplit(self.path).path)
            prefix = "/@connections/"
            return path.removeprefix(prefix) if path.startswith(prefix) else None

        def _answer(self, status: int, error: str | None = None) -> None:
            body = json.dumps({"message": error}).encode() if error else b""
            self.send_response(status)
            if error:
                self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            connection_id = self._connection_id()
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if connection_id is None:
                self._answer(404, "NotFoundException")
            elif gateway.post(connection_id, data):
                self._answer(200)
            else:
                self._answer(410, "GoneException")

        def do_DELETE(self) -> None:
            connection_id = self._connection_id()
            if connection_id is not None and gateway.close(connection_id):
                self._answer(204)
            else:
                self._answer(410, "GoneException")

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("management: " + format, *args)

    server = ThreadingHTTPServer((host, 0), Management)
    server.daemon_threads = True
    return server


def start_gateway(
    template: Mapping[str, Any], table_name: str, host: str, port: int
) -> WebSocketGateway | None:
    """The runtime's hook: the gateway of the template's WebSocket routes (None without any),
    started, with WEBSOCKET_MANAGEMENT_ENDPOINT pointing the delivery worker at it."""

    from harvest.local.tokens import signing_key  # noqa: PLC0415

    routes = routes_from_template(template, table_name)
    if not routes:
        return None
    gateway = WebSocketGateway(routes, TokenIssuer(signing_key()), host, port)
    gateway.start()
    os.environ["WEBSOCKET_MANAGEMENT_ENDPOINT"] = gateway.management_url
    log.info("websocket: %s (management API %s)", gateway.url, gateway.management_url)
    return gateway
