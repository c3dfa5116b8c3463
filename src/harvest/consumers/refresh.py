"""The insight refresher Lambda: a scheduled tick -> recompute the insights whose windows a
day boundary has moved (services.refresh), so the signals route stays O(1) and right "as of
now" for areas with no new events.

Not a stream reader: `RefreshRule` (a schedule on the default bus) -> `RefreshQueue` -> this
function (SQS event source, partial batch responses by messageId, redrive to `RefreshDlq`).
The tick carries nothing but its id: what is due is read from the table (DueIndex), so a
lost tick is made up by the next one and a doubled one finds nothing left to do.

A message fails (and comes back, then reaches the DLQ, whose alarm says so) when an area
could not be refreshed or is not an EventBridge scheduled event. Running out of time is no
failure: the areas not reached are still due at the next tick.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, process_messages
from harvest.domain.common import utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.once import Once
from harvest.services.insights import InsightService
from harvest.services.refresh import RefreshReport, RefreshService
from harvest.services.signals import SignalService
from harvest.services.support import Clock
from harvest.settings import IN_LAMBDA, RefreshSettings, signal_policy
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.refresh_index import DueInsightIndex
from harvest.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SERVICE = "harvest-refresh"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

SCHEDULED_SOURCE = "aws.events"
SCHEDULED_DETAIL_TYPE = "Scheduled Event"


class NotATick(ValueError):
    """A message that is no scheduled event: it fails, and reaches the DLQ (poison)."""


class AreasFailed(RuntimeError):
    """Some due areas could not be refreshed: the tick fails so that it comes back (and,
    after maxReceiveCount receives, the DLQ alarm says an area keeps failing)."""


class TickRunner(Protocol):
    """What a tick runs (RefreshService; tests give a fake)."""

    def run(self, correlation_id: str, *, time_left: Callable[[], bool] = ...) -> RefreshReport: ...


@dataclass(frozen=True, slots=True)
class Refresher:
    settings: RefreshSettings
    service: TickRunner


def bootstrap(
    settings: RefreshSettings,
    client: DynamoDBClient | None = None,
    catalog: CropCatalog | None = None,
    clock: Clock = utc_now,
) -> Refresher:
    """The refresher's composition root: the derivation consumer's InsightService (the same
    computation, guard and disclosure rules) over the due index. One client per container;
    one clock, so the due query and the recomputation agree on what today is."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    signals = SignalService(
        DerivedRepository(table, clock), catalog or load_catalog(), clock,
        signal_policy(settings),
    )  # fmt: skip
    insights = InsightService(signals, InsightRepository(table, clock))
    return Refresher(settings, RefreshService(DueInsightIndex(table), insights, clock=clock))


refresher = Once(lambda: bootstrap(RefreshSettings.from_environ(os.environ)))


def tick_id(message: Mapping[str, Any]) -> str:
    """The id of the scheduled event a message carries; raises NotATick otherwise."""
    try:
        body = json.loads(str(message.get("body", "")))
    except json.JSONDecodeError as error:
        raise NotATick("the message body is not JSON") from error
    if (
        not isinstance(body, dict)
        or body.get("source") != SCHEDULED_SOURCE
        or body.get("detail-type") != SCHEDULED_DETAIL_TYPE
    ):
        raise NotATick("the message is not an EventBridge scheduled event")
    return str(body.get("id") or message.get("messageId") or "tick")


def _record(report: RefreshReport) -> None:
    for decision, count in report.decisions.items():
        metrics.add_metric(name=f"Insights_{decision}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="AreasFailed", unit=MetricUnit.Count, value=len(report.failed))
    logger.info(
        "due insights refreshed",
        extra={
            "today": report.today.isoformat(),
            "decisions": dict(report.decisions),
            "failed": report.failed,
            "stoppedEarly": report.stopped_early,
        },
    )


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    min_remaining_ms = refresher().settings.consumer_min_remaining_ms

    def time_left() -> bool:
        return context.get_remaining_time_in_millis() >= min_remaining_ms

    def run_tick(message: Mapping[str, Any]) -> None:
        correlation_id = f"refresh-{tick_id(message)}"
        logger.set_correlation_id(correlation_id)
        report = refresher().service.run(correlation_id, time_left=time_left)
        _record(report)
        if report.failed:
            raise AreasFailed(f"{len(report.failed)} due areas failed: {sorted(report.failed)}")

    return process_messages(
        event, context, run_tick, logger=logger, min_remaining_ms=min_remaining_ms
    )
