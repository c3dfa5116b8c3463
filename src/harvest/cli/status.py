"""`harvest status`: what the local runtime is doing (see harvest.local.status)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli.target import find_runtime_dir

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "status",
        help="the local runtime's state and, per function, its lag behind the stream and DLQ",
        description="Whether the runtime of this checkout runs, and per emulated function: "
        "records behind the table stream (after its checkpoint), the age of the oldest of "
        "them (IteratorAge), its dead-letter depth and its last failure.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="the local runtime's data directory (default: the nearest .harvest/ upwards)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.status import render, runtime_status  # noqa: PLC0415 - local-only
    from harvest.tools.template import load_template  # noqa: PLC0415

    data_dir: Path = args.data_dir if args.data_dir is not None else find_runtime_dir()
    status = runtime_status(data_dir, load_template())
    if args.json:
        print(json.dumps(status.to_json(), indent=2))
    else:
        print("\n".join(render(status)))
    return 0
