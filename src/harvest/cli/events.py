"""`harvest events`: what the publisher put on the local event bus."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import CliError
from harvest.cli.target import find_runtime_dir

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "events", help="print (or --follow) the local event bus (JSON lines)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="the local runtime's data directory (default: the nearest .harvest/ upwards)",
    )
    parser.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.bus import follow  # noqa: PLC0415

    data_dir: Path = args.data_dir if args.data_dir is not None else find_runtime_dir()
    path = data_dir / "events.jsonl"
    if not args.follow:
        if not path.exists():
            raise CliError(f"no events yet ({path} does not exist)")
        sys.stdout.write(path.read_text(encoding="utf-8"))
        return 0
    try:
        for line in follow(path):
            print(line, flush=True)
    except KeyboardInterrupt:
        return 0
    return 0  # pragma: no cover - follow() never ends on its own
