"""The aggregator Lambda: listing/request changes on the table stream -> day buckets.

Thin by design: harvest.store.stream decodes what the aggregation reads of the record (not
the whole images: bench/record_overhead.py), AggregationService decides and
applies (marker + deltas in one transaction), and the batch runner processes the records in
order and reports the first failure to Lambda.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, correlation_id_of, process_batch
from harvest.services.aggregation import AggregationService
from harvest.settings import IN_LAMBDA, get_settings
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.stream import parse_source_change
from harvest.store.table import Table

SERVICE = "harvest-aggregator"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"


@cache
def aggregation_service() -> AggregationService:
    """One client per container, created on first use (boto3 honours AWS_ENDPOINT_URL, which
    is how the local runtime points it at its engine)."""
    settings = get_settings()
    table = Table(make_client(settings.aws_region), settings.table_name)
    return AggregationService(DerivedRepository(table))


@tracer.capture_method
def aggregate_record(record: Mapping[str, Any]) -> None:
    change = parse_source_change(record)  # the attributes a contribution needs, no more
    correlation_id = correlation_id_of(record) or UNKNOWN_CORRELATION
    outcome = aggregation_service().handle(change, correlation_id)
    if outcome.decision == "applied":
        metrics.add_metric(name="BucketsUpdated", unit=MetricUnit.Count, value=outcome.buckets)
    elif outcome.decision == "duplicate":
        metrics.add_metric(name="RecordsSkipped", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(
        event,
        context,
        aggregate_record,
        logger=logger,
        min_remaining_ms=get_settings().consumer_min_remaining_ms,
    )
