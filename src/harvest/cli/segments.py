"""The --segments option of the commands that scan the whole table (audit, rebuild, redrive)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli import CliError, UsageError
from harvest.domain.errors import ServiceUnavailable
from harvest.store.scan import DEFAULT_SEGMENTS


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
