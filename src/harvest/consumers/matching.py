"""The matching worker Lambda: listing, request and profile events -> the bounded MATCH# sets.

Not a stream reader (the table stream has two: the publisher and the derivation consumer):
the publisher puts `listing.*`, `request.*` and `profile.updated` on the bus,
`MatchingRule` delivers them to `MatchingQueue`, and this function is that queue's SQS
event source (batch size 1, partial batch responses by messageId, redrive to `MatchingDlq`
after maxReceiveCount receives).
It writes MATCH# sets only; the publisher, reading them from the stream, announces each new
entry as `match.suggested` (harvest.domain.matching). It never takes match.suggested itself,
so there is no loop through the bus.

A profile event is a possible change of its user's share radius, which decides which
listings their requests match: their open requests are refreshed (MatchingService.
refresh_owner), so a radius change re-matches at once instead of at the request's next write.

Thin by design: the message names the entity; MatchingService reads its *current* state
(not the event's), so duplicates, redeliveries and events arriving out of order all end in
the same sets, and a set is written only when its entries change.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, event_detail, process_messages
from harvest.domain.common import utc_now
from harvest.domain.matching import Side
from harvest.once import Once
from harvest.services.matching import MatchingService
from harvest.services.support import Clock
from harvest.settings import IN_LAMBDA, MatchingSettings
from harvest.store.dynamo import make_client
from harvest.store.matches import MatchRepository
from harvest.store.repository import Repository
from harvest.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SERVICE = "harvest-matching"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"
# The entity types whose events concern matching, and the id attribute of each.
SIDES = {"listing": Side.LISTING, "request": Side.REQUEST}
PROFILE = "profile"  # its entityId is the user id


class UnknownEvent(ValueError):
    """A message that is not a listing, request or profile event: it fails, and after
    maxReceiveCount receives the queue moves it to the DLQ (a poison message)."""


@dataclass(frozen=True, slots=True)
class Matching:
    settings: MatchingSettings
    service: MatchingService


def bootstrap(
    settings: MatchingSettings, client: DynamoDBClient | None = None, clock: Clock = utc_now
) -> Matching:
    """The matching worker's composition root. One client per container (boto3 honours
    AWS_ENDPOINT_URL, which is how the local runtime points it at its engine)."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    return Matching(settings, MatchingService(Repository(table), MatchRepository(table), clock))


matching = Once(lambda: bootstrap(MatchingSettings.from_environ(os.environ)))


def subject_of(message: Mapping[str, Any]) -> tuple[Side | None, str, str]:
    """(side, entity id, correlation id) of an SQS message carrying an EventBridge event;
    side None for a profile event (entity id: the user id)."""
    try:
        detail = event_detail(message)
        entity_type = str(detail["entityType"])
        side = None if entity_type == PROFILE else SIDES[entity_type]
        return (
            side,
            str(detail["entityId"]),
            str(detail.get("correlationId") or UNKNOWN_CORRELATION),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise UnknownEvent(
            f"message {message.get('messageId')} is not a listing, request or profile event"
        ) from error


@tracer.capture_method
def match_message(message: Mapping[str, Any]) -> None:
    side, changed_id, correlation_id = subject_of(message)
    logger.set_correlation_id(correlation_id)
    service = matching().service
    if side is None:
        outcome = service.refresh_owner(changed_id, correlation_id)
    else:
        outcome = service.refresh(side, changed_id, correlation_id)
    metrics.add_metric(name="MatchSetsWritten", unit=MetricUnit.Count, value=outcome.sets_written)
    metrics.add_metric(name="MatchSetsRead", unit=MetricUnit.Count, value=outcome.sets_read)
    logger.info(
        "matches refreshed",
        extra={
            "side": side.value if side else PROFILE,
            "entityId": changed_id,
            "setsRead": outcome.sets_read,
            "setsWritten": outcome.sets_written,
            "rowsRead": outcome.rows_read,
            "conflicts": outcome.conflicts,
        },
    )


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_messages(
        event,
        context,
        match_message,
        logger=logger,
        min_remaining_ms=matching().settings.consumer_min_remaining_ms,
    )
