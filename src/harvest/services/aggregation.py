"""The Aggregator's decision per stream record: exactly-once effect on the day buckets.

The marker of a source item (not the record's OldImage) is the truth of what was applied: a
record whose version is not above the marker's is a duplicate, a replay or a late arrival and
changes nothing. Otherwise the deltas from the marker's contribution to the record's NEW image
go into the buckets together with the new marker, in one transaction conditioned on the
marker version read; losing that race means re-reading the marker and deciding again.

When the item turns live or stops being live, the owner's presence (domain.disclosure) is
read too and written in the same transaction, conditioned on its version, with the moves of
the buckets' `contributors` counters it implies: the distinct-contributor count stays exact
with buckets of constant size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, Protocol

from harvest.domain.contribution import (
    BucketDelta,
    Contribution,
    bucket_deltas,
    contribution_of,
    with_contributor_moves,
)
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.disclosure import presence_moves
from harvest.domain.errors import RetryableConflict
from harvest.domain.events import ItemChange
from harvest.store.derived import Marker, StaleMarker
from harvest.store.items import contribution_source
from harvest.store.keys import SOURCE_PREFIXES
from harvest.store.presence import StoredPresence

__all__ = ["SOURCE_PREFIXES", "AggregationOutcome", "AggregationService", "MarkerStore"]

MAX_ATTEMPTS: Final = 5

type Decision = Literal["applied", "duplicate", "ignored"]


class MarkerStore(Protocol):
    """What the service needs of DerivedRepository (an in-memory fake in property tests)."""

    def marker(self, source_key: str) -> Marker | None: ...

    def presence(self, owner: str, area: str, crop: str) -> StoredPresence: ...

    def apply(
        self,
        source_key: str,
        expected_marker_version: int | None,
        new_version: int,
        new_contribution: Contribution | None,
        deltas: list[BucketDelta],
        correlation_id: str,
        presences: Sequence[StoredPresence] = (),
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class AggregationOutcome:
    """What was decided, how many buckets were written, and the areas whose insights the
    record concerns (its published cells and their precision-4 areas): also for a
    duplicate, so that a consumer retried after a failed insight refresh still refreshes
    them (docs/pipeline-design.md, the derivation consumer)."""

    decision: Decision
    buckets: int = 0
    areas: tuple[str, ...] = ()
    # The crop whose buckets the record concerns (crop is immutable through the API).
    crop: str | None = None


class AggregationService:
    def __init__(self, repository: MarkerStore, catalog: CropCatalog | None = None) -> None:
        self.repository = repository
        self.catalog = catalog if catalog is not None else load_catalog()

    def handle(self, change: ItemChange, correlation_id: str) -> AggregationOutcome:
        pk = change.keys.get("PK")
        # Listings and requests are never deleted by the API; a REMOVE (TTL or not) is not a
        # change of what they contribute.
        if change.event_name == "REMOVE" or change.new is None:
            return AggregationOutcome("ignored")
        if not isinstance(pk, str) or not pk.startswith(SOURCE_PREFIXES):
            return AggregationOutcome("ignored")
        contribution = contribution_of(contribution_source(change.new), self.catalog)
        if contribution is None:
            return AggregationOutcome("ignored")
        version = int(change.new["version"])
        for attempt in range(MAX_ATTEMPTS):
            marker = self.repository.marker(pk)
            if marker is not None and marker.version >= version:
                return AggregationOutcome(
                    "duplicate", areas=_areas(contribution), crop=contribution.crop
                )
            old = marker.contribution if marker else None
            deltas = bucket_deltas(old, contribution)
            presences: list[StoredPresence] = []
            for before_item, after_item in _presence_changes(old, contribution):
                item = before_item or after_item
                if item is None:  # pragma: no cover - _presence_changes never pairs two Nones
                    continue
                before, read_at = self.repository.presence(item.owner, item.cells[0], item.crop)
                after, moves = presence_moves(before, before_item, after_item)
                deltas = with_contributor_moves(deltas, moves, contribution.kind)
                presences.append((after, read_at))
            try:
                self.repository.apply(
                    pk,
                    marker.version if marker else None,
                    version,
                    contribution,
                    deltas,
                    correlation_id,
                    presences,
                )
            except (StaleMarker, RetryableConflict):
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                continue
            areas = dict.fromkeys((*(_areas(old) if old else ()), *_areas(contribution)))
            return AggregationOutcome("applied", len(deltas), tuple(areas), contribution.crop)
        raise AssertionError("unreachable")  # pragma: no cover


def _areas(item: Contribution) -> tuple[str, str]:
    """The areas with an insight the item's buckets make: its published cell (precision 5)
    and the precision-4 area made of it. Precision 6 publishes nothing (domain.release),
    so its insights would never change: the route answers it without one."""
    return (item.cells[1], item.cells[0])


def _live_place(item: Contribution | None) -> tuple[str, str, str, str, date] | None:
    if item is None or not item.live:
        return None
    return (item.owner, item.cells[0], item.crop, item.cells[2], item.day)


def _presence_changes(
    old: Contribution | None, new: Contribution
) -> list[tuple[Contribution | None, Contribution | None]]:
    """The (before, after) pairs to apply to presences: none when the live place is the
    same (a quantity change), one when owner, area and crop are kept (they are immutable
    through the API), else one per presence concerned."""
    was, now = _live_place(old), _live_place(new)
    if was == now:
        return []
    if was is None or now is None or was[:3] == now[:3]:
        return [(old if was else None, new if now else None)]
    return [(old, None), (None, new)]
