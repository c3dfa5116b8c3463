"""AdvisorService with a Stubber-backed ConverseModel and an in-memory AdviceStore."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from harvest.adapters.language_model import ConverseModel, DisabledModel
from harvest.domain.advice import (
    Advice,
    AdviceKind,
    explanation_digest,
    fallback_explanation,
    fallback_guidance,
)
from harvest.domain.entitlements import Tier
from harvest.domain.signals import AreaSignals, DayTotals, WindowSignals, compute_signals
from harvest.services.advisor import AdvisorService
from harvest.store.advice import ModelCall
from support.bedrock import converse_response
from support.clock import FakeClock

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
AREA = "u33d"
NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
CID = "corr-ai-1"
ANSWER = {
    "headline": "Tomatoes are scarce around u33d",
    "reasoning": ["Demand 12 kg is four times the 3 kg offered."],
    "actions": ["List any tomatoes you can spare."],
}


def _signals(tomato_demand: str = "12") -> AreaSignals:
    day = date(2026, 5, 19)
    return compute_signals(
        AREA,
        NOW.date(),
        [
            DayTotals(
                day,
                "tomato",
                Decimal(3),
                Decimal(tomato_demand),
                3,
                4,
                7,  # u-1 .. u-7: k per kind (domain.disclosure.region_safe)
            ),
            DayTotals(
                day,
                "zucchini",
                Decimal(40),
                Decimal(5),
                5,
                3,
                8,  # u-8 .. u-15
            ),
        ],
    )


def _week(signals: AreaSignals) -> WindowSignals:
    return signals.windows[0]


@dataclass
class Entry:
    advice: Advice
    kind: AdviceKind
    area: str
    days: int | None
    expires_at: datetime
    correlation_id: str


class MemoryStore:
    """The AdviceStore contract in memory, including 'a fallback never displaces a live
    model answer' and 'the first answer of a guidance request stays'."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        self.answers: dict[str, tuple[Advice, str]] = {}
        self.usage: dict[tuple[str, str], ModelCall] = {}

    def cached(self, digest: str, now: datetime) -> Advice | None:
        entry = self.entries.get(digest)
        return entry.advice if entry is not None and entry.expires_at > now else None

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
    ) -> bool:
        live = self.entries.get(digest)
        if (
            advice.source == "fallback"
            and live is not None
            and live.expires_at > now
            and live.advice.source == "bedrock"
        ):
            return False
        self.entries[digest] = Entry(advice, kind, area, days, expires_at, correlation_id)
        return True

    def answer(self, guidance_id: str) -> Advice | None:
        stored = self.answers.get(guidance_id)
        return stored[0] if stored else None

    def put_answer(
        self, guidance_id: str, advice: Advice, *, digest: str, correlation_id: str, now: datetime
    ) -> Advice:
        return self.answers.setdefault(guidance_id, (advice, digest))[0]

    def record_usage(self, call: ModelCall, *, correlation_id: str, now: datetime) -> None:
        self.usage[(now.date().isoformat(), call.digest)] = call


def reply(text: str) -> dict[str, Any]:
    return converse_response(text, input_tokens=300, output_tokens=90)


@pytest.fixture
def stubber() -> Iterator[Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def advisor(
    stubber: Stubber, store: MemoryStore, clock: FakeClock, sleeps: list[float]
) -> AdvisorService:
    model = ConverseModel(
        MODEL,
        lambda: stubber.client,
        sleep=sleeps.append,
        random=lambda: 0.5,
        monotonic=lambda: 7.0,
    )
    return AdvisorService(store, model, clock=clock)


def test_model_answer_is_returned_cached_for_a_day_and_its_usage_recorded(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    # Given Bedrock answers with valid JSON
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    # When the week of the area is explained
    advice = advisor.explain(AREA, _week(_signals()), CID)
    # Then the advice is the model's, cached for 24 hours, and its tokens are on record
    assert advice == Advice(
        headline=str(ANSWER["headline"]),
        reasoning=tuple(ANSWER["reasoning"]),
        actions=tuple(ANSWER["actions"]),
        source="bedrock",
        model_id=MODEL,
    )
    digest = explanation_digest(AREA, _week(_signals()), MODEL)
    entry = store.entries[digest]
    assert (entry.advice, entry.kind, entry.days) == (advice, "explanation", 7)
    assert (entry.expires_at, entry.correlation_id) == (NOW + timedelta(hours=24), CID)
    assert store.usage == {
        ("2026-05-20", digest): ModelCall(digest, "explanation", MODEL, "ok", 300, 90, 1, 0)
    }


def test_throttled_call_is_retried_and_counted_as_one_call_of_two_attempts(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore, sleeps: list[float]
) -> None:
    stubber.add_client_error("converse", "ThrottlingException", http_status_code=429)
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    advice = advisor.explain(AREA, _week(_signals()), CID)
    assert advice.source == "bedrock"
    assert sleeps == [pytest.approx(0.1)]
    [call] = store.usage.values()
    assert (call.outcome, call.attempts) == ("ok", 2)


def test_persistent_failure_serves_the_fallback_cached_briefly(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    # Given Bedrock throttles every attempt
    for _ in range(4):
        stubber.add_client_error("converse", "ThrottlingException", http_status_code=429)
    window = _week(_signals())
    # When the week is explained
    advice = advisor.explain(AREA, window, CID)
    # Then the deterministic fallback is served, marked as such, cached for an hour only
    assert advice == fallback_explanation(AREA, window)
    assert (advice.source, advice.model_id) == ("fallback", None)
    [entry] = store.entries.values()
    assert entry.expires_at == NOW + timedelta(minutes=60)
    # And the failed attempts are on record without tokens
    [call] = store.usage.values()
    assert (call.outcome, call.attempts, call.input_tokens) == ("unavailable", 4, 0)


def test_malformed_but_repairable_output_is_repaired(
    advisor: AdvisorService, stubber: Stubber
) -> None:
    messy = (
        "Sure! Here you go:\n```json\n"
        + json.dumps({**ANSWER, "reasoning": "One step only.", "confidence": "high"})
        + "\n```"
    )
    stubber.add_response("converse", reply(messy))
    advice = advisor.explain(AREA, _week(_signals()), CID)
    assert (advice.source, advice.headline) == ("bedrock", ANSWER["headline"])
    assert advice.reasoning == ("One step only.",)


def test_unrepairable_output_falls_back_and_its_tokens_are_still_recorded(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    stubber.add_response("converse", reply("I am sorry, I cannot produce JSON today."))
    window = _week(_signals())
    advice = advisor.explain(AREA, window, CID)
    assert advice == fallback_explanation(AREA, window)
    [call] = store.usage.values()
    assert (call.outcome, call.input_tokens, call.output_tokens) == ("unusable", 300, 90)


def test_unchanged_inputs_never_call_the_model_twice(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    # Given one answer queued (a second call would hit the Stubber with nothing queued)
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    first = advisor.explain(AREA, _week(_signals()), CID)
    # When the same inputs are explained again, rebuilt from scratch
    second = advisor.explain(AREA, _week(_signals()), "corr-ai-2")
    # Then the cached answer is returned and one call is on record
    assert second == first
    assert len(store.usage) == 1


def test_changed_inputs_call_the_model_again(advisor: AdvisorService, stubber: Stubber) -> None:
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    stubber.add_response("converse", reply(json.dumps({**ANSWER, "headline": "Now worse"})))
    advisor.explain(AREA, _week(_signals()), CID)
    assert advisor.explain(AREA, _week(_signals("20")), CID).headline == "Now worse"


def test_model_is_tried_again_once_a_fallback_expires(
    advisor: AdvisorService, stubber: Stubber, clock: FakeClock
) -> None:
    stubber.add_response("converse", reply("not json"))
    assert advisor.explain(AREA, _week(_signals()), CID).source == "fallback"
    # Still within the fallback's hour: served from the cache, no call
    clock.now = NOW + timedelta(minutes=59)
    assert advisor.explain(AREA, _week(_signals()), CID).source == "fallback"
    # After it: the model again
    clock.now = NOW + timedelta(minutes=61)
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    assert advisor.explain(AREA, _week(_signals()), CID).source == "bedrock"


def test_without_a_model_the_fallback_is_served_and_no_usage_recorded(
    store: MemoryStore,
) -> None:
    advisor = AdvisorService(store, DisabledModel(), clock=FakeClock(NOW))
    advice = advisor.explain(AREA, _week(_signals()), CID)
    assert advice.source == "fallback"
    assert store.usage == {}
    assert len(store.entries) == 1


def test_guidance_is_stored_for_its_id_and_a_replay_returns_it_without_a_call(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    # Given a guidance request answered by the model
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    first = advisor.guide("guidance-0001", AREA, _signals(), "tomato", Tier.PRO, CID)
    assert store.answers["guidance-0001"][0] == first
    assert first.source == "bedrock"
    # When the same request is replayed, even after the signals moved on
    again = advisor.guide("guidance-0001", AREA, _signals("30"), "tomato", Tier.PRO, CID)
    # Then the stored answer comes back and the model was not called (nothing queued)
    assert again == first
    assert len(store.usage) == 1


def test_another_guidance_request_with_the_same_inputs_is_answered_from_the_cache(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    stubber.add_response("converse", reply(json.dumps(ANSWER)))
    first = advisor.guide("guidance-0001", AREA, _signals(), None, Tier.FREE, CID)
    other = advisor.guide("guidance-0002", AREA, _signals(), None, Tier.SUPPORTER, CID)
    assert other == first
    assert set(store.answers) == {"guidance-0001", "guidance-0002"}
    [entry] = store.entries.values()
    assert (entry.kind, entry.days) == ("guidance", None)


def test_guidance_falls_back_for_an_unavailable_model(
    advisor: AdvisorService, stubber: Stubber, store: MemoryStore
) -> None:
    stubber.add_client_error("converse", "AccessDeniedException", http_status_code=403)
    signals = _signals()
    advice = advisor.guide("guidance-0003", AREA, signals, "tomato", Tier.PRO, CID)
    assert advice == fallback_guidance(AREA, signals, "tomato", Tier.PRO)
    assert store.answers["guidance-0003"][0] == advice
    [call] = store.usage.values()
    assert (call.kind, call.outcome, call.attempts) == ("guidance", "unavailable", 1)
