"""The AI worker Lambda: new insight versions -> explanations per window, new guidance
requests -> grower guidance (DESIGN §5). The only code that calls Bedrock.

Thin by design: the record is decoded here, AdvisorService goes through the digest-keyed
cache (an unchanged input never calls the model twice) and falls back deterministically.
A new insight version is explained per window only when due (services.explain_debounce:
the classifications or their ranking changed, at most once per AI_EXPLAIN_DEBOUNCE_MINUTES).
The Bedrock client is created on the first model call, not at import (cold start), and not
at all when no model is configured (the local runtime: fallbacks only).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from harvest.consumers.batch import BatchResponse, correlation_id_of, process_batch
from harvest.domain.entitlements import parse_tier
from harvest.domain.signals import SignalPolicy
from harvest.services.advisor import AdvisorService
from harvest.services.explain_debounce import DebouncedExplainer
from harvest.services.model_client import (
    ConverseModel,
    DisabledModel,
    LanguageModel,
    bedrock_client_factory,
)
from harvest.services.signals import SignalService
from harvest.settings import IN_LAMBDA, get_settings
from harvest.store.advice import AdviceRepository
from harvest.store.codec import item_to_guidance
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import stored_insight
from harvest.store.stream import parse_record
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


def explainer() -> DebouncedExplainer:
    """Explanations through the debounce (services.explain_debounce), on advisor()'s service
    (not cached itself: it follows advisor()'s cache)."""
    service = advisor()[0]
    minutes = get_settings().ai_explain_debounce_minutes
    store = service.repository
    if not isinstance(store, AdviceRepository):  # pragma: no cover - wiring guard
        raise TypeError("the advisor's repository must be an AdviceRepository")
    return DebouncedExplainer(service, store, debounce=timedelta(minutes=minutes))


@tracer.capture_method
def advise_record(record: Mapping[str, Any]) -> None:
    change = parse_record(record)
    correlation_id = correlation_id_of(record) or UNKNOWN_CORRELATION
    if change.new is None or change.event_name == "REMOVE":
        return
    kind = change.new.get("type")
    service, signals = advisor()
    if kind == "insight":
        # A MODIFY that kept the version only moved the insight's guard: nothing to explain.
        if change.old is not None and change.old.get("version") == change.new.get("version"):
            return
        insight = stored_insight(dict(change.new)).insight
        for window in insight.windows:
            decision = explainer().explain(insight.area, window, correlation_id)
            metrics.add_metric(name=f"Explanations_{decision}", unit=MetricUnit.Count, value=1)
    elif kind == "guidance" and change.event_name == "INSERT":
        request = item_to_guidance(change.new)
        view = signals.for_area(request.area)
        advice = service.guide(
            request.guidance_id,
            view.signals.geohash,
            view.signals,
            request.crop,
            parse_tier(request.tier),
            correlation_id,
        )
        metrics.add_metric(name=f"Guidance_{advice.source}", unit=MetricUnit.Count, value=1)


@metrics.log_metrics(capture_cold_start_metric=IN_LAMBDA)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_batch(
        event,
        context,
        advise_record,
        logger=logger,
        min_remaining_ms=get_settings().consumer_min_remaining_ms,
    )
