"""The publisher Lambda: core changes on the table stream -> EventBridge domain events.

Thin by design: harvest.store.stream decides which event (if any) a record is, the
EventPublisher puts it on the bus (retrying failed entries, never dropping one), and the
batch runner processes the records in order and reports the first failure to Lambda.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, process_batch
from harvest.once import Once
from harvest.services.publishing import EventPublisher
from harvest.settings import IN_LAMBDA, PublisherSettings
from harvest.store.dynamo import CLIENT_CONFIG
from harvest.store.stream import events_from_record

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SERVICE = "harvest-publisher"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)


@dataclass(frozen=True, slots=True)
class Publishing:
    settings: PublisherSettings
    events: EventPublisher


def bootstrap(settings: PublisherSettings, client: EventBridgeClient | None = None) -> Publishing:
    """The publisher's composition root. One client per container (boto3 honours
    AWS_ENDPOINT_URL_EVENTBRIDGE, which is how the local runtime points it at its bus)."""
    if client is None:
        client = boto3.client("events", region_name=settings.aws_region, config=CLIENT_CONFIG)
    return Publishing(settings, EventPublisher(client, settings.event_bus_name))


publishing = Once(lambda: bootstrap(PublisherSettings.from_environ(os.environ)))


@tracer.capture_method
def publish_record(record: Mapping[str, Any]) -> None:
    events = events_from_record(record)
    if not events:
        return
    publishing().events.publish(events)
    metrics.add_metric(name="EventsPublished", unit=MetricUnit.Count, value=len(events))


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(
        event,
        context,
        publish_record,
        logger=logger,
        min_remaining_ms=publishing().settings.consumer_min_remaining_ms,
    )
