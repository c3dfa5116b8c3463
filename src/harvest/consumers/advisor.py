"""The AI worker Lambda: `insight.generated` -> explanations per window, `guidance.requested`
-> grower guidance (DESIGN §5). The only code that calls Bedrock.

Not a stream reader (the table stream has two: the publisher and the derivation consumer):
the publisher puts both events on the bus, the rule `AdvisorRule` delivers them to
`AdvisorQueue`, and this function is that queue's SQS event source (partial batch responses
by messageId, redrive to `AdvisorDlq` after maxReceiveCount receives).

Thin by design: the record is decoded here, AdvisorService goes through the digest-keyed
cache (an unchanged input never calls the model twice) and falls back deterministically.
A new insight version is explained per window only when due (services.explain_debounce:
the classifications or their ranking changed, at most once per AI_EXPLAIN_DEBOUNCE_MINUTES).
The Bedrock client is created on the first model call, not at import (cold start), and not
at all when no model is configured (the local runtime: fallbacks only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.adapters.language_model import (
    ConverseModel,
    DisabledModel,
    LanguageModel,
    bedrock_client_factory,
)
from harvest.consumers.batch import BatchResponse, event_detail, process_messages
from harvest.domain.common import utc_now
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.entitlements import parse_tier
from harvest.domain.insight import windows_from_stored
from harvest.domain.signals import WindowSignals
from harvest.once import Once
from harvest.services.advisor import AdvisorService
from harvest.services.explain_debounce import DebouncedExplainer
from harvest.services.signals import SignalService
from harvest.services.support import Clock
from harvest.settings import IN_LAMBDA, AdvisorSettings, signal_policy
from harvest.store.advice import AdviceRepository
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.items import GuidanceItem
from harvest.store.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SERVICE = "harvest-ai"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"


@dataclass(frozen=True, slots=True)
class Advising:
    settings: AdvisorSettings
    advice: AdvisorService
    signals: SignalService
    insights: InsightRepository
    # Explanations go through the debounce (services.explain_debounce), on `advice`.
    explainer: DebouncedExplainer


def bootstrap(
    settings: AdvisorSettings,
    client: DynamoDBClient | None = None,
    model: LanguageModel | None = None,
    catalog: CropCatalog | None = None,
    clock: Clock = utc_now,
) -> Advising:
    """The AI worker's composition root; tests give their own client, model or clock."""
    table = Table(client or make_client(settings.aws_region), settings.table_name)
    policy = signal_policy(settings)
    signals = SignalService(
        DerivedRepository(table, clock), catalog or load_catalog(), clock, policy
    )
    if model is None:
        model = (
            ConverseModel(settings.bedrock_model_id, bedrock_client_factory(settings.aws_region))
            if settings.bedrock_model_id
            else DisabledModel()
        )
    store = AdviceRepository(table, consistent=False)
    service = AdvisorService(store, model, clock=clock, cache_ttl_hours=settings.ai_cache_ttl_hours)
    debounce = timedelta(minutes=settings.ai_explain_debounce_minutes)
    return Advising(
        settings=settings,
        advice=service,
        signals=signals,
        insights=InsightRepository(table, clock),
        explainer=DebouncedExplainer(service, store, debounce=debounce, clock=clock),
    )


advisor = Once(lambda: bootstrap(AdvisorSettings.from_environ(os.environ)))


class UnknownEvent(ValueError):
    """A message that is not an EventBridge event this worker subscribes to: it fails, and
    after maxReceiveCount receives the queue moves it to the DLQ (a poison message)."""


@dataclass(frozen=True, slots=True)
class DomainEventMessage:
    """The domain event an SQS message carries (the EventBridge event, as the rule's target
    delivers it: the envelope of harvest.domain.events is its `detail`)."""

    event_id: str
    detail_type: str
    entity_id: str
    version: int
    correlation_id: str
    data: Mapping[str, Any]


def event_of(message: Mapping[str, Any]) -> DomainEventMessage:
    """Decodes a message body; numbers as Decimal, as DynamoDB gives them (exact)."""
    try:
        detail = event_detail(message, exact=True)
        return DomainEventMessage(
            event_id=str(detail["id"]),
            detail_type=str(detail["detailType"]),
            entity_id=str(detail["entityId"]),
            version=int(detail["version"]),
            correlation_id=str(detail.get("correlationId") or UNKNOWN_CORRELATION),
            data=dict(detail["data"]),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise UnknownEvent(f"message {message.get('messageId')} is not a domain event") from error


@tracer.capture_method
def advise_message(message: Mapping[str, Any]) -> None:
    """One message: explain a new insight, or answer a guidance request. Both are idempotent
    under redelivery and duplicates: the explanation goes through the debounce and the digest
    cache (the same insight twice is "unchanged", no model call), a guidance request already
    answered returns the stored answer (AdvisorService.guide)."""
    event = event_of(message)
    logger.set_correlation_id(event.correlation_id)
    logger.append_keys(eventId=event.event_id)
    if event.detail_type == "insight.generated":
        explain_insight(event)
    elif event.detail_type == "guidance.requested":
        answer_guidance(event)
    else:
        raise UnknownEvent(f"{event.detail_type} is not an event the AI worker handles")


def explain_insight(event: DomainEventMessage) -> None:
    # Decided on the event's own insight first: most are unchanged or debounced, and then
    # nothing is read but the area's Explained item. Should a window be due, queues do not
    # keep order: the newest insight known is explained, the stored one unless the event is
    # newer than what the read returned, so a late old event explains nothing old.
    area = str(event.data["area"])
    carried = windows_from_stored(event.data["windows"], area)

    def newest() -> tuple[WindowSignals, ...]:
        # Eventually consistent (half the read units): a read a moment behind returns an
        # older version, and then the event's own insight is the newer one.
        stored = advisor().insights.current(event.entity_id, consistent=False)
        if stored is None or stored.version < event.version:
            return carried
        return stored.insight.windows

    decisions = advisor().explainer.explain_all(area, carried, event.correlation_id, newest=newest)
    for decision in decisions:
        metrics.add_metric(name=f"Explanations_{decision}", unit=MetricUnit.Count, value=1)


def answer_guidance(event: DomainEventMessage) -> None:
    request = GuidanceItem.decode({**event.data, "correlationId": event.correlation_id})
    worker = advisor()
    view = worker.signals.for_area(request.area)
    advice = worker.advice.guide(
        request.guidance_id,
        view.signals.geohash,
        view.signals,
        request.crop,
        parse_tier(request.tier),
        event.correlation_id,
    )
    metrics.add_metric(name=f"Guidance_{advice.source}", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_messages(
        event,
        context,
        advise_message,
        logger=logger,
        min_remaining_ms=advisor().settings.consumer_min_remaining_ms,
    )
