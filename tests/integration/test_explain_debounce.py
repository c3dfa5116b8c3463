"""The AI worker's debounce on the real AdviceRepository (moto; DynamoDB Local in make
conformance), with Bedrock answered by botocore's Stubber: every model call made is one
stubbed response consumed, so the calls are counted exactly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from harvest.adapters.language_model import ConverseModel
from harvest.domain.insight import window_shape
from harvest.domain.signals import DayTotals, WindowSignals, compute_signals
from harvest.services.advisor import AdvisorService
from harvest.services.explain_debounce import DebouncedExplainer
from harvest.settings import current_settings
from harvest.store.advice import AdviceRepository, Explained, LatestExplanation
from harvest.store.dynamo import make_client
from harvest.store.table import Table
from support.bedrock import converse_response
from support.clock import FakeClock

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
AREA = "u33d"
START = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
ANSWER = {"headline": "Tomatoes are scarce", "reasoning": ["12 kg asked"], "actions": ["List"]}


TODAY = START.date()


def _week(tomato_demand: str, *, as_of: date = TODAY) -> WindowSignals:
    day = date(2026, 5, 19)
    buckets = [
        # k contributors of each kind (domain.disclosure.region_safe).
        DayTotals(day, "tomato", Decimal(3), Decimal(tomato_demand), 3, 4, 7),
        DayTotals(day, "zucchini", Decimal(40), Decimal(5), 5, 3, 8),
    ]
    return compute_signals(AREA, as_of, buckets).windows[0]


@pytest.fixture
def stubber() -> Iterator[Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    with Stubber(client) as stub:
        yield stub


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def store(table: str) -> AdviceRepository:
    return AdviceRepository(Table(make_client("us-east-1"), current_settings().table_name))


@pytest.fixture
def explainer(stubber: Stubber, store: AdviceRepository, clock: FakeClock) -> DebouncedExplainer:
    model = ConverseModel(MODEL, lambda: stubber.client, sleep=lambda _: None)
    advisor = AdvisorService(store, model, clock=clock)
    return DebouncedExplainer(advisor, store, debounce=timedelta(minutes=30), clock=clock)


def test_same_classifications_with_new_figures_call_the_model_once(
    explainer: DebouncedExplainer, stubber: Stubber, clock: FakeClock
) -> None:
    # Given the model answers once
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))
    # When the window is explained, then again with other figures but the same shape, later
    first = explainer.explain(AREA, _week("12"), "c-1")
    clock.now += timedelta(hours=2)
    second = explainer.explain(AREA, _week("13"), "c-2")
    # Then one model call was made
    assert (first, second) == ("explained", "unchanged")
    stubber.assert_no_pending_responses()


def test_a_changed_classification_waits_for_the_debounce_then_calls_once_more(
    explainer: DebouncedExplainer, stubber: Stubber, clock: FakeClock
) -> None:
    shortage, balanced = _week("12"), _week("3")
    assert window_shape(shortage) != window_shape(balanced)
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))

    assert explainer.explain(AREA, shortage, "c-1") == "explained"
    clock.now += timedelta(minutes=29)
    assert explainer.explain(AREA, balanced, "c-2") == "debounced"
    clock.now += timedelta(minutes=1)
    assert explainer.explain(AREA, balanced, "c-3") == "explained"
    stubber.assert_no_pending_responses()


def test_a_fallback_is_retried_once_debounce_and_its_cache_time_passed(
    explainer: DebouncedExplainer, stubber: Stubber, clock: FakeClock
) -> None:
    stubber.add_client_error("converse", "ValidationException", http_status_code=400)
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))

    assert explainer.explain(AREA, _week("12"), "c-1") == "explained"  # the fallback
    assert explainer.explain(AREA, _week("12"), "c-2") == "debounced"
    clock.now += timedelta(minutes=30)  # debounce over, the fallback still cached (1 h)
    assert explainer.explain(AREA, _week("12"), "c-3") == "explained"
    clock.now += timedelta(minutes=31)
    assert explainer.explain(AREA, _week("12"), "c-4") == "explained"  # the model now
    stubber.assert_no_pending_responses()


def test_a_window_without_a_published_crop_never_calls_the_model(
    explainer: DebouncedExplainer, store: AdviceRepository
) -> None:
    day = date(2026, 5, 19)
    hidden = [DayTotals(day, "tomato", Decimal(3), Decimal(12), 2, 4, 2)]  # 2 users < k
    window = compute_signals(AREA, TODAY, hidden).windows[0]

    assert explainer.explain(AREA, window, "c-1") == "nothing_published"
    assert store.latest(AREA, 7) is None  # the stubber has no response: no call was made


def test_the_latest_explanation_outlives_the_calendar_moving_the_figures(
    explainer: DebouncedExplainer, stubber: Stubber, store: AdviceRepository
) -> None:
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))
    explainer.explain(AREA, _week("12"), "c-1")

    # A day later with no event the window's figures are other ones (as of tomorrow)...
    tomorrow = _week("12", as_of=TODAY + timedelta(days=1))
    latest = store.latest(AREA, 7)

    # ... but what it says is the same, so the API still has the model's explanation to serve.
    assert latest is not None
    assert latest.shape == window_shape(tomorrow)
    assert latest.advice.source == "bedrock"
    assert latest.advice.headline == ANSWER["headline"]


class _CountingReads:
    """The repository, its reads recorded."""

    def __init__(self, store: AdviceRepository) -> None:
        self.store = store
        self.reads: list[str] = []

    def explained(self, area: str) -> dict[int, Explained] | None:
        self.reads.append("explained")
        return self.store.explained(area)

    def latest(self, area: str, days: int) -> LatestExplanation | None:
        self.reads.append(f"latest {days}")
        return self.store.latest(area, days)

    def put_latest(self, *args: object, **kwargs: object) -> None:
        self.store.put_latest(*args, **kwargs)  # type: ignore[arg-type]


class _StaleReads(_CountingReads):
    """The repository read eventually consistent, a moment behind: no write is seen yet."""

    def explained(self, area: str) -> None:
        return None

    def latest(self, area: str, days: int) -> None:
        return None


def test_a_read_behind_its_own_write_does_not_explain_twice(
    stubber: Stubber, store: AdviceRepository, clock: FakeClock
) -> None:
    # The AI worker reads eventually consistent: its own write of a moment ago may be missed.
    model = ConverseModel(MODEL, lambda: stubber.client, sleep=lambda _: None)
    advisor = AdvisorService(store, model, clock=clock)
    explainer = DebouncedExplainer(advisor, _StaleReads(store), clock=clock)
    shortage, balanced = _week("12"), _week("3")
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))

    assert explainer.explain(AREA, shortage, "c-1") == "explained"
    clock.now += timedelta(seconds=1)
    assert explainer.explain(AREA, _week("13"), "c-2") == "unchanged"
    assert explainer.explain(AREA, balanced, "c-3") == "debounced"
    stubber.assert_no_pending_responses()  # one model call
    assert store.latest(AREA, 7) is not None


def test_an_insight_costs_one_read_of_the_area_s_explained_item(
    stubber: Stubber, store: AdviceRepository, clock: FakeClock
) -> None:
    model = ConverseModel(MODEL, lambda: stubber.client, sleep=lambda _: None)
    advisor = AdvisorService(store, model, clock=clock)
    windows = compute_signals(
        AREA, TODAY, [DayTotals(date(2026, 5, 19), "tomato", Decimal(3), Decimal(12), 3, 4, 7)]
    ).windows
    for _ in windows:
        stubber.add_response("converse", converse_response(json.dumps(ANSWER)))
    first = _CountingReads(store)
    decisions = DebouncedExplainer(advisor, first, clock=clock).explain_all(AREA, windows, "c-1")
    assert decisions == ["explained"] * 3
    # No Explained item yet: the windows' latest explanations are read (areas explained before)
    assert first.reads == ["explained", "latest 7", "latest 14", "latest 30"]

    # A fresh worker (no memory of its own writes) reads one item for the three windows.
    clock.now += timedelta(hours=1)
    later = _CountingReads(store)
    again = DebouncedExplainer(advisor, later, clock=clock).explain_all(AREA, windows, "c-2")
    assert again == ["unchanged"] * 3
    assert later.reads == ["explained"]
    stubber.assert_no_pending_responses()
    state = store.explained(AREA)
    assert state is not None
    assert {days: (e.shape, e.source) for days, e in state.items()} == {
        w.days: (window_shape(w), "bedrock") for w in windows
    }


def test_the_newest_insight_is_read_only_when_a_window_is_due_and_is_what_gets_explained(
    explainer: DebouncedExplainer, stubber: Stubber, store: AdviceRepository, clock: FakeClock
) -> None:
    stubber.add_response("converse", converse_response(json.dumps(ANSWER)))
    asked: list[str] = []
    newer = _week("3")  # what the stored insight says by now: balanced, not in shortage

    def newest() -> tuple[WindowSignals, ...]:
        asked.append("read")
        return (newer,)

    # A due window: the newest insight is read and it, not the event's, is explained.
    assert explainer.explain_all(AREA, (_week("12"),), "c-1", newest=newest) == ["explained"]
    latest = store.latest(AREA, 7)
    assert latest is not None
    assert latest.shape == window_shape(newer)
    # Nothing due (same shape, the model's answer): nothing but the Explained item is read.
    clock.now += timedelta(hours=2)
    assert explainer.explain_all(AREA, (_week("4"),), "c-2", newest=newest) == ["unchanged"]
    assert asked == ["read"]
    stubber.assert_no_pending_responses()
