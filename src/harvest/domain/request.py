"""Requests: what a searcher needs, and their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from harvest.domain.common import Location
from harvest.domain.errors import IllegalTransition


class RequestStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.OPEN: frozenset(
        {RequestStatus.MATCHED, RequestStatus.CLOSED, RequestStatus.CANCELLED}
    ),
    RequestStatus.MATCHED: frozenset({RequestStatus.CLOSED, RequestStatus.CANCELLED}),
    RequestStatus.CLOSED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Request:
    request_id: str
    owner_id: str
    crop: str
    unit: str
    quantity: Decimal
    needed_by: datetime
    location: Location
    notes: str | None
    status: RequestStatus
    version: int
    created_at: datetime
    updated_at: datetime
    correlation_id: str

    def is_live(self, now: datetime) -> bool:
        return self.status is RequestStatus.OPEN and self.needed_by > now

    def transition(self, target: RequestStatus) -> Request:
        if target is self.status:
            return self
        if target not in TRANSITIONS[self.status]:
            raise IllegalTransition("request", self.status.value, target.value)
        return replace(self, status=target)

    def require_editable(self) -> None:
        if self.status not in (RequestStatus.OPEN, RequestStatus.MATCHED):
            raise IllegalTransition("request", self.status.value, "edited")
