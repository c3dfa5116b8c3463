"""Parallel, filtered, consistent Scans of the table (rebuild and audit read everything).

Each of `TotalSegments` segments is scanned by its own thread; a FilterExpression keeps the
items whose PK begins with one of the given prefixes (the scan still reads, and is billed
for, every item of the segment). Expressions stay here, out of services and the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from harvest.store.dynamo import deserialize, values
from harvest.store.table import Item, Table

__all__ = [
    "CORE_SOURCE_PREFIXES",
    "DEFAULT_SEGMENTS",
    "DERIVED_AGG_PREFIXES",
    "DERIVED_INSIGHT_PREFIXES",
    "DERIVED_MATCH_PREFIXES",
    "ScanProgress",
]

DEFAULT_SEGMENTS: Final = 4
CORE_SOURCE_PREFIXES: Final = ("LISTING#", "REQUEST#")
DERIVED_AGG_PREFIXES: Final = ("AGG#",)
DERIVED_INSIGHT_PREFIXES: Final = ("INSIGHT#",)
DERIVED_MATCH_PREFIXES: Final = ("MATCH#",)

# (segment, items kept so far in that segment) after each page.
type ScanProgress = Callable[[int, int], None]


def scan_segment(
    table: Table,
    prefixes: Sequence[str],
    segment: int,
    total_segments: int,
    progress: ScanProgress | None = None,
) -> Iterator[Item]:
    """The items of one segment whose PK begins with one of `prefixes`, all pages."""
    if not prefixes:
        raise ValueError("give at least one PK prefix")
    if not 0 <= segment < total_segments:
        raise ValueError(f"segment {segment} is not in 0..{total_segments - 1}")
    condition = " OR ".join(f"begins_with(#pk, :p{i})" for i in range(len(prefixes)))
    start: dict[str, Any] | None = None
    kept = 0
    while True:
        kwargs: dict[str, Any] = {
            "TableName": table.name,
            "ConsistentRead": True,
            "Segment": segment,
            "TotalSegments": total_segments,
            "FilterExpression": condition,
            "ExpressionAttributeNames": {"#pk": "PK"},
            "ExpressionAttributeValues": values(**{f"p{i}": p for i, p in enumerate(prefixes)}),
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.client.scan(**kwargs)
        items = [deserialize(raw) for raw in page.get("Items", [])]
        kept += len(items)
        if progress is not None:
            progress(segment, kept)
        yield from items
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def parallel_scan(
    table: Table,
    prefixes: Sequence[str],
    *,
    segments: int = DEFAULT_SEGMENTS,
    only: Iterable[int] | None = None,
    progress: ScanProgress | None = None,
    on_segment: Callable[[int, list[Item]], None] | None = None,
) -> dict[int, list[Item]]:
    """Scan the given segments (default: all) in parallel; segment -> its items.
    `on_segment` is called (from the calling thread) as each segment completes."""
    if segments < 1:
        raise ValueError("segments must be at least 1")
    wanted = sorted(set(range(segments) if only is None else only))
    found: dict[int, list[Item]] = {}
    if not wanted:
        return found
    with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
        futures = {
            segment: pool.submit(
                lambda s: list(scan_segment(table, prefixes, s, segments, progress)), segment
            )
            for segment in wanted
        }
        for segment, future in futures.items():
            found[segment] = future.result()
            if on_segment is not None:
                on_segment(segment, found[segment])
    return found
