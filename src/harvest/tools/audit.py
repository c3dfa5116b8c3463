"""Audit of the derived items: compare the AGG#, INSIGHT# and MATCH# items with what a
rebuild from the core items would write (`harvest audit`; `harvest rebuild` shares the scans)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from harvest.domain.common import utc_now
from harvest.domain.listing import Listing
from harvest.domain.matching import MatchEntry
from harvest.domain.request import Request
from harvest.domain.signals import SignalPolicy
from harvest.services.insight_rebuild import insight_drift
from harvest.services.match_rebuild import SetKey, expected_match_sets, match_drift
from harvest.services.matching import MatchingService
from harvest.services.rebuild import Drift, ItemKey, drift, expected_derived, is_marker, item_key
from harvest.settings import current_settings, signal_policy
from harvest.store.insights import StoredInsight, stored_insight
from harvest.store.items import ListingItem, RequestItem
from harvest.store.matches import MatchRepository, MatchSet, match_set_from_item
from harvest.store.presence import is_presence
from harvest.store.repository import Repository
from harvest.store.scan import (
    CORE_SOURCE_PREFIXES,
    DERIVED_AGG_PREFIXES,
    DERIVED_INSIGHT_PREFIXES,
    DERIVED_MATCH_PREFIXES,
    parallel_scan,
)
from harvest.store.table import Item, Table
from harvest.tools.progress import SegmentProgress


@dataclass(frozen=True, slots=True)
class Snapshot:
    core: list[Item]
    derived: dict[ItemKey, Item]
    insights: list[StoredInsight]
    # MATCH#: what the core items imply (computed with the table's CropIndex) and what is.
    expected_matches: dict[SetKey, tuple[MatchEntry, ...]] = field(default_factory=dict)
    match_sets: dict[SetKey, MatchSet] = field(default_factory=dict)


def scan_derived(table: Table, segments: int) -> dict[ItemKey, Item]:
    progress = SegmentProgress("scanned AGG#", sys.stderr)
    found = parallel_scan(table, DERIVED_AGG_PREFIXES, segments=segments, progress=progress)
    progress.done()
    return {item_key(item): item for items in found.values() for item in items}


def scan_match_sets(table: Table, segments: int) -> dict[SetKey, MatchSet]:
    progress = SegmentProgress("scanned MATCH#", sys.stderr)
    found = parallel_scan(table, DERIVED_MATCH_PREFIXES, segments=segments, progress=progress)
    progress.done()
    sets = [match_set_from_item(item) for items in found.values() for item in items]
    return {(s.side, s.entity_id): s for s in sets}


def core_sources(core: list[Item]) -> list[Listing | Request]:
    """The listings and requests among scanned core items."""
    sources: list[Listing | Request] = []
    for item in core:
        if item.get("type") == "listing":
            sources.append(ListingItem.decode(item))
        elif item.get("type") == "request":
            sources.append(RequestItem.decode(item))
    return sources


def matching_over(table: Table) -> MatchingService:
    return MatchingService(Repository(table), MatchRepository(table), utc_now)


def scan_insights(table: Table, segments: int) -> list[StoredInsight]:
    progress = SegmentProgress("scanned INSIGHT#", sys.stderr)
    found = parallel_scan(table, DERIVED_INSIGHT_PREFIXES, segments=segments, progress=progress)
    progress.done()
    return [stored_insight(item) for items in found.values() for item in items]


@dataclass(frozen=True, slots=True)
class Audit:
    """What one audit found: the counts of its summary and one drift per difference."""

    table_name: str
    segments: int
    snapshot: Snapshot
    markers: int
    buckets: int
    presences: int
    drifts: list[Drift]

    def lines(self) -> list[str]:
        drifts = len(self.drifts)
        return [
            f"audit of {self.table_name}: scanned {len(self.snapshot.core)} core and "
            f"{len(self.snapshot.derived)} AGG# and {len(self.snapshot.insights)} INSIGHT# "
            f"items in {self.segments} segments",
            f"compared {self.markers} markers, {self.buckets} buckets, "
            f"{self.presences} presences and {len(self.snapshot.insights)} insights: "
            f"{drifts} drift{'s' if drifts != 1 else ''}",
            f"compared {len(set(self.snapshot.expected_matches) | set(self.snapshot.match_sets))}"
            " match sets",
            *(found.line() for found in self.drifts),
        ]


def scan_snapshot(table: Table, segments: int) -> Snapshot:
    progress = SegmentProgress("scanned core", sys.stderr)
    core = parallel_scan(table, CORE_SOURCE_PREFIXES, segments=segments, progress=progress)
    progress.done()
    items = [item for items in core.values() for item in items]
    return Snapshot(
        items,
        scan_derived(table, segments),
        scan_insights(table, segments),
        expected_match_sets(matching_over(table), core_sources(items)),
        scan_match_sets(table, segments),
    )


def audit(
    table_name: str, segments: int, snapshot: Snapshot, policy: SignalPolicy | None = None
) -> Audit:
    """Compares the snapshot's derived items with those its core items imply; the insights
    as `policy` (default: the settings') computes them."""
    expected = expected_derived(snapshot.core)
    policy = policy or signal_policy(current_settings())
    drifts = drift(expected, snapshot.derived)
    drifts += insight_drift(expected, snapshot.insights, policy)
    drifts += match_drift(snapshot.expected_matches, snapshot.match_sets)
    keys: set[ItemKey] = set(expected) | set(snapshot.derived)
    markers = sum(1 for key in keys if is_marker(key))
    presences = sum(1 for key in keys if is_presence(key[0]))
    buckets = len(keys) - markers - presences
    return Audit(table_name, segments, snapshot, markers, buckets, presences, drifts)
