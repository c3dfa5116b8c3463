"""Rebuild of the derived items: rewrite every AGG#, INSIGHT# and MATCH# item from the core items,
resumably (`harvest rebuild`, and `harvest redrive`'s fallback when a stream range is gone)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from harvest.services.insight_rebuild import areas_of, rebuild_insight, rebuild_order
from harvest.services.match_rebuild import expected_match_sets, rebuild_match_sets
from harvest.services.matching import entity_id, side_of
from harvest.services.rebuild import ItemKey, expected_derived, is_marker
from harvest.services.signals import SignalService
from harvest.settings import current_settings, signal_policy
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import deserialize, serialize
from harvest.store.insights import InsightRepository, insight_key
from harvest.store.presence import is_presence
from harvest.store.scan import CORE_SOURCE_PREFIXES, parallel_scan
from harvest.store.table import Item, Table
from harvest.tools.audit import (
    core_sources,
    matching_over,
    scan_derived,
    scan_insights,
    scan_match_sets,
)
from harvest.tools.progress import SegmentProgress

CORRELATION_ID: Final = "rebuild"
BATCH: Final = 25


class ResumeError(ValueError):
    """The state file cannot be resumed from (unreadable, or made with other segments)."""


@dataclass
class State:
    """Progress of one rebuild; saved atomically after each step when a path is given."""

    path: Path | None
    segments: int
    core: dict[int, list[Item]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path | None, segments: int) -> State:
        if path is None or not path.exists():
            return cls(path, segments)
        try:
            raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            saved = int(raw["segments"])
            core = {int(s): [deserialize(i) for i in items] for s, items in raw["core"].items()}
            written, deleted = set(raw["written"]), set(raw["deleted"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ResumeError(f"cannot resume from {path}: {error}") from error
        if saved != segments:
            raise ResumeError(f"{path} was made with --segments {saved}; rerun with that")
        return cls(path, segments, core, written, deleted)

    def save(self) -> None:
        if self.path is None:
            return
        body = {
            "segments": self.segments,
            "core": {str(s): [serialize(i) for i in items] for s, items in self.core.items()},
            "written": sorted(self.written),
            "deleted": sorted(self.deleted),
        }
        partial = self.path.with_suffix(self.path.suffix + ".partial")
        partial.write_text(json.dumps(body, sort_keys=True), encoding="utf-8")
        partial.replace(self.path)

    def finish(self) -> None:
        if self.path is not None and self.path.exists():
            os.remove(self.path)


def _name(key: ItemKey) -> str:
    return f"{key[0]}|{key[1]}"


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What one rebuild did (the counts of its summary line)."""

    table_name: str
    core: int
    markers: int
    buckets: int
    written: int
    deleted: int
    skipped: int
    insights: int = 0
    match_sets: int = 0

    def line(self) -> str:
        return (
            f"rebuilt {self.table_name}: {self.core} core items -> {self.markers} markers, "
            f"{self.buckets} buckets, {self.insights} insights and {self.match_sets} match "
            f"sets; wrote {self.written}, "
            f"deleted {self.deleted} (skipped {self.skipped} written before)"
        )


def rebuild_table(table: Table, state: State) -> Rebuilt:
    """Scans the core items (the segments `state` does not hold yet), then Puts every expected
    AGG# item and deletes the stray ones; also used by `harvest redrive` as its fallback."""
    progress = SegmentProgress("scanned core", sys.stderr)

    def keep(segment: int, items: list[Item]) -> None:
        state.core[segment] = items
        state.save()

    remaining = [s for s in range(state.segments) if s not in state.core]
    parallel_scan(
        table, CORE_SOURCE_PREFIXES, segments=state.segments, only=remaining,
        progress=progress, on_segment=keep,
    )  # fmt: skip
    progress.done()
    expected = expected_derived(item for items in state.core.values() for item in items)
    actual = scan_derived(table, state.segments)
    written, deleted = _write(DerivedRepository(table), state, expected, actual)
    areas = areas_of(expected) | {s.insight.area for s in scan_insights(table, state.segments)}
    written += _write_insights(table, state, sorted(areas, key=rebuild_order))
    match_sets, rewritten = _write_match_sets(table, state)
    written += rewritten
    markers = sum(1 for key in expected if is_marker(key))
    return Rebuilt(
        table.name,
        sum(len(items) for items in state.core.values()),
        markers,
        len(expected) - markers,
        written,
        deleted,
        len(state.written) - written,
        len(areas),
        match_sets,
    )


def _write_match_sets(table: Table, state: State) -> tuple[int, int]:
    """Last, from the core items alone (the CropIndex follows them): every MATCH# set whose
    entries differ from its entity's own set is rewritten (services.match_rebuild). Returns
    (sets expected, sets written)."""
    service = matching_over(table)
    sources = core_sources([item for items in state.core.values() for item in items])
    expected = expected_match_sets(service, sources)
    owners = {(side_of(s), entity_id(s)): (s.owner_id, s.crop) for s in sources}
    actual = scan_match_sets(table, state.segments)
    # No resume bookkeeping needed: a set already rewritten equals its expected entries,
    # so a rerun skips it.
    written = rebuild_match_sets(service.sets, expected, actual, owners, CORRELATION_ID)
    sys.stderr.write(f"rewrote {len(written)} match sets\n")
    return len(expected), len(written)


def _write_insights(table: Table, state: State, areas: list[str]) -> int:
    """After the buckets: each area's insight as of now (see services.insight_rebuild)."""
    signals = SignalService(DerivedRepository(table), policy=signal_policy(current_settings()))
    insights = InsightRepository(table)
    written = 0
    for done, area in enumerate(areas, start=1):
        name = insight_key(area)["PK"]
        if name in state.written:
            continue
        written += rebuild_insight(area, signals, insights, CORRELATION_ID)
        state.written.add(name)
        state.save()
        if done % BATCH == 0 or done == len(areas):
            sys.stderr.write(f"recomputed {done}/{len(areas)} insights\n")
    return written


def _write(
    repository: DerivedRepository,
    state: State,
    expected: dict[ItemKey, dict[str, Any]],
    actual: dict[ItemKey, Item],
) -> tuple[int, int]:
    todo = [key for key in sorted(expected) if _name(key) not in state.written]
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        repository.replace([_fresh(expected[k], actual.get(k)) for k in batch], CORRELATION_ID)
        state.written.update(_name(key) for key in batch)
        state.save()
        sys.stderr.write(f"wrote {start + len(batch)}/{len(todo)} derived items\n")
    # A presence without live items equals an absent one and expires by itself (TTL).
    extra = [k for k in sorted(actual) if k not in expected and not _empty_presence(k, actual[k])]
    for start in range(0, len(extra), BATCH):
        batch = extra[start : start + BATCH]
        repository.delete([{"PK": pk, "SK": sk} for pk, sk in batch])
        state.deleted.update(_name(key) for key in batch)
        state.save()
    return len(todo), len(extra)


def _empty_presence(key: ItemKey, item: Item) -> bool:
    return is_presence(key[0]) and not item.get("live")


def _fresh(item: dict[str, Any], current: Item | None) -> Item:
    """The item to Put: a marker keeps its source version; a bucket's write counter moves on."""
    fresh = dict(item)
    if current is not None and "createdAt" in current:
        fresh["createdAt"] = current["createdAt"]
    if not is_marker((str(item["PK"]), str(item["SK"]))):
        fresh["version"] = int(current.get("version", 0)) + 1 if current else 1
    return fresh
