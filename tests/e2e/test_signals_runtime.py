"""End to end on the local runtime with the real template: API writes -> stream -> the
aggregator poller -> day buckets -> GET /communities/{geohash}/signals; after the runtime
stops, `harvest audit --data-dir` finds the derived state equal to a rebuild from core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harvest.cli.main import main
from harvest.domain.insight import windows_to_public
from harvest.local.runtime import LocalRuntime
from support import payloads
from support.exact import exact_figures
from support.runtime import audit_clean, running_runtime, stored_item, wait_for

AREA = "u33d"  # around payloads.BERLIN


def _tomato(window: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in window["crops"] if c["crop"] == "tomato"), None)


def _insight_with_tomato(runtime: LocalRuntime) -> dict[str, Any] | None:
    item = stored_item(runtime, f"INSIGHT#{AREA}", "CURRENT")
    if item is None:
        return None
    week = windows_to_public(item["windows"], item["area"])[0]  # stored with crops as rows
    ready = any(c["crop"] == "tomato" and c.get("requests") == 3 for c in week["crops"])
    return item if ready else None


def test_signals_follow_the_writes_and_audit_is_clean_after_stop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    # Noise off (settings): the exact figures are what this test follows.
    with exact_figures(), running_runtime(data) as (runtime, http):
        assert "AggregatorFunction" in runtime.poller_names
        # Given three growers offering tomatoes and three families asking for some (k of
        # each kind: demand sums the requesters' items only)
        for grower in ("g1", "g2", "g3"):
            created = http.call("POST", "/listings", payloads.listing(quantity=4), user=grower)
            assert created.status == 201
        for family in ("f1", "f2", "f3"):
            asked = http.call("POST", "/requests", payloads.request(quantity=1), user=family)
            assert asked.status == 201

        # When the stream has been processed, the signals show every window
        def published() -> dict[str, Any] | None:
            body = http.call("GET", f"/communities/{AREA}/signals", user="reader").body
            week = next(w for w in body["windows"] if w["days"] == 7)
            tomato = _tomato(week)
            ready = tomato and tomato["listings"] == 3 and tomato["requests"] == 3
            return body if ready else None

        signals = wait_for(published, timeout_s=60)
        # The insight worker follows the buckets: the area's insight publishes the same week.
        insight = wait_for(lambda: _insight_with_tomato(runtime), timeout_s=60)
        assert windows_to_public(insight["windows"], insight["area"])[0]["crops"][0]["supply"] == 12
        wait_for(lambda: audit_clean(runtime), timeout_s=60)

    assert [w["days"] for w in signals["windows"]] == [7, 14, 30]
    tomato = _tomato(signals["windows"][0])
    assert tomato is not None
    assert tomato["supply"] == 12
    assert tomato["demand"] == 3
    assert tomato["classification"] in {"surplus", "balanced", "shortage"}
    assert signals["dataUpdatedAt"] is not None

    # Then, with the runtime stopped, the incremental state equals a rebuild from core
    capsys.readouterr()
    with exact_figures():  # as the runtime computed them
        assert main(["audit", "--data-dir", str(data)]) == 0
    assert "0 drift" in capsys.readouterr().out
