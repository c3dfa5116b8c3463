"""The delivery worker: domain events -> the WebSocket connections subscribed to them.

Not a stream reader: `DeliveryRule` puts `claim.*`, `match.suggested` and
`insight.generated` on `DeliveryQueue`, and this function is that queue's SQS event source
(partial batch responses by messageId, redrive to `DeliveryDlq` after maxReceiveCount).

Per event: the bound topics it concerns (harvest.domain.push.topics_for_event: the two
parties of a claim, the owners of a match, an area's subscribers), their connections
(store.connections), one `post_to_connection` each through the API Gateway Management API.
Pushes run concurrently with short timeouts and each in its own try, so a slow or broken
connection never holds up the others:
- GoneException (410): the client went away without `$disconnect`; its items are deleted.
- throttling, 5xx, timeouts: retryable; the message is reported failed and comes again.
- anything else (403, payload too large): logged and dropped (retrying would not help).

At-least-once: a redelivered message is pushed again to every subscriber, including those
that already had it. Every frame carries the event's stable id (a uuid5 of entity, version
and detail-type, harvest.domain.events) so a client drops what it has seen (`harvest watch`
does); the worker writes nothing but the deletion of gone connections.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harvest.consumers.batch import BatchResponse, event_detail, process_messages
from harvest.domain.push import topics_for_event
from harvest.once import Once
from harvest.settings import IN_LAMBDA, DeliverySettings
from harvest.store.connections import ConnectionRepository, Subscriber
from harvest.store.dynamo import make_client
from harvest.store.table import Table, error_code

SERVICE = "harvest-delivery"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

# A push is small and the endpoint is regional: a connection that does not take it within
# these bounds is slow, and is retried with the message rather than waited for.
_PUSH_CONFIG = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
)
PUSH_CONCURRENCY = 8
_RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "TooManyRequestsException", "LimitExceededException",
     "InternalServerError", "ServiceUnavailable", "InternalFailure"}
)  # fmt: skip

type Post = Callable[[str, bytes], None]


class PushesFailed(Exception):
    """Some connections could not be reached for a reason that may pass: the message fails
    and comes again (after the queue's visibility timeout)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: int = 0
    gone: int = 0
    dropped: int = 0
    retryable: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    settings: DeliverySettings
    connections: ConnectionRepository


def bootstrap(settings: DeliverySettings, client: Any = None) -> Delivery:
    """The delivery worker's composition root. The Management API client is made apart
    (management_post), on the first push: not for an event nobody is subscribed to."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    return Delivery(settings, ConnectionRepository(table))


delivery = Once(lambda: bootstrap(DeliverySettings.from_environ(os.environ)))


def post_for(settings: DeliverySettings) -> Post:
    if not settings.websocket_management_endpoint:
        raise RuntimeError("WEBSOCKET_MANAGEMENT_ENDPOINT is not set")
    return post_with(
        boto3.client(
            "apigatewaymanagementapi",
            endpoint_url=settings.websocket_management_endpoint,
            region_name=settings.aws_region,
            config=_PUSH_CONFIG,
        )
    )


management_post = Once(lambda: post_for(delivery().settings))


def post_with(client: Any) -> Post:
    """post_to_connection of an API Gateway Management API client."""

    def post(connection_id: str, data: bytes) -> None:
        client.post_to_connection(ConnectionId=connection_id, Data=data)

    return post


def _post(connection_id: str, data: bytes) -> None:
    # The client is made on the first push, not for an event nobody is subscribed to.
    management_post()(connection_id, data)


def client_topic(topic_key: str) -> str:
    """The topic as the client named it: claims#u1 -> claims, signals#u4pr -> signals:u4pr."""
    kind, _, rest = topic_key.partition("#")
    return f"signals:{rest}" if kind == "signals" else kind


def frame(topic_key: str, detail: Mapping[str, Any]) -> bytes:
    document = {
        "type": "event",
        "topic": client_topic(topic_key),
        "id": detail.get("id"),
        "detailType": detail.get("detailType"),
        "event": detail,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def push(
    detail: Mapping[str, Any],
    repository: ConnectionRepository,
    post: Post,
    now: int,
) -> Outcome:
    """Pushes one event to every connection subscribed to one of its topics."""
    targets: list[tuple[Subscriber, bytes]] = []
    data = detail.get("data") if isinstance(detail.get("data"), Mapping) else {}
    for topic_key in topics_for_event(str(detail.get("detailType", "")), data or {}):
        payload = frame(topic_key, detail)
        targets += [(s, payload) for s in repository.subscribers(topic_key, now)]
    if not targets:
        return Outcome()
    if len(targets) == 1:  # the common case (one claimer, one recipient): no pool needed
        results = [_push_one(post, *targets[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(PUSH_CONCURRENCY, len(targets))) as pool:
            results = list(pool.map(lambda target: _push_one(post, *target), targets))
    gone = {s.connection_id for (s, _), r in zip(targets, results, strict=True) if r == "gone"}
    for connection_id in sorted(gone):
        repository.disconnect(connection_id)
    return Outcome(
        delivered=results.count("delivered"),
        gone=results.count("gone"),
        dropped=results.count("dropped"),
        retryable=results.count("retryable"),
    )


def _push_one(post: Post, subscriber: Subscriber, payload: bytes) -> str:
    fields = {"connectionId": subscriber.connection_id}
    try:
        post(subscriber.connection_id, payload)
    except ClientError as error:
        code = error_code(error)
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code == "GoneException" or status == 410:
            logger.info("connection gone; deleting it", extra=fields)
            return "gone"
        if code in _RETRYABLE_CODES or status >= 500 or status == 429:
            logger.warning("push failed; will retry", extra={**fields, "code": code})
            return "retryable"
        logger.warning("push refused; dropped", extra={**fields, "code": code})
        return "dropped"
    except BotoCoreError:  # timeouts, connection errors
        logger.warning("push did not complete; will retry", extra=fields)
        return "retryable"
    return "delivered"


def deliver_message(message: Mapping[str, Any]) -> None:
    detail = event_detail(message)
    logger.set_correlation_id(str(detail.get("correlationId") or "unknown"))
    outcome = push(detail, delivery().connections, _post, int(time.time()))
    for name in ("delivered", "gone", "dropped", "retryable"):
        if count := getattr(outcome, name):
            metrics.add_metric(name=f"Pushes_{name}", unit=MetricUnit.Count, value=count)
    if outcome.retryable:
        raise PushesFailed(f"{outcome.retryable} pushes may succeed later")


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_messages(
        event,
        context,
        deliver_message,
        logger=logger,
        min_remaining_ms=delivery().settings.consumer_min_remaining_ms,
    )
