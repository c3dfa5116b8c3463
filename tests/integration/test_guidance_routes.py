"""Guidance and explanation routes on the real table: entitlements, the per-user daily
budget (429 + Retry-After), idempotent asks, 202 -> 200 once the AI worker answered, and
explanations served from the worker's cache or as the labelled fallback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harvest.api import dependencies
from harvest.consumers import advisor
from harvest.domain.advice import Advice
from harvest.domain.common import utc_now
from harvest.domain.insight import window_shape
from harvest.domain.signals import WindowSignals
from harvest.settings import current_settings
from harvest.store.advice import AdviceRepository
from harvest.store.dynamo import make_client
from harvest.store.table import Table
from support import payloads
from support.apigw import Api
from support.queue_messages import queue_messages
from support.stored_records import LongContext, stored_item_record

PRO = {"user": "pia", "tier": "pro"}


@pytest.fixture(autouse=True)
def small_budget(table: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GUIDANCE_DAILY_BUDGET", "2")
    dependencies.services.reset()
    advisor.advisor.reset()
    yield
    dependencies.services.reset()
    advisor.advisor.reset()


def test_a_pro_users_guidance_is_pending_then_ready_and_only_theirs(
    api: Api, dynamodb: Any, table: str
) -> None:
    asked = api.post("/me/guidance", {"area": "u33dc", "crop": "tomato"}, **PRO)
    assert asked.status == 202, asked.body
    guidance_id = asked.body["guidanceId"]
    assert asked.header("Location") == f"/me/guidance/{guidance_id}"
    assert asked.body["status"] == "pending"

    pending = api.get(f"/me/guidance/{guidance_id}", **PRO)
    assert pending.status == 202
    assert pending.header("Retry-After") == "2"
    assert api.get(f"/me/guidance/{guidance_id}", user="other", tier="pro").status == 404

    record = stored_item_record(dynamodb, table, f"GUIDANCE#{guidance_id}", 77)
    [message] = queue_messages(record)
    assert advisor.handler({"Records": [message]}, LongContext()) == {"batchItemFailures": []}
    # SQS delivers at least once: the same message again, and the same event in a new message
    assert advisor.handler({"Records": [message]}, LongContext()) == {"batchItemFailures": []}
    [again] = queue_messages(record)
    assert advisor.handler({"Records": [again]}, LongContext()) == {"batchItemFailures": []}

    ready = api.get(f"/me/guidance/{guidance_id}", **PRO)
    assert ready.status == 200, ready.body
    assert ready.body["status"] == "ready"
    assert ready.body["guidance"]["source"] == "fallback"
    assert ready.body["guidance"]["reasoning"]
    answers = [
        item
        for item in dynamodb.scan(TableName=table)["Items"]
        if item["PK"]["S"] == f"AICACHE#GUIDANCE#{guidance_id}"
    ]
    assert len(answers) == 1, "a redelivered message must not answer twice"
    assert answers[0]["correlationId"]["S"] == record["dynamodb"]["NewImage"]["correlationId"]["S"]


@pytest.mark.parametrize("tier", ["free", "supporter"])
def test_guidance_needs_the_pro_tier(api: Api, tier: str) -> None:
    refused = api.post("/me/guidance", {"area": "u33dc"}, user="sam", tier=tier)
    assert refused.status == 403
    assert refused.body["requiredTier"] == "pro"


def test_the_daily_budget_ends_in_429_with_retry_after_and_replays_do_not_count(
    api: Api, dynamodb: Any, table: str
) -> None:
    key = {"Idempotency-Key": "ask-tomato-0001"}
    first = api.post("/me/guidance", {"area": "u33dc"}, headers=key, **PRO)
    replay = api.post("/me/guidance", {"area": "u33dc"}, headers=key, **PRO)
    assert (first.status, replay.status) == (202, 202)
    assert replay.body["guidanceId"] == first.body["guidanceId"]
    assert replay.header("Idempotent-Replayed") == "true"
    assert api.post("/me/guidance", {"area": "u33dd"}, **PRO).status == 202

    over = api.post("/me/guidance", {"area": "u33de"}, **PRO)

    assert over.status == 429, over.body
    assert over.body["type"].endswith("daily-budget-exhausted")
    assert 1 <= int(over.header("Retry-After") or 0) <= 86_400
    guidance = [
        i for i in dynamodb.scan(TableName=table)["Items"] if i["PK"]["S"].startswith("GUIDANCE#")
    ]
    assert len(guidance) == 2, "a refused ask writes nothing"
    # Another user's budget is their own.
    assert api.post("/me/guidance", {"area": "u33dc"}, user="quinn", tier="pro").status == 202


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),  # no area and no home location
        ({"area": "u33"}, 422),
        ({"area": "u3!dc"}, 400),
        ({"area": "u33dc", "crop": "dragonfruit-xyz"}, 422),
        ({"area": "u33dc", "question": "what about my neighbour?"}, 422),
    ],
)
def test_bad_guidance_asks_are_problems_and_write_nothing(
    api: Api, dynamodb: Any, table: str, body: dict[str, Any], status: int
) -> None:
    reply = api.post("/me/guidance", body, **PRO)
    assert reply.status == status, reply.body
    assert reply.header("Content-Type") == "application/problem+json"
    assert not [
        i
        for i in dynamodb.scan(TableName=table)["Items"]
        if i["PK"]["S"].startswith(("GUIDANCE#", "USAGE#"))
    ]


def test_the_home_cell_is_the_default_area(api: Api) -> None:
    home = {"displayName": "Pia", "homeLocation": {"lat": 52.52, "lon": 13.405}}
    assert api.put("/me", home, **PRO).status == 200
    asked = api.post("/me/guidance", {}, **PRO)
    assert asked.status == 202, asked.body
    assert asked.body["area"] == "u33dc"


def test_explanations_need_supporter_and_fall_back_until_the_worker_answers(api: Api) -> None:
    assert api.get("/communities/u33d/explanation", user="fred", tier="free").status == 403
    reply = api.get("/communities/u33d/explanation?days=14", user="sam", tier="supporter")
    assert reply.status == 200, reply.body
    assert (reply.body["days"], reply.body["cached"]) == (14, False)
    assert reply.body["explanation"]["source"] == "fallback"
    bad = api.get("/communities/u33d/explanation?days=10", user="sam", tier="supporter")
    assert bad.status == 422


def test_my_guidance_lists_own_requests_newest_first_in_pages_with_answers(
    api: Api, dynamodb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDANCE_DAILY_BUDGET", "5")
    dependencies.services.reset()
    asked = [
        api.post("/me/guidance", {"geohash": area, "crop": "tomato"}, **PRO).body["guidanceId"]
        for area in ("u33dc", "u33db", "u33d9")
    ]
    api.post("/me/guidance", {"geohash": "u33dc"}, user="other", tier="pro")
    record = stored_item_record(dynamodb, table, f"GUIDANCE#{asked[0]}", 91)
    messages = queue_messages(record)
    assert advisor.handler({"Records": messages}, LongContext()) == {"batchItemFailures": []}

    first = api.get("/me/guidance?limit=2", **PRO)
    second = api.get(f"/me/guidance?limit=2&cursor={first.body['nextCursor']}", **PRO)

    assert first.status == second.status == 200
    listed = [item["guidanceId"] for item in first.body["items"] + second.body["items"]]
    assert listed == list(reversed(asked))
    assert second.body["nextCursor"] is None
    statuses = {item["guidanceId"]: item["status"] for item in second.body["items"]}
    assert statuses[asked[0]] == "ready"
    assert second.body["items"][-1]["guidance"]["source"] == "fallback"
    assert [item["status"] for item in first.body["items"]] == ["pending", "pending"]


def test_my_guidance_needs_pro_and_a_cursor_of_its_own(api: Api) -> None:
    api.post("/listings", payloads.listing(), user="pia")
    listings = api.get("/me/listings?limit=1", user="pia")

    assert api.get("/me/guidance", user="pia", tier="supporter").status == 403
    assert api.get("/me/guidance?limit=21", **PRO).status == 422
    foreign = api.get(f"/me/guidance?cursor={listings.body['nextCursor'] or 'x'}", **PRO)
    assert foreign.status == 400


def test_guidance_takes_geohash_and_still_accepts_the_deprecated_area(api: Api) -> None:
    new = api.post("/me/guidance", {"geohash": "u33dc"}, **PRO)
    old = api.post("/me/guidance", {"area": "u33db"}, **PRO)
    clash = api.post("/me/guidance", {"geohash": "u33dc", "area": "u33db"}, **PRO)

    assert (new.status, old.status) == (202, 202)
    assert (new.body["geohash"], new.body["area"]) == ("u33dc", "u33dc")
    assert old.body["geohash"] == "u33db"
    assert clash.status == 422


def test_an_explanation_of_the_same_shape_is_served_when_the_digest_moved_on(api: Api) -> None:
    # Given the worker's latest 7-day explanation of u33d was about what the area shows now
    # (no crop at all), under another digest (the figures, or the calendar, moved since)
    window = service_window("u33d", 7)
    made = Advice("Quiet around u33d", ("nothing listed",), ("list something",), "bedrock", "m")
    store = AdviceRepository(Table(make_client("us-east-1"), current_settings().table_name))
    store.put_latest("u33d", 7, window_shape(window), made, correlation_id="c", now=utc_now())
    # When a supporter asks for it
    reply = api.get("/communities/u33d/explanation?days=7", user="sam", tier="supporter")
    # Then the latest explanation is served, not the fallback
    assert reply.status == 200, reply.body
    assert reply.body["cached"] is True
    assert reply.body["explanation"]["headline"] == "Quiet around u33d"
    other = api.get("/communities/u33d/explanation?days=14", user="sam", tier="supporter")
    assert other.body["explanation"]["source"] == "fallback"  # per window


def service_window(area: str, days: int) -> WindowSignals:
    signals = advisor.advisor().signals.for_area(area).signals
    return next(w for w in signals.windows if w.days == days)
