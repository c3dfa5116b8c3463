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

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.adapters.language_model import (
    ConverseModel,
    DisabledModel,
    LanguageModel,
    bedrock_client_factory,
)
from harvest.consumers.batch import BatchResponse, process_messages
from harvest.domain.entitlements import parse_tier
from harvest.domain.signals import SignalPolicy
from harvest.services.advisor import AdvisorService
from harvest.services.explain_debounce import DebouncedExplainer
from harvest.services.signals import SignalService
from harvest.settings import IN_LAMBDA, get_settings
from harvest.store.advice import AdviceRepository
from harvest.store.codec import item_to_guidance
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository, stored_insight
from harvest.store.table import Table

SERVICE = "harvest-ai"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="HarvestExchange", service=SERVICE)

UNKNOWN_CORRELATION = "unknown"


@cache
def advisor() -> tuple[AdvisorService, SignalService]:
    settings = get_settings()
    table = Table(make_client(settings.aws_region), settings.table_name)
    model: LanguageModel = (
        ConverseModel(settings.bedrock_model_id, bedrock_client_factory(settings.aws_region))
        if settings.bedrock_model_id
        else DisabledModel()
    )
    service = AdvisorService(
        AdviceRepository(table), model, cache_ttl_hours=settings.ai_cache_ttl_hours
    )
    signals = SignalService(DerivedRepository(table), policy=SignalPolicy(k=settings.signal_k))
    return service, signals


@cache
def insight_repository() -> InsightRepository:
    settings = get_settings()
    return InsightRepository(Table(make_client(settings.aws_region), settings.table_name))


def explainer() -> DebouncedExplainer:
    """Explanations through the debounce (services.explain_debounce), on advisor()'s service
    (not cached itself: it follows advisor()'s cache)."""
    service = advisor()[0]
    minutes = get_settings().ai_explain_debounce_minutes
    store = service.repository
    if not isinstance(store, AdviceRepository):  # pragma: no cover - wiring guard
        raise TypeError("the advisor's repository must be an AdviceRepository")
    return DebouncedExplainer(service, store, debounce=timedelta(minutes=minutes))


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
        body = json.loads(str(message.get("body", "")), parse_float=Decimal)
        detail = body["detail"]
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
    # Queues do not keep order: explain the newest insight known, the stored one unless the
    # event is newer than what the read returned, so a late old event explains nothing old.
    stored = insight_repository().current(event.entity_id)
    if stored is None or stored.version < event.version:
        stored = stored_insight(dict(event.data))
    for window in stored.insight.windows:
        decision = explainer().explain(stored.insight.area, window, event.correlation_id)
        metrics.add_metric(name=f"Explanations_{decision}", unit=MetricUnit.Count, value=1)


def answer_guidance(event: DomainEventMessage) -> None:
    request = item_to_guidance({**event.data, "correlationId": event.correlation_id})
    service, signals = advisor()
    view = signals.for_area(request.area)
    advice = service.guide(
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
        min_remaining_ms=get_settings().consumer_min_remaining_ms,
    )
