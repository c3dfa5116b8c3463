"""`harvest audit`: compare the Aggregator's derived items with a rebuild from core items."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from harvest.cli import target
from harvest.cli.segments import add_segments, check_segments, table_errors
from harvest.settings import current_settings, signal_policy
from harvest.store.table import Table
from harvest.tools.audit import audit, scan_snapshot

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

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


def run(args: argparse.Namespace, context: Context) -> int:
    segments = check_segments(args)
    with target.open_target(args) as where, table_errors(where.table_name):
        table = Table(context.client_factory(where.region, where.endpoint_url), where.table_name)
        snapshot = scan_snapshot(table, segments)
        # Read while the target is open: a stopped runtime's noise key comes with its data.
        policy = signal_policy(current_settings())
    found = audit(where.table_name, segments, snapshot, policy)
    sys.stdout.write("".join(line + "\n" for line in found.lines()))
    return 1 if found.drifts else 0
