"""End to end on the local runtime, the whole pipeline of issues 4 and 9: listings and
requests in one area -> derivation consumer (buckets, insights) -> publisher -> EventBridge
rule -> SQS queue -> AI worker (deterministic fallback locally, no Bedrock) -> the signals,
explanation and guidance routes; then `harvest audit` is clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harvest.cli.main import main
from harvest.domain.insight import windows_to_public
from harvest.local.runtime import LocalRuntime
from harvest.store.dynamo import make_client
from support import payloads
from support.exact import exact_figures
from support.runtime import HttpClient, audit_clean, running_runtime, stored_item, wait_for

AREA = "u33d"  # around payloads.BERLIN


def _tomato(window: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in window["crops"] if c["crop"] == "tomato"), None)


def _signals_ready(http: HttpClient) -> dict[str, Any] | None:
    body = http.call("GET", f"/communities/{AREA}/signals", user="reader").body
    tomato = _tomato(body["windows"][0])
    return body if tomato and tomato["listings"] == 3 and tomato["requests"] == 3 else None


def _insight_version(runtime: LocalRuntime) -> int | None:
    item = stored_item(runtime, f"INSIGHT#{AREA}", "CURRENT")
    if item is None:
        return None
    week = windows_to_public(item["windows"], item["area"])[0]  # stored with crops as rows
    ready = any(c["crop"] == "tomato" and c.get("requests") == 3 for c in week["crops"])
    return int(item["version"]) if ready else None


def test_signals_explanation_and_guidance_through_the_whole_pipeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    # Noise off (settings): the exact figures are what this test follows.
    with exact_figures(), running_runtime(data) as (runtime, http):
        assert {"AggregatorFunction", "PublisherFunction", "AdvisorFunction"} <= set(
            runtime.poller_names
        )
        # The AI worker is fed by its queue, not by the table stream (two readers at most).
        assert runtime.rule_bus is not None
        by_function = {p.mapping.function.logical_id: p for p in runtime.rule_bus.pollers}
        advisor = by_function["AdvisorFunction"]
        assert set(by_function) == {
            "AdvisorFunction",
            "RefreshFunction",
            "MatchingFunction",
            "DeliveryFunction",
        }
        assert "AdvisorFunction" not in [p.config.function_logical_id for p in runtime.pollers]
        # Given three growers offering tomatoes and three families asking for some (k of each
        # kind: demand sums the requesters' items only), in one area
        for grower in ("g1", "g2", "g3"):
            made = http.call("POST", "/listings", payloads.listing(quantity=4), user=grower)
            assert made.status == 201, made.body
        asked = payloads.request(quantity=1, location=dict(payloads.BERLIN))
        for family in ("f1", "f2", "f3"):
            assert http.call("POST", "/requests", asked, user=family).status == 201

        # Then the signals show the windows and a classification
        signals = wait_for(lambda: _signals_ready(http), timeout_s=60)
        assert [w["days"] for w in signals["windows"]] == [7, 14, 30]
        tomato = _tomato(signals["windows"][0])
        assert tomato is not None
        assert (tomato["supply"], tomato["demand"], tomato["classification"]) == (
            12,
            3,
            "surplus",
        )
        wait_for(lambda: _insight_version(runtime), timeout_s=60)

        # A supporter gets the explanation the AI worker cached (the fallback: no Bedrock)
        def explained() -> dict[str, Any] | None:
            reply = http.call(
                "GET", f"/communities/{AREA}/explanation?days=7", user="sam", tier="supporter"
            )
            assert reply.status == 200, reply.body
            return reply.body if reply.body["cached"] else None

        explanation = wait_for(explained, timeout_s=60)["explanation"]
        assert explanation["source"] == "fallback"
        assert (
            "tomato" in explanation["headline"].lower() + " ".join(explanation["reasoning"]).lower()
        )
        # ... and a free user is told which tier would do
        refused = http.call("GET", f"/communities/{AREA}/explanation", user="fred", tier="free")
        assert refused.status == 403
        assert refused.body["requiredTier"] == "supporter"

        # A pro user's guidance request turns from 202 into 200
        posted = http.call(
            "POST", "/me/guidance", {"area": "u33dc", "crop": "tomato"}, user="pia", tier="pro"
        )
        assert posted.status == 202, posted.body
        location = posted.headers["Location"]
        first = http.call("GET", location, user="pia", tier="pro")
        assert first.status in (200, 202)

        def answered() -> dict[str, Any] | None:
            reply = http.call("GET", location, user="pia", tier="pro")
            return reply.body if reply.status == 200 else None

        guidance = wait_for(answered, timeout_s=60)
        assert guidance["status"] == "ready"
        # ... answered from messages of the AI worker's queue (its only input), each taken
        # off the queue once done
        assert advisor.stats.deleted >= 1
        assert advisor.stats.failed == 0
        assert guidance["guidance"]["source"] == "fallback"
        assert guidance["guidance"]["actions"]
        wait_for(lambda: audit_clean(runtime), timeout_s=60)

    # After the runtime stops, the incremental derived state equals a rebuild from core
    capsys.readouterr()
    with exact_figures():  # as the runtime computed them
        assert main(["audit", "--data-dir", str(data)]) == 0
    assert "0 drift" in capsys.readouterr().out


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _derived_with(runtime: LocalRuntime, correlation_id: str) -> set[str]:
    """The derived key families whose items carry the correlation id."""
    client = make_client(runtime.options.region, runtime.engine.endpoint_url)
    found: set[str] = set()
    for page in client.get_paginator("scan").paginate(TableName=runtime.options.table_name):
        for item in page["Items"]:
            if item.get("correlationId", {}).get("S") == correlation_id:
                found.add(item["PK"]["S"].split("#", 1)[0] + "#")
    return found


def test_one_correlation_id_follows_a_write_through_every_consumer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    trace = "trace-e2e-0001"
    with running_runtime(data) as (runtime, http):
        # k growers (one trace): a published crop, so the AI worker has something to explain
        # (a window with every crop hidden is never explained: explain_debounce).
        for user in ("g1", "g2", "g3"):
            made = http.call(
                "POST",
                "/listings",
                payloads.listing(quantity=4),
                user=user,
                headers={"X-Correlation-Id": trace},
            )
            assert made.status == 201, made.body
            assert made.headers["X-Correlation-Id"] == trace

        def traced() -> set[str] | None:
            families = _derived_with(runtime, trace)
            wanted = {"LISTING#", "AGG#", "INSIGHT#", "AICACHE#"}
            return families if wanted <= families else None

        assert wait_for(traced, timeout_s=60) >= {"LISTING#", "AGG#", "INSIGHT#", "AICACHE#"}

        def announced() -> set[str] | None:
            types = {
                entry["DetailType"]
                for entry in _events(data / "events.jsonl")
                if json.loads(entry["Detail"])["correlationId"] == trace
            }
            return types if {"listing.created", "insight.generated"} <= types else None

        assert wait_for(announced, timeout_s=60)
