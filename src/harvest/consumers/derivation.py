"""The derivation consumer Lambda: listing/request changes on the table stream -> day buckets,
then the insights of the areas the batch touched (DESIGN §5: at most two stream readers).

One of the table stream's two readers (the publisher is the other). Per batch:

1. Aggregation, record by record in order (AggregationService: marker + deltas in one
   transaction; harvest.store.stream decodes only what a contribution is made of).
2. Insights, once per area the aggregated records touched (the published cell, precision
   5, of each record and its precision-4 area, duplicates included, so a retry after a
   failed refresh still refreshes them): the cells first, in the order of their first
   record (InsightService: recompute from buckets, newer-computation guard), then the
   precision-4 areas, each by swapping the cells the batch changed into its sum.

A batch of 100 listing changes in one city cell refreshes at most 33 areas, not 300: the coalescing
the separate insight worker did on bucket records, now on the source records themselves,
with no second stream reader and no filter on the consumer's own writes. Failures: the batch
runner (harvest.consumers.batch.process_then_refresh) reports the earliest record that must
come again; both effects are idempotent, so what comes again twice is harmless.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, correlation_id_of, process_then_refresh
from harvest.domain.common import utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.once import Once
from harvest.services.aggregation import AggregationService
from harvest.services.insights import InsightService
from harvest.services.signals import SignalService
from harvest.services.support import Clock
from harvest.settings import IN_LAMBDA, DerivationSettings, signal_policy
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.stream import parse_source_change
from harvest.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SERVICE = "harvest-derivation"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"


@dataclass(frozen=True, slots=True)
class Derivation:
    settings: DerivationSettings
    aggregation: AggregationService
    insights: InsightService


def bootstrap(
    settings: DerivationSettings,
    client: DynamoDBClient | None = None,
    catalog: CropCatalog | None = None,
    clock: Clock = utc_now,
) -> Derivation:
    """The derivation consumer's composition root. One client per container (boto3 honours
    AWS_ENDPOINT_URL, which is how the local runtime points it at its engine)."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    catalog = catalog or load_catalog()
    derived = DerivedRepository(table, clock)
    policy = signal_policy(settings)
    signals = SignalService(derived, catalog, clock, policy)
    insights = InsightService(signals, InsightRepository(table, clock))
    return Derivation(settings, AggregationService(derived, catalog), insights)


derivation = Once(lambda: bootstrap(DerivationSettings.from_environ(os.environ)))


@tracer.capture_method
def aggregate_record(record: Mapping[str, Any]) -> tuple[str, ...]:
    """Applies one record to the buckets; returns the areas whose insights it concerns."""
    change = parse_source_change(record)  # the attributes a contribution needs, no more
    correlation_id = correlation_id_of(record) or UNKNOWN_CORRELATION
    outcome = derivation().aggregation.handle(change, correlation_id)
    if outcome.crop is not None:
        # Which crops of its cells the insight refresh must read again (services.insights).
        derivation().insights.touch(outcome.areas, outcome.crop)
    if outcome.decision == "applied":
        metrics.add_metric(name="BucketsUpdated", unit=MetricUnit.Count, value=outcome.buckets)
    elif outcome.decision == "duplicate":
        metrics.add_metric(name="RecordsSkipped", unit=MetricUnit.Count, value=1)
    return outcome.areas


@tracer.capture_method
def refresh_area(area: str, record: Mapping[str, Any]) -> None:
    correlation_id = correlation_id_of(record) or UNKNOWN_CORRELATION
    outcome = derivation().insights.refresh(area, correlation_id)
    metrics.add_metric(name=f"Insights_{outcome.decision}", unit=MetricUnit.Count, value=1)
    logger.info(
        "insight refreshed",
        extra={
            "area": area,
            "decision": outcome.decision,
            "asOfDay": outcome.insight.as_of_day.isoformat(),
        },
    )


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_then_refresh(
        event,
        context,
        aggregate_record,
        refresh_area,
        logger=logger,
        min_remaining_ms=derivation().settings.consumer_min_remaining_ms,
        rank=cells_first,
    )


def cells_first(area: str) -> int:
    """Finer areas first: a precision-4 insight is the sum of its cells' (services.insights),
    so it is refreshed after every cell of the batch."""
    return -len(area)
