"""`harvest query PATTERN --param name=value`: run a documented access pattern by name."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli import CliError, UsageError, target
from harvest.cli.output import dynamodb_json_line, plain_json_line
from harvest.domain.errors import ServiceUnavailable
from harvest.store.access_patterns import ACCESS_PATTERNS, AccessPattern, ParamError, find
from harvest.store.repository import Repository
from harvest.store.table import Table

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

DESCRIPTION = """\
Run a named access pattern (see schemas/access-patterns.md) and print one item per line.
Items are stored items in DynamoDB JSON, numbers as strings, the same shape as
schemas/sample-data.jsonl and table exports. --plain prints plain JSON instead: numbers
become JSON numbers, or decimal strings where a JSON reader could not keep every digit.
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "query",
        help="run a documented access pattern",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("pattern", nargs="?", metavar="PATTERN", help="access pattern name")
    parser.add_argument("--list", action="store_true", help="print the catalogue and exit")
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pattern parameter (repeat for several)",
    )
    parser.add_argument("--plain", action="store_true", help="plain JSON instead of DynamoDB JSON")
    target.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    if args.list:
        sys.stdout.write(catalogue())
        return 0
    if not args.pattern:
        raise UsageError("give a PATTERN to run, or --list to see them")
    try:
        pattern = find(args.pattern)
    except KeyError as error:
        raise UsageError(f"{error.args[0]} (harvest query --list shows all)") from None
    params = parse_params(args.param)
    try:
        pattern.bind(params)  # usage errors before any network call
    except ParamError as error:
        raise UsageError(str(error)) from None
    with target.open_target(args) as where:
        client = context.client_factory(where.region, where.endpoint_url)
        repository = Repository(Table(client, where.table_name))
        try:
            items = pattern.run(repository, **params)
        except ValueError as error:  # e.g. a cell coarser than the geo partition
            raise UsageError(str(error)) from None
        except (ClientError, BotoCoreError, ServiceUnavailable) as error:
            raise CliError(f"{pattern.name} failed on table {where.table_name}: {error}") from error
    line = plain_json_line if args.plain else dynamodb_json_line
    for item in items:
        sys.stdout.write(line(item) + "\n")
    return 0


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise UsageError(f"--param takes NAME=VALUE, got {pair!r}")
        if name in params:
            raise UsageError(f"parameter {name} given twice")
        params[name] = value
    return params


def _usage(pattern: AccessPattern) -> str:
    return " ".join(f"{p.name}=" if p.required else f"[{p.name}=]" for p in pattern.params)


def catalogue() -> str:
    rows = [
        (
            pattern.name,
            pattern.index or "table",
            _usage(pattern),
            ", ".join(pattern.returns),
        )
        for pattern in ACCESS_PATTERNS
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        f"{name:<{widths[0]}}  {index:<{widths[1]}}  {usage:<{widths[2]}}  -> {returns}"
        for name, index, usage, returns in rows
    ]
    return "\n".join(lines) + "\n"
