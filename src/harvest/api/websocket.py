"""The WebSocket API's routes: `$connect`, `$disconnect`, `subscribe`, `unsubscribe` and
`$default` (anything else), one Lambda behind every route (template.yaml WebSocketFunction).

`$connect` runs after the authorizer (api.ws_authorizer in AWS, the local runtime's emulator
locally) accepted the token of the `token` query parameter; the user id it hands over in
`requestContext.authorizer` is the only identity this module trusts. A subscription is bound
to that user server-side (harvest.domain.push.bind_topic): the client names `claims`, never
whose claims. `subscribe` and `unsubscribe` answer with one frame (the routes have a
`$default` route response): `{"type": "subscribed"|"unsubscribed", "topic": ...}` or
`{"type": "error", "message": ...}`, in which case nothing was written.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.domain.errors import ValidationFailed
from harvest.domain.push import MAX_TOPICS_PER_CONNECTION, bind_topic
from harvest.once import Once
from harvest.settings import WebSocketSettings
from harvest.store.connections import ConnectionRepository, TooManyTopics, UnknownConnection
from harvest.store.dynamo import make_client
from harvest.store.table import Table

logger = Logger(service="harvest-websocket")
# As the REST API's actor_of: a subject becomes a key segment, so '#' is refused.
_SUBJECT_PATTERN = re.compile(r"^[A-Za-z0-9_.@:-]{1,128}$")
MAX_MESSAGE_BYTES = 4096

type RouteResponse = dict[str, Any]


def bootstrap(settings: WebSocketSettings, client: Any = None) -> ConnectionRepository:
    """The WebSocket route function's composition root: its connections' repository."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    return ConnectionRepository(table)


connections = Once(lambda: bootstrap(WebSocketSettings.from_environ(os.environ)))


def _answer(status: int, **frame: Any) -> RouteResponse:
    return {"statusCode": status, "body": json.dumps(frame, separators=(",", ":"))}


def _error(status: int, message: str) -> RouteResponse:
    return _answer(status, type="error", message=message)


def connect(event: Mapping[str, Any], connection_id: str) -> RouteResponse:
    authorizer = event["requestContext"].get("authorizer") or {}
    subject = authorizer.get("sub") or authorizer.get("principalId")
    if not isinstance(subject, str) or not _SUBJECT_PATTERN.match(subject):
        # The authorizer should have refused already: never accept an anonymous socket.
        return _error(401, "a valid token is required")
    tier = str(authorizer.get("tier") or "free")
    connections().connect(connection_id, subject, tier, int(time.time()))
    logger.info("connected", extra={"connectionId": connection_id, "userId": subject})
    return {"statusCode": 200}


def change_subscription(event: Mapping[str, Any], connection_id: str, action: str) -> RouteResponse:
    body = str(event.get("body") or "")
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        return _error(413, f"a message holds at most {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(body)
    except ValueError:
        return _error(400, "the message must be a JSON object")
    if not isinstance(message, dict):
        return _error(400, "the message must be a JSON object")
    repository = connections()
    connection = repository.get(connection_id)
    if connection is None:
        return _error(410, "unknown connection; reconnect")
    try:
        topic = bind_topic(message.get("topic"), connection.user_id)
    except ValidationFailed as error:
        return _error(400, str(error))
    try:
        if action == "subscribe":
            repository.subscribe(connection, topic)
        else:
            repository.unsubscribe(connection_id, topic)
    except TooManyTopics:
        return _error(409, f"a connection holds at most {MAX_TOPICS_PER_CONNECTION} topics")
    except UnknownConnection:
        return _error(410, "unknown connection; reconnect")
    return _answer(200, type=f"{action}d", topic=topic.name)


def route(event: Mapping[str, Any]) -> RouteResponse:
    context = event["requestContext"]
    route_key = str(context.get("routeKey", ""))
    connection_id = str(context["connectionId"])
    logger.append_keys(connectionId=connection_id, routeKey=route_key)
    if route_key == "$connect":
        return connect(event, connection_id)
    if route_key == "$disconnect":
        connections().disconnect(connection_id)
        return {"statusCode": 200}
    if route_key in ("subscribe", "unsubscribe"):
        return change_subscription(event, connection_id, route_key)
    return _error(400, "unknown action (subscribe, unsubscribe)")


def handler(event: dict[str, Any], context: LambdaContext) -> RouteResponse:
    try:
        return route(event)
    finally:
        logger.remove_keys(["connectionId", "routeKey"])
