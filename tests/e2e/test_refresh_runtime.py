"""End to end on the local runtime with the real template: the schedule rule RefreshRule is
ticked by the runtime (HARVEST_LOCAL_SCHEDULE_SECONDS speeds it up), its tick goes through
RefreshQueue to the refresher's SQS poller, and the refresher recomputes an area whose
insight has fallen due, with no event in the area; the route then serves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harvest.domain.insight import windows_to_public
from harvest.local.schedules import SCHEDULE_SECONDS_VARIABLE
from harvest.store.dynamo import make_client
from support import payloads
from support.runtime import running_runtime, stored_item, wait_for

AREA = "u33d"  # around payloads.BERLIN


def _insight(runtime: Any) -> dict[str, Any] | None:
    item = stored_item(runtime, f"INSIGHT#{AREA}", "CURRENT")
    week = (
        windows_to_public(item["windows"], item["area"])[0] if item else None
    )  # stored: crops as rows
    return item if week and any(c["crop"] == "tomato" for c in week["crops"]) else None


def test_the_schedule_ticks_the_refresher_which_refreshes_a_due_area(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SCHEDULE_SECONDS_VARIABLE, "0.5")
    today = datetime.now(UTC).date()
    with running_runtime(tmp_path / "data") as (runtime, http):
        assert "RefreshFunction" in runtime.poller_names
        for grower in ("g1", "g2", "g3"):
            created = http.call("POST", "/listings", payloads.listing(quantity=4), user=grower)
            assert created.status == 201
        fresh = wait_for(lambda: _insight(runtime), timeout_s=60)
        assert fresh["validUntil"] >= today.isoformat()
        # Given the area as it stands once midnight has passed with no event: its insight
        # computed yesterday, valid until yesterday (what a day of waiting would leave)
        yesterday = (today - timedelta(days=1)).isoformat()
        make_client(runtime.options.region, runtime.engine.endpoint_url).update_item(
            TableName=runtime.options.table_name,
            Key={"PK": {"S": f"INSIGHT#{AREA}"}, "SK": {"S": "CURRENT"}},
            UpdateExpression="SET asOfDay = :day, validUntil = :day",
            ExpressionAttributeValues={":day": {"S": yesterday}},
        )

        # When the schedule ticks, the refresher finds it due and recomputes it as of today
        def refreshed() -> dict[str, Any] | None:
            item = stored_item(runtime, f"INSIGHT#{AREA}", "CURRENT")
            return item if item and item["asOfDay"] == today.isoformat() else None

        item = wait_for(refreshed, timeout_s=120)
        assert item["validUntil"] == fresh["validUntil"]
        assert item["version"] == fresh["version"], "nothing published changed: no new version"
        tickers = runtime.rule_bus.tickers if runtime.rule_bus else []
        assert [t.schedule.logical_id for t in tickers] == ["RefreshRule"]
        assert tickers[0].ticks >= 1
        # Then the route serves it
        body = http.call("GET", f"/communities/{AREA}/signals", user="reader").body
        week = next(w for w in body["windows"] if w["days"] == 7)
        assert [c["crop"] for c in week["crops"]] == ["tomato"]
