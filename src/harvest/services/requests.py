"""Request rules: a searcher's needs, created idempotently and changed by their owner only."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from harvest.domain import geo
from harvest.domain.common import Actor, Location, new_id, quantity
from harvest.domain.crops import CropCatalog
from harvest.domain.errors import Forbidden, NotFound, ValidationFailed
from harvest.domain.request import Request, RequestStatus
from harvest.services.support import (
    OwnedPage,
    ServiceContext,
    check_version,
    idempotency_token,
    owned_page,
    stamped,
    with_cas_retries,
)
from harvest.store.repository import Created, EntityPage, IdempotencyToken
from harvest.store.table import Key


class RequestStore(Protocol):
    """What RequestService reads and writes (harvest.store.repository.Repository)."""

    def request_by_id(self, request_id: str) -> Request | None: ...
    def requests_by_owner(
        self, owner_id: str, limit: int = 20, start_key: Key | None = None
    ) -> EntityPage[Request]: ...
    def create_request(
        self, request: Request, token: IdempotencyToken | None
    ) -> Created[Request]: ...
    def save_request(self, request: Request, expected_version: int) -> None: ...


@dataclass(frozen=True, slots=True)
class RequestDraft:
    crop: str
    quantity: Decimal
    unit: str
    needed_by: datetime
    lat: float
    lon: float
    notes: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class RequestChanges:
    quantity: Decimal | None = None
    unit: str | None = None
    needed_by: datetime | None = None
    notes: str | None = None
    clear_notes: bool = False
    status: RequestStatus | None = None


class RequestService:
    def __init__(self, repository: RequestStore, catalog: CropCatalog, context: ServiceContext):
        self.repository = repository
        self.catalog = catalog
        self.context = context

    def create(
        self, actor: Actor, draft: RequestDraft, idempotency_key: str | None = None
    ) -> Created[Request]:
        crop = self.catalog.check_quantity(draft.crop, draft.quantity, draft.unit)
        geo.validate_point(draft.lat, draft.lon)
        now = self.context.clock()
        if draft.needed_by <= now:
            raise ValidationFailed("neededBy must be in the future")
        request = Request(
            request_id=draft.request_id or new_id(),
            owner_id=actor.user_id,
            crop=crop.slug,
            unit=draft.unit,
            quantity=quantity(draft.quantity),
            needed_by=draft.needed_by,
            location=Location(draft.lat, draft.lon, geo.encode(draft.lat, draft.lon, 7)),
            notes=draft.notes,
            status=RequestStatus.OPEN,
            version=1,
            created_at=now,
            updated_at=now,
            correlation_id=actor.correlation_id,
        )
        token = idempotency_token(
            self.context, actor, "request", draft, idempotency_key, draft.request_id
        )
        return with_cas_retries(lambda: self.repository.create_request(request, token))

    def get(self, request_id: str) -> Request:
        request = self.repository.request_by_id(request_id)
        if request is None:
            raise NotFound(f"request '{request_id}' not found")
        return request

    def update(
        self, actor: Actor, request_id: str, changes: RequestChanges, if_match: int | None
    ) -> Request:
        current = self._owned(actor, request_id)
        check_version(if_match, current.version)
        if replace(changes, status=None) != RequestChanges():
            current.require_editable()
        updated = current
        if changes.quantity is not None or changes.unit is not None or changes.needed_by:
            unit = changes.unit or current.unit
            amount = quantity(changes.quantity or current.quantity)
            self.catalog.check_quantity(current.crop, amount, unit)
            if changes.needed_by is not None and changes.needed_by <= self.context.clock():
                raise ValidationFailed("neededBy must be in the future")
            updated = replace(
                updated,
                quantity=amount,
                unit=unit,
                needed_by=changes.needed_by or current.needed_by,
            )
        if changes.notes is not None or changes.clear_notes:
            updated = replace(updated, notes=None if changes.clear_notes else changes.notes)
        if changes.status is not None:
            updated = updated.transition(changes.status)
        return self._save(actor, current, updated)

    def cancel(self, actor: Actor, request_id: str, if_match: int | None) -> Request:
        current = self._owned(actor, request_id)
        check_version(if_match, current.version)
        return self._save(actor, current, current.transition(RequestStatus.CANCELLED))

    def list_own(self, actor: Actor, limit: int | None, cursor: str | None) -> OwnedPage[Request]:
        return owned_page(
            self.context,
            f"requests_by_owner:{actor.user_id}",
            limit,
            cursor,
            lambda size, start: self.repository.requests_by_owner(actor.user_id, size, start),
        )

    def _owned(self, actor: Actor, request_id: str) -> Request:
        request = self.get(request_id)
        if request.owner_id != actor.user_id:
            raise Forbidden("only the owner can change a request")
        return request

    def _save(self, actor: Actor, current: Request, updated: Request) -> Request:
        if updated == current:
            return current
        saved = stamped(updated, current.version, actor, self.context.clock())
        self.repository.save_request(saved, current.version)
        return saved
