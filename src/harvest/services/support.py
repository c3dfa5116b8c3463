"""Small pieces every service uses: the clock, idempotency tokens, cursors, retries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import datetime, timedelta
from typing import Any

from harvest.domain.common import Actor, utc_now
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import RetryableConflict, ServiceUnavailable
from harvest.store.repository import IdempotencyToken
from harvest.store.table import Key

Clock = Callable[[], datetime]
MAX_PAGE_SIZE = 100
# Compare-and-swap retries on contended items (e.g. many confirms on one listing).
CAS_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """What every service needs besides its repository."""

    cursors: CursorCodec
    clock: Clock = utc_now
    idempotency_ttl: timedelta = timedelta(hours=24)


def fingerprint(kind: str, draft: object) -> str:
    """A stable hash of what a create asked for: a replay must ask for exactly the same."""
    body = asdict(draft) if is_dataclass(draft) and not isinstance(draft, type) else draft
    text = json.dumps({"kind": kind, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def idempotency_token(
    context: ServiceContext,
    actor: Actor,
    kind: str,
    draft: object,
    idempotency_key: str | None,
    client_id: str | None,
) -> IdempotencyToken | None:
    """A token when the client made the create replayable (a key header or its own id)."""
    key = idempotency_key or (f"{kind}:{client_id}" if client_id else None)
    if key is None:
        return None
    now = context.clock()
    return IdempotencyToken(
        user_id=actor.user_id,
        key=key,
        request_hash=fingerprint(kind, draft),
        expires_at=int((now + context.idempotency_ttl).timestamp()),
        correlation_id=actor.correlation_id,
        now=now,
    )


def page_size(limit: int | None, default: int = 20) -> int:
    return max(1, min(limit or default, MAX_PAGE_SIZE))


def start_key(context: ServiceContext, scope: str, cursor: str | None) -> Key | None:
    if cursor is None:
        return None
    position = context.cursors.decode(scope, cursor)
    return {str(k): str(v) for k, v in position.items()}


def next_cursor(context: ServiceContext, scope: str, position: dict[str, Any] | None) -> str | None:
    return context.cursors.encode(scope, position) if position else None


def with_cas_retries[T](attempt: Callable[[], T]) -> T:
    """Re-run a read-decide-write step while a concurrent writer keeps winning the race."""
    for _ in range(CAS_ATTEMPTS):
        try:
            return attempt()
        except RetryableConflict:
            continue
    raise ServiceUnavailable("too much contention on this item; retry shortly")
