"""AdvisorService: AI explanations and grower guidance through the cache (DESIGN §5 AI worker).

For each request: the inputs' digest -> a live cache entry is returned as is (an unchanged
input never calls the model twice) -> otherwise the model, its reply validated by
``parse_advice`` -> on an unavailable model or unusable reply, the deterministic fallback.
Model answers are cached for ``cache_ttl_hours``, fallbacks for ``fallback_ttl_minutes`` only,
so the model is tried again once it may have recovered. Every model call made is recorded as
usage (also when its reply was unusable), before the cache entry is written: a replay after
a failed cache write repeats the call, and the digest-keyed usage record counts it once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger

from harvest.adapters.language_model import LanguageModel, ModelUnavailable
from harvest.domain.advice import (
    Advice,
    AdviceKind,
    Prompt,
    explanation_digest,
    explanation_prompt,
    fallback_explanation,
    fallback_guidance,
    guidance_digest,
    guidance_prompt,
    parse_advice,
)
from harvest.domain.common import utc_now
from harvest.domain.entitlements import Tier
from harvest.domain.signals import AreaSignals, WindowSignals
from harvest.store.advice import ModelCall

__all__ = ["AdviceStore", "AdvisorService"]

logger = Logger(service="harvest-ai", child=True)


class AdviceStore(Protocol):
    """What the service needs of the repository (harvest.store.advice.AdviceRepository)."""

    def cached(self, digest: str, now: datetime) -> Advice | None: ...

    def put_cached(
        self,
        digest: str,
        advice: Advice,
        *,
        kind: AdviceKind,
        area: str,
        days: int | None,
        expires_at: datetime,
        correlation_id: str,
        now: datetime,
    ) -> bool: ...

    def answer(self, guidance_id: str) -> Advice | None: ...

    def put_answer(
        self, guidance_id: str, advice: Advice, *, digest: str, correlation_id: str, now: datetime
    ) -> Advice: ...

    def record_usage(self, call: ModelCall, *, correlation_id: str, now: datetime) -> None: ...


class AdvisorService:
    def __init__(
        self,
        repository: AdviceStore,
        model: LanguageModel,
        *,
        clock: Callable[[], datetime] = utc_now,
        cache_ttl_hours: int = 24,
        fallback_ttl_minutes: int = 60,
    ) -> None:
        if cache_ttl_hours < 1 or fallback_ttl_minutes < 1:
            raise ValueError("cache_ttl_hours and fallback_ttl_minutes must be >= 1")
        self.repository = repository
        self.model = model
        self.clock = clock
        self.cache_ttl = timedelta(hours=cache_ttl_hours)
        self.fallback_ttl = timedelta(minutes=fallback_ttl_minutes)

    def explain(self, area: str, window: WindowSignals, correlation_id: str) -> Advice:
        """The explanation of one window of an area, from the cache when its inputs are."""
        digest = explanation_digest(area, window, self.model.model_id)
        return self._through_cache(
            digest,
            kind="explanation",
            area=area,
            days=window.days,
            prompt=lambda: explanation_prompt(area, window),
            fallback=lambda: fallback_explanation(area, window),
            correlation_id=correlation_id,
        )

    def guide(
        self,
        guidance_id: str,
        area: str,
        signals: AreaSignals,
        crop: str | None,
        tier: Tier,
        correlation_id: str,
    ) -> Advice:
        """Answer a guidance request once: a replay returns the stored answer, no model call."""
        stored = self.repository.answer(guidance_id)
        if stored is not None:
            logger.info(
                "guidance already answered",
                extra={"guidanceId": guidance_id, "correlationId": correlation_id},
            )
            return stored
        digest = guidance_digest(area, signals, crop, tier, self.model.model_id)
        advice = self._through_cache(
            digest,
            kind="guidance",
            area=area,
            days=None,
            prompt=lambda: guidance_prompt(area, signals, crop, tier),
            fallback=lambda: fallback_guidance(area, signals, crop, tier),
            correlation_id=correlation_id,
        )
        return self.repository.put_answer(
            guidance_id, advice, digest=digest, correlation_id=correlation_id, now=self.clock()
        )

    def _through_cache(
        self,
        digest: str,
        *,
        kind: AdviceKind,
        area: str,
        days: int | None,
        prompt: Callable[[], Prompt],
        fallback: Callable[[], Advice],
        correlation_id: str,
    ) -> Advice:
        context = {"digest": digest, "kind": kind, "area": area, "correlationId": correlation_id}
        now = self.clock()
        hit = self.repository.cached(digest, now)
        if hit is not None:
            logger.info("advice cache hit", extra={**context, "source": hit.source})
            return hit
        advice = self._ask(digest, kind, prompt(), correlation_id, now) or fallback()
        ttl = self.cache_ttl if advice.source == "bedrock" else self.fallback_ttl
        stored = self.repository.put_cached(
            digest,
            advice,
            kind=kind,
            area=area,
            days=days,
            expires_at=now + ttl,
            correlation_id=correlation_id,
            now=now,
        )
        logger.info("advice generated", extra={**context, "source": advice.source})
        if not stored:
            # A concurrent computation cached a model answer meanwhile: it is the better one.
            return self.repository.cached(digest, now) or advice
        return advice

    def _ask(
        self, digest: str, kind: AdviceKind, prompt: Prompt, correlation_id: str, now: datetime
    ) -> Advice | None:
        """The model's advice, or None to fall back; records usage of any call made."""
        model_id = self.model.model_id
        try:
            reply = self.model.complete(prompt)
        except ModelUnavailable as error:
            # No model configured is the local default, not a fault worth a warning.
            log = (
                logger.info if error.attempts == 0 and error.code == "Disabled" else logger.warning
            )
            log(
                "model unavailable, using the fallback",
                extra={
                    "digest": digest,
                    "code": error.code,
                    "attempts": error.attempts,
                    "correlationId": correlation_id,
                },
            )
            if error.attempts:
                # Failed calls bill no tokens but still count against the model's quota.
                failed = ModelCall(digest, kind, model_id, "unavailable", 0, 0, error.attempts, 0)
                self._record(failed, correlation_id, now)
            return None
        advice = parse_advice(reply.text, model_id or "unknown")
        call = ModelCall(
            digest=digest,
            kind=kind,
            model_id=model_id,
            outcome="ok" if advice is not None else "unusable",
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            attempts=reply.attempts,
            latency_ms=reply.latency_ms,
        )
        self._record(call, correlation_id, now)
        if advice is None:
            logger.warning(
                "model reply unusable, using the fallback",
                extra={
                    "digest": digest,
                    "stopReason": reply.stop_reason,
                    "correlationId": correlation_id,
                },
            )
        return advice

    def _record(self, call: ModelCall, correlation_id: str, now: datetime) -> None:
        self.repository.record_usage(call, correlation_id=correlation_id, now=now)
