"""`harvest rebuild`: rewrite every AGG# and INSIGHT# item from the core items (resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import CliError, target
from harvest.cli.segments import add_segments, check_segments, table_errors
from harvest.store.table import Table
from harvest.tools.rebuild import ResumeError, State, rebuild_table

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

DESCRIPTION = """\
Recompute every marker and day bucket from the listings and requests and Put them exactly
(fresh updatedAt, correlationId "rebuild"), deleting AGG# items that should not exist.
Pause the aggregator while it runs: a record applied meanwhile may be overwritten.
--state FILE records the core segments scanned and the keys written, so a rerun after an
interruption skips that work; the file is removed when the rebuild completes.
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "rebuild",
        help="rewrite the derived AGG# items from core items",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_segments(parser)
    parser.add_argument("--state", type=Path, metavar="FILE", help="resume state file")
    target.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    segments = check_segments(args)
    try:
        state = State.load(args.state, segments)
    except ResumeError as error:
        raise CliError(str(error)) from error
    with target.open_target(args, write_back=True) as where, table_errors(where.table_name):
        table = Table(context.client_factory(where.region, where.endpoint_url), where.table_name)
        rebuilt = rebuild_table(table, state)
    state.finish()
    sys.stdout.write(rebuilt.line() + "\n")
    return 0
