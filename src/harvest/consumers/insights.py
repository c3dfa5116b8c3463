"""The insight worker Lambda: day-bucket changes on the table stream -> INSIGHT# per area.

Thin by design: the records of a batch are coalesced per area (six bucket writes of one
listing change touch three areas), InsightService recomputes each area once and writes it
under the newer-computation guard. The publisher turns a new insight version into
`insight.generated`; the AI worker explains it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, correlation_id_of, process_grouped
from harvest.domain.signals import SignalPolicy
from harvest.services.insights import InsightService
from harvest.services.signals import SignalService
from harvest.settings import IN_LAMBDA, get_settings
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository, bucket_area
from harvest.store.table import Table

SERVICE = "harvest-insights"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"


@cache
def insight_service() -> InsightService:
    """One client per container, created on first use."""
    settings = get_settings()
    table = Table(make_client(settings.aws_region), settings.table_name)
    signals = SignalService(DerivedRepository(table), policy=SignalPolicy(k=settings.signal_k))
    return InsightService(signals, InsightRepository(table))


def area_of(record: Mapping[str, Any]) -> str | None:
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk, sk = (keys.get(name, {}).get("S") for name in ("PK", "SK"))
    return bucket_area(pk, sk)


@tracer.capture_method
def refresh_area(area: str, record: Mapping[str, Any]) -> None:
    correlation_id = correlation_id_of(record) or UNKNOWN_CORRELATION
    outcome = insight_service().refresh(area, correlation_id)
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
    return process_grouped(
        event,
        context,
        area_of,
        refresh_area,
        logger=logger,
        min_remaining_ms=get_settings().consumer_min_remaining_ms,
    )
