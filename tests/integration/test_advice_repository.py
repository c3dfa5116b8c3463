"""AdviceRepository on the real table: cache entries, guidance answers and usage records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harvest.domain.advice import Advice
from harvest.settings import current_settings
from harvest.store import advice as advice_store
from harvest.store.advice import AdviceRepository, ModelCall, answer_key, cache_key, usage_key
from harvest.store.derived import CoreKeyWriteRefused
from harvest.store.dynamo import make_client
from harvest.store.table import Table

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
DIGEST = hashlib.sha256(b"inputs").hexdigest()
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MODEL_ADVICE = Advice(
    "Tomato is scarce", ("demand 12 > supply 3",), ("List tomatoes",), "bedrock", MODEL
)
FALLBACK = Advice("Tomato in short supply", ("demand 12 kg",), (), "fallback", None)


class RecordingClient:
    """Passes every call to the real client and remembers which were made."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


@pytest.fixture
def recording(table: str) -> RecordingClient:
    return RecordingClient(make_client("us-east-1"))


@pytest.fixture
def repository(recording: RecordingClient) -> AdviceRepository:
    return AdviceRepository(Table(recording, current_settings().table_name))  # type: ignore[arg-type]


def _raw(repository: AdviceRepository, key: dict[str, str]) -> dict[str, Any] | None:
    return repository.table.get(key)


def _put(
    repository: AdviceRepository, advice: Advice, expires_at: datetime, now: datetime = NOW
) -> bool:
    return repository.put_cached(
        DIGEST,
        advice,
        kind="explanation",
        area="u33d",
        days=7,
        expires_at=expires_at,
        correlation_id="corr-1",
        now=now,
    )


def test_cache_entry_round_trips_with_its_bookkeeping(
    repository: AdviceRepository, recording: RecordingClient
) -> None:
    # Given a model answer cached for a day
    assert _put(repository, MODEL_ADVICE, NOW + timedelta(hours=24))
    assert recording.calls == ["update_item"]
    # When it is read back within the day
    cached = repository.cached(DIGEST, NOW + timedelta(hours=1))
    # Then it is the same advice, and the item carries the table's invariants and the TTL
    assert cached == MODEL_ADVICE
    item = _raw(repository, cache_key(DIGEST))
    assert item is not None
    assert (item["PK"], item["SK"], item["type"]) == (f"AICACHE#{DIGEST}", "ENTRY", "ai-cache")
    assert (item["kind"], item["area"], item["days"], item["modelId"]) == (
        "explanation", "u33d", 7, MODEL,
    )  # fmt: skip
    assert item["expiresAt"] == int((NOW + timedelta(hours=24)).timestamp())
    assert (item["version"], item["correlationId"]) == (1, "corr-1")
    assert item["createdAt"] == item["updatedAt"] == "2026-05-20T09:00:00.000Z"


def test_putting_the_same_digest_again_overwrites_with_equal_content(
    repository: AdviceRepository,
) -> None:
    _put(repository, MODEL_ADVICE, NOW + timedelta(hours=24))
    later = NOW + timedelta(minutes=5)
    assert _put(repository, MODEL_ADVICE, later + timedelta(hours=24), now=later)
    item = _raw(repository, cache_key(DIGEST))
    assert item is not None
    assert (item["version"], item["createdAt"]) == (2, "2026-05-20T09:00:00.000Z")
    assert item["updatedAt"] == "2026-05-20T09:05:00.000Z"
    assert repository.cached(DIGEST, later) == MODEL_ADVICE


def test_entry_past_its_expiry_is_absent_before_ttl_deletes_it(
    repository: AdviceRepository,
) -> None:
    # Given an entry that expires at NOW + 1 h (DynamoDB deletes expired items lazily)
    _put(repository, FALLBACK, NOW + timedelta(hours=1))
    # Then it is served before, and absent at and after its expiry
    assert repository.cached(DIGEST, NOW + timedelta(minutes=59)) == FALLBACK
    assert repository.cached(DIGEST, NOW + timedelta(hours=1)) is None
    assert repository.cached(DIGEST, NOW + timedelta(days=2)) is None
    assert _raw(repository, cache_key(DIGEST)) is not None


def test_a_fallback_never_displaces_a_live_model_answer(repository: AdviceRepository) -> None:
    # Given a live model answer
    _put(repository, MODEL_ADVICE, NOW + timedelta(hours=24))
    # When a slower computation that fell back stores its result
    stored = _put(repository, FALLBACK, NOW + timedelta(hours=1))
    # Then it is refused and the model answer stays
    assert stored is False
    assert repository.cached(DIGEST, NOW) == MODEL_ADVICE
    # But once the model answer has expired, a fallback takes its place without its model id
    after = NOW + timedelta(hours=25)
    assert _put(repository, FALLBACK, after + timedelta(hours=1), now=after)
    assert repository.cached(DIGEST, after) == FALLBACK
    item = _raw(repository, cache_key(DIGEST))
    assert item is not None
    assert "modelId" not in item


def test_missing_entries_read_as_none(repository: AdviceRepository) -> None:
    assert repository.cached(DIGEST, NOW) is None
    assert repository.answer("guidance-0001") is None


def test_guidance_answer_is_stored_once_and_the_first_answer_stays(
    repository: AdviceRepository,
) -> None:
    # Given an answer stored for a guidance request
    first = repository.put_answer(
        "guidance-0001", MODEL_ADVICE, digest=DIGEST, correlation_id="corr-1", now=NOW
    )
    # When a replay stores a different answer for the same request
    second = repository.put_answer(
        "guidance-0001", FALLBACK, digest=DIGEST, correlation_id="corr-2", now=NOW
    )
    # Then both return the first answer, which is what is stored, without an expiry
    assert first == second == MODEL_ADVICE
    assert repository.answer("guidance-0001") == MODEL_ADVICE
    item = _raw(repository, answer_key("guidance-0001"))
    assert item is not None
    assert (item["PK"], item["SK"], item["type"]) == (
        "AICACHE#GUIDANCE#guidance-0001", "ANSWER", "ai-guidance-answer",
    )  # fmt: skip
    assert (item["digest"], item["version"], item["correlationId"]) == (DIGEST, 1, "corr-1")
    assert "expiresAt" not in item


def test_usage_is_recorded_once_per_digest_and_day(repository: AdviceRepository) -> None:
    # Given a model call recorded, then recorded again by a replay
    call = ModelCall(DIGEST, "guidance", MODEL, "ok", 300, 90, 2, 1800)
    repository.record_usage(call, correlation_id="corr-1", now=NOW)
    repository.record_usage(call, correlation_id="corr-1", now=NOW + timedelta(seconds=3))
    # Then the day's partition holds one record with the call's figures
    items = repository.table.query_all(
        max_items=10,
        index=None,
        key_condition="#pk = :pk",
        names={"#pk": "PK"},
        bound={"pk": "AIUSAGE#2026-05-20"},
    )
    assert len(items) == 1
    [item] = items
    assert item["SK"] == f"CALL#{DIGEST}"
    assert (item["type"], item["kind"], item["modelId"], item["outcome"]) == (
        "ai-usage", "guidance", MODEL, "ok",
    )  # fmt: skip
    assert (item["inputTokens"], item["outputTokens"], item["attempts"], item["latencyMs"]) == (
        300, 90, 2, 1800,
    )  # fmt: skip
    assert (item["version"], item["createdAt"]) == (2, "2026-05-20T09:00:00.000Z")


def test_a_core_key_is_refused_before_any_dynamodb_call(
    repository: AdviceRepository, recording: RecordingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a low-level write and a key function both addressing core keys
    with pytest.raises(CoreKeyWriteRefused):
        repository.update({"PK": "LISTING#x", "SK": "LISTING"}, {"type": "listing"}, "c", NOW)
    monkeypatch.setattr(advice_store, "usage_key", lambda *_: {"PK": "USAGE#u", "SK": "X"})
    with pytest.raises(CoreKeyWriteRefused):
        repository.record_usage(
            ModelCall(DIGEST, "explanation", MODEL, "ok", 1, 1, 1, 1), correlation_id="c", now=NOW
        )
    # Then nothing reached the client at all
    assert recording.calls == []


def test_keys_cannot_be_steered_by_ids_or_digests() -> None:
    with pytest.raises(ValueError, match="guidance id"):
        answer_key("x#LISTING#abc")
    with pytest.raises(ValueError, match="digest"):
        cache_key("GUIDANCE#guidance-0001")
    assert usage_key(NOW, DIGEST) == {"PK": "AIUSAGE#2026-05-20", "SK": f"CALL#{DIGEST}"}
