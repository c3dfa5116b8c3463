"""`harvest export-plain FILE`: DynamoDB-JSON lines -> plain JSON lines via dynamodb_json.

A convenience view for eyeballing exports, not a faithful copy: dynamodb_json decodes every
fractional number as a float and every string shaped like `%Y-%m-%dT%H:%M:%S.%f` as a date,
and a map whose only key is a type tag (S, N, M, ...) collapses (tests/unit/test_dynamodb_json.py
pins all of it). Use `harvest query --plain` for an exact plain view of live items.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dynamodb_json import json_util

from harvest.cli import CliError, UsageError

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

HELP = """\
Convert a DynamoDB-JSON-lines export (one item per line, bare or wrapped as {"Item": ...}
like DynamoDB's S3 export; e.g. schemas/sample-data.jsonl) to plain JSON lines on stdout,
using the dynamodb_json library. LOSSY: fractional numbers become floats (digits beyond
double precision are lost), strings that look like naive timestamps are re-formatted, and
maps keyed by a type tag decode wrongly. Keep it away from anything where precision matters.
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "export-plain",
        help="DynamoDB-JSON lines -> plain JSON lines (lossy for numbers)",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="DynamoDB-JSON lines file, or - for stdin")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    if args.file == "-":
        _convert(sys.stdin, sys.stdout)
        return 0
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    with path.open(encoding="utf-8") as source:
        _convert(source, sys.stdout)
    return 0


def _convert(source: TextIO, sink: TextIO) -> None:
    for line in plain_lines(source):
        sink.write(line + "\n")


def plain_lines(lines: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            image = json.loads(line)
        except ValueError as error:
            raise CliError(f"line {number} is not JSON: {error}") from error
        if isinstance(image, dict) and set(image) == {"Item"}:
            image = image["Item"]
        if not isinstance(image, dict):
            raise CliError(f"line {number} is not a DynamoDB-JSON item")
        yield json.dumps(json_util.loads(image, as_dict=True), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
