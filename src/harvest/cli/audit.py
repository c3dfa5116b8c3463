"""`harvest audit`: compare the Aggregator's derived items with a rebuild from core items."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli import CliError, UsageError, target
from harvest.cli.progress import SegmentProgress
from harvest.domain.errors import ServiceUnavailable
from harvest.domain.signals import SignalPolicy
from harvest.services.insight_rebuild import insight_drift
from harvest.services.rebuild import ItemKey, drift, expected_derived, is_marker, item_key
from harvest.settings import get_settings
from harvest.store.insights import StoredInsight, stored_insight
from harvest.store.presence import is_presence
from harvest.store.scan import (
    CORE_SOURCE_PREFIXES,
    DEFAULT_SEGMENTS,
    DERIVED_AGG_PREFIXES,
    DERIVED_INSIGHT_PREFIXES,
    parallel_scan,
)
from harvest.store.table import Item, Table

if TYPE_CHECKING:
    from harvest.cli.main import Context, Subparsers

DESCRIPTION = """\
Scan the listings and requests (the core items), the AGG# items (markers and day buckets) and
the INSIGHT# items with a parallel consistent Scan, recompute what the aggregator and the
insight worker should have written, and print one line per difference:
KEY  ATTRIBUTE  expected=..  actual=.. . Bookkeeping attributes are ignored; a bucket whose
counters are all zero equals an absent one; an insight is compared, window by window, with
the signals recomputed as of its own asOfDay. Exit 0: no drift; 1: drift.
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="compare derived AGG# and INSIGHT# items with a rebuild from core items",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_segments(parser)
    target.add_arguments(parser)
    parser.set_defaults(handler=run)


def add_segments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--segments",
        type=int,
        default=DEFAULT_SEGMENTS,
        metavar="N",
        help=f"parallel Scan segments (default {DEFAULT_SEGMENTS})",
    )


def check_segments(args: argparse.Namespace) -> int:
    segments = int(args.segments)
    if not 1 <= segments <= 1_000_000:
        raise UsageError(f"--segments must be between 1 and 1000000, not {segments}")
    return segments


@contextmanager
def table_errors(table: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError, ServiceUnavailable) as error:
        raise CliError(f"scan of table {table} failed: {error}") from error


@dataclass(frozen=True, slots=True)
class Snapshot:
    core: list[Item]
    derived: dict[ItemKey, Item]
    insights: list[StoredInsight]


def scan_derived(table: Table, segments: int) -> dict[ItemKey, Item]:
    progress = SegmentProgress("scanned AGG#", sys.stderr)
    found = parallel_scan(table, DERIVED_AGG_PREFIXES, segments=segments, progress=progress)
    progress.done()
    return {item_key(item): item for items in found.values() for item in items}


def scan_insights(table: Table, segments: int) -> list[StoredInsight]:
    progress = SegmentProgress("scanned INSIGHT#", sys.stderr)
    found = parallel_scan(table, DERIVED_INSIGHT_PREFIXES, segments=segments, progress=progress)
    progress.done()
    return [stored_insight(item) for items in found.values() for item in items]


def run(args: argparse.Namespace, context: Context) -> int:
    segments = check_segments(args)
    with target.open_target(args) as where, table_errors(where.table_name):
        table = Table(context.client_factory(where.region, where.endpoint_url), where.table_name)
        progress = SegmentProgress("scanned core", sys.stderr)
        core = parallel_scan(table, CORE_SOURCE_PREFIXES, segments=segments, progress=progress)
        progress.done()
        snapshot = Snapshot(
            [item for items in core.values() for item in items],
            scan_derived(table, segments),
            scan_insights(table, segments),
        )
    expected = expected_derived(snapshot.core)
    policy = SignalPolicy(k=get_settings().signal_k)
    drifts = drift(expected, snapshot.derived)
    drifts += insight_drift(expected, snapshot.insights, policy)
    keys: set[ItemKey] = set(expected) | set(snapshot.derived)
    markers = sum(1 for key in keys if is_marker(key))
    presences = sum(1 for key in keys if is_presence(key[0]))
    out = sys.stdout
    out.write(
        f"audit of {where.table_name}: scanned {len(snapshot.core)} core and "
        f"{len(snapshot.derived)} AGG# and {len(snapshot.insights)} INSIGHT# items "
        f"in {segments} segments\n"
        f"compared {markers} markers, {len(keys) - markers - presences} buckets, "
        f"{presences} presences and "
        f"{len(snapshot.insights)} insights: "
        f"{len(drifts)} drift{'s' if len(drifts) != 1 else ''}\n"
    )
    for found in drifts:
        out.write(found.line() + "\n")
    return 1 if drifts else 0
