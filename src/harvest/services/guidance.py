"""Grower guidance and area explanations as the API serves them (DESIGN §5, §6).

The API only ever writes the core guidance request (with one use of the owner's daily
budget) and reads what the AI worker derived: the answer of a request, or the cached
explanation of an area's window. Bedrock is called by the worker alone. An explanation that
is not cached yet (the worker has not caught up, or the window moved on with the calendar)
is the deterministic fallback computed from the same published signals, marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from harvest.domain.advice import Advice, explanation_digest, fallback_explanation
from harvest.domain.common import Actor, new_id
from harvest.domain.crops import CropCatalog
from harvest.domain.errors import DailyBudgetExhausted, NotFound, ValidationFailed
from harvest.domain.geo import validate_geohash
from harvest.domain.guidance import Guidance, seconds_until_next_utc_day
from harvest.domain.insight import window_shape
from harvest.domain.signals import WINDOWS
from harvest.services.signals import SignalService
from harvest.services.support import OwnedPage, ServiceContext, idempotency_token, owned_page
from harvest.store.advice import LatestExplanation
from harvest.store.repository import Created, GuardFailed, Repository

__all__ = ["Explanation", "GuidanceDraft", "GuidanceService", "GuidanceStatus"]

GUIDANCE_AREA_PRECISION = 5
MAX_GUIDANCE_PAGE = 20


class AdviceReader(Protocol):
    def cached(self, digest: str, now: datetime) -> Advice | None: ...

    def latest(self, area: str, days: int) -> LatestExplanation | None: ...

    def answer(self, guidance_id: str) -> Advice | None: ...


@dataclass(frozen=True, slots=True)
class GuidanceDraft:
    area: str | None = None
    crop: str | None = None
    guidance_id: str | None = None


@dataclass(frozen=True, slots=True)
class GuidanceStatus:
    guidance: Guidance
    answer: Advice | None  # None: still pending


@dataclass(frozen=True, slots=True)
class Explanation:
    area: str
    days: int
    as_of: str
    advice: Advice
    cached: bool  # False: computed now as the fallback, the worker has not answered yet


class GuidanceService:
    def __init__(
        self,
        repository: Repository,
        advice: AdviceReader,
        signals: SignalService,
        catalog: CropCatalog,
        context: ServiceContext,
        *,
        daily_budget: int,
        model_id: str | None,
    ) -> None:
        self.repository = repository
        self.advice = advice
        self.signals = signals
        self.catalog = catalog
        self.context = context
        self.daily_budget = daily_budget
        self.model_id = model_id

    def ask(
        self, actor: Actor, draft: GuidanceDraft, idempotency_key: str | None = None
    ) -> Created[Guidance]:
        area = self._area(actor, draft.area)
        crop = self.catalog.get(draft.crop).slug if draft.crop else None
        now = self.context.clock()
        guidance = Guidance(
            guidance_id=draft.guidance_id or new_id(),
            owner_id=actor.user_id,
            area=area,
            crop=crop,
            tier=actor.tier,
            version=1,
            created_at=now,
            updated_at=now,
            correlation_id=actor.correlation_id,
        )
        token = idempotency_token(
            self.context, actor, "guidance", draft, idempotency_key, draft.guidance_id
        )
        # The counter outlives its day by one, then TTL removes it.
        expires = int((now + timedelta(days=2)).timestamp())
        try:
            return self.repository.create_guidance(guidance, token, self.daily_budget, expires)
        except GuardFailed as error:
            raise DailyBudgetExhausted(
                f"the daily budget of {self.daily_budget} guidance requests is used up; "
                "it renews at 00:00 UTC",
                retry_after_seconds=seconds_until_next_utc_day(now),
            ) from error

    def status(self, actor: Actor, guidance_id: str) -> GuidanceStatus:
        guidance = self.repository.guidance_by_id(guidance_id)
        # Someone else's request is as absent as a missing one: ids are not enumerable.
        if guidance is None or guidance.owner_id != actor.user_id:
            raise NotFound("guidance request not found")
        return GuidanceStatus(guidance, self.advice.answer(guidance_id))

    def list_own(
        self, actor: Actor, limit: int | None, cursor: str | None
    ) -> OwnedPage[GuidanceStatus]:
        """Own guidance requests, newest first, each with its answer once there is one (a
        read per item: pages are capped at MAX_GUIDANCE_PAGE)."""
        page = owned_page(
            self.context,
            f"guidance_by_owner:{actor.user_id}",
            min(limit or MAX_GUIDANCE_PAGE, MAX_GUIDANCE_PAGE),
            cursor,
            lambda size, start: self.repository.guidance_by_owner(actor.user_id, size, start),
        )
        items = [GuidanceStatus(item, self.advice.answer(item.guidance_id)) for item in page.items]
        return OwnedPage(items, page.next_cursor)

    def explain(self, geohash: str, days: int) -> Explanation:
        if days not in WINDOWS:
            raise ValidationFailed(f"days must be one of {', '.join(map(str, WINDOWS))}")
        view = self.signals.for_area(geohash)
        area = view.signals.geohash
        window = next(w for w in view.signals.windows if w.days == days)
        cached = self.advice.cached(
            explanation_digest(area, window, self.model_id), self.context.clock()
        )
        if cached is not None:
            return Explanation(area, days, view.as_of, cached, cached=True)
        # The worker explains a window again only when its shape changed (explain_debounce):
        # figures that moved since (also by the calendar alone) keep the latest explanation.
        latest = self.advice.latest(area, days)
        if latest is not None and latest.shape == window_shape(window):
            return Explanation(area, days, view.as_of, latest.advice, cached=True)
        return Explanation(area, days, view.as_of, fallback_explanation(area, window), False)

    def _area(self, actor: Actor, area: str | None) -> str:
        if area:
            return validate_geohash(area, min_precision=4, max_precision=6)
        profile = self.repository.profile_by_user(actor.user_id)
        home = profile.home_location if profile else None
        if home is None:
            raise ValidationFailed("give an area (geohash) or set a home location with PUT /me")
        return home.geohash[:GUIDANCE_AREA_PRECISION]
