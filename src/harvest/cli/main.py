"""Entry point of the `harvest` console script.

Each subcommand lives in its own module with `register(subparsers)`, which sets a `handler`
default; adding a command is one module plus one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Protocol

from harvest.cli import (
    CliError,
    audit,
    events,
    export,
    query,
    rebuild,
    redrive,
    schemas,
    seed,
    serve,
    status,
    token,
    watch,
)
from harvest.cli.context import Context, Subparsers
from harvest.cli.target import ClientFactory
from harvest.store.dynamo import make_client


class Command(Protocol):
    def register(self, subparsers: Subparsers, /) -> None: ...


COMMANDS: tuple[Command, ...] = (
    serve, status, token, watch, events, seed, query, schemas, export, audit, rebuild, redrive,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harvest", description="Harvest Exchange tools for the table and schemas/."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, client_factory: ClientFactory | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits on --help (0) and on usage errors (2)
        return exit_.code if isinstance(exit_.code, int) else 2
    handler: Callable[[argparse.Namespace, Context], int] = args.handler
    try:
        return handler(args, Context(client_factory or make_client))
    except CliError as error:
        sys.stderr.write(f"harvest {args.command}: {error.message}\n")
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
