"""Small pieces every service uses: the clock, idempotency tokens, cursors, retries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, is_dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from harvest.domain.common import Actor, utc_now
from harvest.domain.cursor import CursorCodec
from harvest.domain.errors import RetryableConflict, ServiceUnavailable, VersionMismatch
from harvest.store.repository import EntityPage, IdempotencyToken
from harvest.store.table import Key

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

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


def check_version(expected: int | None, current: int) -> None:
    """If-Match semantics: a named version must be the current one (None matches any)."""
    if expected is not None and expected != current:
        raise VersionMismatch(expected, current)


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


@dataclass(frozen=True, slots=True)
class OwnedPage[E]:
    """A page of a user's own entities and the cursor to the next one."""

    items: list[E]
    next_cursor: str | None


def owned_page[E](
    context: ServiceContext,
    scope: str,
    limit: int | None,
    cursor: str | None,
    fetch: Callable[[int, Key | None], EntityPage[E]],
) -> OwnedPage[E]:
    """Run a key-paginated owner query behind a signed cursor bound to `scope`."""
    page = fetch(page_size(limit), start_key(context, scope, cursor))
    return OwnedPage(page.items, next_cursor(context, scope, page.next_key))


def stamped[E: DataclassInstance](
    entity: E, previous_version: int, actor: Actor, now: datetime
) -> E:
    """The next stored state: one version up, updated now, by this request."""
    return replace(
        entity,
        version=previous_version + 1,
        updated_at=now,
        correlation_id=actor.correlation_id,
    )
