"""MATCH# sets expected from the core items, their drift, and their rebuild.

A set's expected entries are its entity's own set (MatchingService.own_set: the same bounded
search and ranking the worker uses), so a table the worker kept up to date shows no drift,
and a rebuild writes what the worker would have. Live listings and open requests only: a
closed item's set is expected empty, and an empty set equals an absent one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from harvest.domain.listing import Listing
from harvest.domain.matching import MatchEntry, Side
from harvest.domain.request import Request
from harvest.services.matching import (
    MatchingService,
    MatchOutcome,
    MatchSets,
    entity_id,
    side_of,
)
from harvest.services.rebuild import Drift
from harvest.store.matches import MatchSet, MatchSetConflict

type SetKey = tuple[Side, str]


def expected_match_sets(
    service: MatchingService, sources: Iterable[Listing | Request]
) -> dict[SetKey, tuple[MatchEntry, ...]]:
    """Every non-empty set the core items imply, by (side, entity id)."""
    now = service.clock()
    expected: dict[SetKey, tuple[MatchEntry, ...]] = {}
    for source in sources:
        entries = service.own_set(source, now, MatchOutcome())
        if entries:
            expected[(side_of(source), entity_id(source))] = tuple(entries)
    return expected


def match_drift(
    expected: Mapping[SetKey, tuple[MatchEntry, ...]], actual: Mapping[SetKey, MatchSet]
) -> list[Drift]:
    """One drift per set whose entries differ: the match ids when they differ, else the
    first entry whose content (cell, distance, freshness) differs."""
    drifts: list[Drift] = []
    for side, key in sorted(set(expected) | set(actual)):
        want = expected.get((side, key), ())
        stored = actual.get((side, key))
        have = stored.entries if stored else ()
        if list(want) == list(have):
            continue
        pk = f"MATCH#{side.value.upper()}#{key}"
        ids_want = [entry.match_id for entry in want]
        ids_have = [entry.match_id for entry in have]
        if ids_want != ids_have:
            drifts.append(Drift(pk, "SET", "matches", ids_want or None, ids_have or None))
            continue
        for a, b in zip(want, have, strict=True):
            if a != b:
                drifts.append(Drift(pk, "SET", f"entries[{a.match_id}]", _show(a), _show(b)))
                break
    return drifts


def _show(entry: MatchEntry) -> dict[str, Any]:
    return {k: v for k, v in entry.to_item().items() if k in ("cell", "distanceM", "listedAt")}


def rebuild_match_sets(
    sets: MatchSets,
    expected: Mapping[SetKey, tuple[MatchEntry, ...]],
    actual: Mapping[SetKey, MatchSet],
    owners: Mapping[SetKey, tuple[str, str]],
    correlation_id: str,
) -> list[SetKey]:
    """Writes every set whose entries differ from the expected ones (version + 1, so the
    publisher announces entries that were missing); returns the keys written. `owners`
    gives (owner id, crop) of each expected set's entity."""
    written: list[SetKey] = []
    for set_key in sorted(set(expected) | set(actual)):
        want = expected.get(set_key, ())
        stored = actual.get(set_key)
        if list(want) == list(stored.entries if stored else ()):
            continue
        side, key = set_key
        owner, crop = owners.get(set_key, ("", ""))
        base = stored or MatchSet(side, key, owner, crop)
        try:
            sets.save(replace(base, entries=want), correlation_id)
        except MatchSetConflict as error:  # the worker is running: the rebuild needs it paused
            raise RuntimeError(f"{side.value} {key} changed during the rebuild") from error
        written.append(set_key)
    return written
