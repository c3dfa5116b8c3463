"""The Aggregator's decision per stream record: exactly-once effect on the day buckets.

The marker of a source item (not the record's OldImage) is the truth of what was applied: a
record whose version is not above the marker's is a duplicate, a replay or a late arrival and
changes nothing. Otherwise the deltas from the marker's contribution to the record's NEW image
go into the buckets together with the new marker, in one transaction conditioned on the
marker version read; losing that race means re-reading the marker and deciding again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol

from harvest.domain.contribution import BucketDelta, Contribution, bucket_deltas, contribution_of
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.errors import RetryableConflict
from harvest.domain.events import ItemChange
from harvest.store.derived import Marker, StaleMarker

__all__ = ["SOURCE_PREFIXES", "AggregationOutcome", "AggregationService", "MarkerStore"]

SOURCE_PREFIXES: Final = ("LISTING#", "REQUEST#")
MAX_ATTEMPTS: Final = 5

type Decision = Literal["applied", "duplicate", "ignored"]


class MarkerStore(Protocol):
    """What the service needs of DerivedRepository (an in-memory fake in property tests)."""

    def marker(self, source_key: str) -> Marker | None: ...

    def apply(
        self,
        source_key: str,
        expected_marker_version: int | None,
        new_version: int,
        new_contribution: Contribution | None,
        deltas: list[BucketDelta],
        correlation_id: str,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class AggregationOutcome:
    decision: Decision
    buckets: int = 0


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
        contribution = contribution_of(change.new, self.catalog)
        if contribution is None:
            return AggregationOutcome("ignored")
        version = int(change.new["version"])
        for attempt in range(MAX_ATTEMPTS):
            marker = self.repository.marker(pk)
            if marker is not None and marker.version >= version:
                return AggregationOutcome("duplicate")
            deltas = bucket_deltas(marker.contribution if marker else None, contribution)
            try:
                self.repository.apply(
                    pk,
                    marker.version if marker else None,
                    version,
                    contribution,
                    deltas,
                    correlation_id,
                )
            except (StaleMarker, RetryableConflict):
                if attempt == MAX_ATTEMPTS - 1:
                    raise
                continue
            return AggregationOutcome("applied", len(deltas))
        raise AssertionError("unreachable")  # pragma: no cover
