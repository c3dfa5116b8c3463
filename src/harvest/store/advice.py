"""The AI worker's repository: cache entries, guidance answers, usage records (derived keys).

Keys (schemas/key-design.md):
- cache entry: PK = AICACHE#{digest}, SK = ENTRY, type ai-cache. ``digest`` is the sha256 of
  the advice inputs (harvest.domain.advice). Attributes: kind (explanation | guidance),
  area, days (explanations only), headline, reasoning, actions, source (bedrock |
  fallback), modelId (absent for a fallback), expiresAt (epoch seconds: the table's TTL
  attribute), version, createdAt, updatedAt, correlationId.
- guidance answer: PK = AICACHE#GUIDANCE#{guidanceId}, SK = ANSWER, type ai-guidance-answer:
  guidanceId, digest, the advice attributes, version, timestamps, correlationId. No
  expiresAt: the user reads it whenever they come back.
- usage record: PK = AIUSAGE#{yyyy-mm-dd} (UTC day of the call), SK = CALL#{digest}, type
  ai-usage: digest, kind, modelId, outcome (ok | unusable | unavailable), inputTokens,
  outputTokens, attempts, latencyMs, version, timestamps, correlationId. Keyed by digest, so
  a replay that repeats a call overwrites its record instead of counting it twice.

Every write is an UpdateItem that sets the attributes, keeps createdAt, adds 1 to version
and is refused before any call unless its PK has a derived prefix (DESIGN §3 invariant 1).
TTL deletion is lazy (up to days late), so reads treat ``expiresAt <= now`` as absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from botocore.exceptions import ClientError

from harvest.domain.advice import Advice, AdviceKind
from harvest.domain.common import ID_PATTERN, iso
from harvest.store import keys
from harvest.store.derived import CoreKeyWriteRefused
from harvest.store.dynamo import serialize, values
from harvest.store.table import Item, Key, Table, error_code, raise_unavailable_if_throttled

__all__ = [
    "ANSWER_TYPE",
    "CACHE_TYPE",
    "USAGE_TYPE",
    "AdviceRepository",
    "ModelCall",
    "answer_key",
    "cache_key",
    "usage_key",
]

CACHE_TYPE: Final = "ai-cache"
ANSWER_TYPE: Final = "ai-guidance-answer"
USAGE_TYPE: Final = "ai-usage"
Outcome = Literal["ok", "unusable", "unavailable"]
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class ModelCall:
    """One model completion as billed: tokens are 0 when no reply came back."""

    digest: str
    kind: AdviceKind
    model_id: str | None
    outcome: Outcome
    input_tokens: int
    output_tokens: int
    attempts: int
    latency_ms: int


LATEST_TYPE: Final = "ai-latest-explanation"


@dataclass(frozen=True, slots=True)
class LatestExplanation:
    """The explanation last made for an area's window, what it was about (the window's
    shape: classifications in published order) and when."""

    shape: str
    called_at: datetime
    advice: Advice


EXPLAINED_TYPE: Final = "ai-explained"


@dataclass(frozen=True, slots=True)
class Explained:
    """What the AI worker's debounce needs of a window's latest explanation: its shape,
    when it was made and whether the model made it (not its text)."""

    shape: str
    called_at: datetime
    source: str


def explained_key(area: str) -> Key:
    """One small item per area with every window's Explained (`w{days}`: [shape, calledAt,
    source]): the debounce reads one item per insight, not one explanation per window."""
    return {"PK": f"AICACHE#AREA#{area}", "SK": "EXPLAINED"}


def latest_key(area: str, days: int) -> Key:
    return {"PK": f"AICACHE#AREA#{area}#{days}", "SK": "LATEST"}


def cache_key(digest: str) -> Key:
    return {"PK": f"AICACHE#{_checked_digest(digest)}", "SK": "ENTRY"}


def answer_key(guidance_id: str) -> Key:
    # Ids share the API's alphabet (no '#'), so an id can never reach into a cache entry's key.
    if not re.fullmatch(ID_PATTERN, guidance_id):
        raise ValueError(f"not a guidance id: {guidance_id!r}")
    return {"PK": f"AICACHE#GUIDANCE#{guidance_id}", "SK": "ANSWER"}


def usage_key(moment: datetime, digest: str) -> Key:
    return {"PK": f"AIUSAGE#{iso(moment)[:10]}", "SK": f"CALL#{_checked_digest(digest)}"}


def _checked_digest(digest: str) -> str:
    if len(digest) != 64 or not set(digest) <= _HEX:
        raise ValueError(f"not a sha256 hex digest: {digest!r}")
    return digest


class AdviceRepository:
    def __init__(self, table: Table, *, consistent: bool = True) -> None:
        self.table = table
        # The AI worker reads eventually consistent (half the read units, docs/scaling.md
        # §4): a read that missed a write of the last second at worst explains once more,
        # and its own writes it remembers (services.explain_debounce).
        self.consistent = consistent

    # ------------------------------------------------------------------ reads
    def cached(self, digest: str, now: datetime) -> Advice | None:
        """The live cache entry of ``digest``; an entry past its expiresAt counts as absent."""
        item = self.table.get(cache_key(digest), consistent=self.consistent)
        if item is None or item.get("type") != CACHE_TYPE:
            return None
        if int(item.get("expiresAt", 0)) <= int(now.timestamp()):
            return None
        return _advice_of(item)

    def answer(self, guidance_id: str) -> Advice | None:
        item = self.table.get(answer_key(guidance_id))
        return _advice_of(item) if item is not None and item.get("type") == ANSWER_TYPE else None

    def latest(self, area: str, days: int) -> LatestExplanation | None:
        """The area window's latest explanation (no TTL: it outlives the digest cache)."""
        item = self.table.get(latest_key(area, days), consistent=self.consistent)
        if item is None or item.get("type") != LATEST_TYPE:
            return None
        called_at = datetime.fromisoformat(str(item["calledAt"]))
        return LatestExplanation(str(item["shape"]), called_at, _advice_of(item))

    def explained(self, area: str) -> dict[int, Explained] | None:
        """Every window's Explained of the area, None when the area has no such item yet
        (never explained, or explained before it existed: read its windows' latest)."""
        item = self.table.get(explained_key(area), consistent=self.consistent)
        if item is None or item.get("type") != EXPLAINED_TYPE:
            return None
        found: dict[int, Explained] = {}
        for name, value in item.items():
            if name.startswith("w") and name[1:].isdigit() and isinstance(value, list):
                shape, called_at, source = (str(part) for part in value)
                found[int(name[1:])] = Explained(shape, datetime.fromisoformat(called_at), source)
        return found

    # ------------------------------------------------------------------ writes
    def put_latest(
        self,
        area: str,
        days: int,
        shape: str,
        advice: Advice,
        *,
        correlation_id: str,
        now: datetime,
    ) -> None:
        attributes = {
            "type": LATEST_TYPE,
            "area": area,
            "days": days,
            "shape": shape,
            "calledAt": iso(now),
            **_advice_attributes(advice),
        }
        self.update(latest_key(area, days), attributes, correlation_id, now)
        # Then the area's summary of it (a failure here fails the message: its retry finds
        # the explanation in the digest cache and writes both again, no model call).
        state = {
            "type": EXPLAINED_TYPE,
            "area": area,
            f"w{days}": [shape, iso(now), advice.source],
        }
        self.update(explained_key(area), state, correlation_id, now)

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
        """Store the advice for ``digest``; False when a live model answer is already there
        and ``advice`` is a fallback (a fallback never displaces a better answer)."""
        attributes: dict[str, Any] = {
            "type": CACHE_TYPE,
            "digest": digest,
            "kind": kind,
            "area": area,
            **_advice_attributes(advice),
            "expiresAt": int(expires_at.timestamp()),
        }
        if days is not None:
            attributes["days"] = days
        if advice.source == "bedrock":
            return self.update(cache_key(digest), attributes, correlation_id, now)
        return self.update(
            cache_key(digest),
            attributes,
            correlation_id,
            now,
            condition="attribute_not_exists(PK) OR #source = :fallback OR #expiresAt <= :epoch",
            condition_names={"#source": "source", "#expiresAt": "expiresAt"},
            condition_values={"fallback": "fallback", "epoch": int(now.timestamp())},
        )

    def put_answer(
        self,
        guidance_id: str,
        advice: Advice,
        *,
        digest: str,
        correlation_id: str,
        now: datetime,
    ) -> Advice:
        """Store the answer of a guidance request once; the answer stored first is returned."""
        key = answer_key(guidance_id)
        attributes = {
            "type": ANSWER_TYPE,
            "guidanceId": guidance_id,
            "digest": _checked_digest(digest),
            **_advice_attributes(advice),
        }
        if self.update(key, attributes, correlation_id, now, condition="attribute_not_exists(PK)"):
            return advice
        stored = self.answer(guidance_id)
        if stored is None:  # pragma: no cover - the condition failed, so the item exists
            raise RuntimeError(f"guidance answer {guidance_id} vanished after a conflict")
        return stored

    def record_usage(self, call: ModelCall, *, correlation_id: str, now: datetime) -> None:
        attributes: dict[str, Any] = {
            "type": USAGE_TYPE,
            "digest": call.digest,
            "kind": call.kind,
            "outcome": call.outcome,
            "inputTokens": call.input_tokens,
            "outputTokens": call.output_tokens,
            "attempts": call.attempts,
            "latencyMs": call.latency_ms,
        }
        if call.model_id is not None:
            attributes["modelId"] = call.model_id
        self.update(usage_key(now, call.digest), attributes, correlation_id, now)

    def update(
        self,
        key: Key,
        attributes: Mapping[str, Any],
        correlation_id: str,
        now: datetime,
        *,
        condition: str | None = None,
        condition_names: Mapping[str, str] | None = None,
        condition_values: Mapping[str, Any] | None = None,
    ) -> bool:
        """The only write path: one UpdateItem setting ``attributes``; False when
        ``condition`` failed. Refused before any call unless the PK is derived."""
        pk = key.get("PK")
        if not isinstance(pk, str) or not keys.is_derived_key(pk):
            raise CoreKeyWriteRefused(pk)
        names = {"#version": "version", **(condition_names or {})}
        bound: dict[str, Any] = {"now": iso(now), "cid": correlation_id, "one": 1}
        sets = [
            "createdAt = if_not_exists(createdAt, :now)",
            "updatedAt = :now",
            "correlationId = :cid",
        ]
        # Placeholders for every attribute: "type" and "source" are DynamoDB reserved words.
        for index, (name, value) in enumerate(sorted(attributes.items())):
            names[f"#a{index}"] = name
            bound[f"a{index}"] = value
            sets.append(f"#a{index} = :a{index}")
        expression = f"SET {', '.join(sets)} ADD #version :one"
        if "modelId" not in attributes:
            # A fallback replacing an expired model answer must not keep its model id.
            expression += " REMOVE modelId"
        request: dict[str, Any] = {
            "TableName": self.table.name,
            "Key": serialize(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values(**bound, **(condition_values or {})),
        }
        if condition is not None:
            request["ConditionExpression"] = condition
        try:
            self.table.client.update_item(**request)
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise_unavailable_if_throttled(error)
            raise
        return True


def _advice_attributes(advice: Advice) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "headline": advice.headline,
        "reasoning": list(advice.reasoning),
        "actions": list(advice.actions),
        "source": advice.source,
    }
    if advice.model_id is not None:
        attributes["modelId"] = advice.model_id
    return attributes


def _advice_of(item: Item) -> Advice:
    source = item.get("source")
    model_id = item.get("modelId")
    return Advice(
        headline=str(item["headline"]),
        reasoning=tuple(str(step) for step in item.get("reasoning", ())),
        actions=tuple(str(action) for action in item.get("actions", ())),
        source="bedrock" if source == "bedrock" else "fallback",
        model_id=None if model_id is None else str(model_id),
    )
