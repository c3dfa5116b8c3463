"""Each function reads its own settings class: what one function's environment sets never
configures another (issue 14: one cached Settings served five functions)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import boto3

from harvest.adapters.language_model import DisabledModel
from harvest.api import dependencies
from harvest.consumers import advisor, derivation
from harvest.settings import (
    AdvisorSettings,
    ApiSettings,
    DeliverySettings,
    DerivationSettings,
    MatchingSettings,
    PublisherSettings,
    RefreshSettings,
    Settings,
    WebSocketSettings,
)


def _variables(cls: type) -> set[str]:
    return {spec.metadata["env"] for spec in fields(cls)}


def test_each_function_reads_only_the_variables_it_uses() -> None:
    assert "EVENT_BUS_NAME" in _variables(PublisherSettings)
    assert "EVENT_BUS_NAME" not in _variables(DerivationSettings) | _variables(ApiSettings)
    assert "CONSUMER_MIN_REMAINING_MS" not in _variables(ApiSettings)
    assert "CURSOR_KEY" not in _variables(AdvisorSettings) | _variables(DerivationSettings)
    assert "AI_EXPLAIN_DEBOUNCE_MINUTES" in _variables(AdvisorSettings)


def test_the_api_and_the_insight_writers_agree_on_k() -> None:
    environ = {"SIGNAL_K_ANONYMITY": "5"}
    readers = (ApiSettings, DerivationSettings, AdvisorSettings, RefreshSettings)
    assert {cls.from_environ(environ).signal_k for cls in readers} == {5}


def test_settings_hold_every_functions_variables() -> None:
    every = set().union(
        *(
            _variables(cls)
            for cls in (
                ApiSettings,
                PublisherSettings,
                DerivationSettings,
                AdvisorSettings,
                RefreshSettings,
                MatchingSettings,
                DeliverySettings,
                WebSocketSettings,
            )
        )
    )
    assert _variables(Settings) == every


def test_two_functions_with_different_values_each_read_their_own() -> None:
    advisor = AdvisorSettings.from_environ({"CONSUMER_MIN_REMAINING_MS": "20000"})
    derivation = DerivationSettings.from_environ({"CONSUMER_MIN_REMAINING_MS": "1000"})
    assert (advisor.consumer_min_remaining_ms, derivation.consumer_min_remaining_ms) == (
        20000,
        1000,
    )


def _now() -> datetime:
    return datetime(2026, 5, 1, 8, tzinfo=UTC)


def test_each_bootstrap_builds_its_graph_from_its_own_settings_and_given_parts() -> None:
    # A client makes no call when created: the graphs are built, nothing is read
    client = boto3.client("dynamodb", region_name="us-east-1")

    derive = derivation.bootstrap(DerivationSettings(table_name="t-derive", signal_k=5), client)
    worker = advisor.bootstrap(
        AdvisorSettings(table_name="t-ai", signal_k=4, ai_explain_debounce_minutes=7),
        client,
        clock=_now,
    )
    api = dependencies.bootstrap(ApiSettings(table_name="t-api", signal_k=6), client, clock=_now)

    assert derive.settings.table_name == "t-derive"
    assert derive.insights.signals.policy.k == 5
    assert worker.advice.repository.table.name == "t-ai"  # type: ignore[attr-defined]
    assert isinstance(worker.advice.model, DisabledModel)  # no BEDROCK_MODEL_ID: fallbacks
    assert worker.signals.policy.k == 4
    assert worker.explainer.debounce.total_seconds() == 7 * 60
    assert worker.explainer.clock() == worker.signals.clock() == _now()
    assert api.signals.policy.k == 6
    assert api.signals.clock() == _now()
    assert api.listings.repository.table.name == "t-api"  # type: ignore[attr-defined]
