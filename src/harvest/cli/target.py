"""Which table a command talks to.

By default, the local runtime of this checkout: the nearest `.harvest/runtime.json` from the
working directory upwards, whether that runtime is running or stopped. Anything else must be
asked for: `--data-dir DIR` (another runtime), `--endpoint-url URL` (any DynamoDB endpoint),
or `--table NAME` / `--aws` (whatever boto3 resolves on its own: AWS_ENDPOINT_URL, profiles,
real AWS). A command run without arguments therefore never reaches a real account by accident.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import UsageError
from harvest.local.offline import RUNTIME_FILE, DataDirError, open_data_dir

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# (region, endpoint_url) -> client; tests inject one that returns a mocked client.
type ClientFactory = Callable[[str, str | None], DynamoDBClient]

DEFAULT_DATA_DIR = Path(".harvest")


@dataclass(frozen=True, slots=True)
class Target:
    endpoint_url: str | None
    table_name: str
    region: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        help=f"a local runtime's data directory (reads DIR/{RUNTIME_FILE}); default: the "
        f"nearest {DEFAULT_DATA_DIR}/ from here upwards",
    )
    where.add_argument("--endpoint-url", help="DynamoDB endpoint, e.g. http://127.0.0.1:8000")
    where.add_argument(
        "--aws",
        action="store_true",
        help="the table boto3 resolves on its own (AWS_ENDPOINT_URL, profile, real AWS)",
    )
    parser.add_argument(
        "--table",
        help="table name (default: the runtime's, else $TABLE_NAME or harvest-local); "
        "without --data-dir or --endpoint-url it means --aws",
    )
    parser.add_argument("--region", help="AWS region (default: $AWS_REGION or us-east-1)")


def find_runtime_dir(start: Path | None = None) -> Path:
    """The nearest directory holding a local runtime's data, from `start` upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_DATA_DIR
        if (candidate / RUNTIME_FILE).is_file():
            return candidate
    raise UsageError(
        f"no local runtime found ({DEFAULT_DATA_DIR}/{RUNTIME_FILE} in {here} or above): "
        "start one with `make serve`, or name the table: --data-dir DIR, --endpoint-url URL, "
        "or --table NAME / --aws for the table boto3 resolves (real AWS)"
    )


def _explicit_remote(args: argparse.Namespace) -> bool:
    return bool(args.endpoint_url or args.aws or (args.table and args.data_dir is None))


@contextmanager
def open_target(args: argparse.Namespace, *, write_back: bool = False) -> Iterator[Target]:
    """The table a command works on; a stopped runtime's data is opened for the duration."""
    region: str = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    table: str | None = args.table
    if _explicit_remote(args):
        default_table = os.environ.get("TABLE_NAME") or "harvest-local"
        yield Target(args.endpoint_url, table or default_table, region)
        return
    data_dir: Path = args.data_dir if args.data_dir is not None else find_runtime_dir()
    try:
        with open_data_dir(data_dir, write_back=write_back) as endpoint:
            yield Target(
                endpoint.endpoint_url,
                table or endpoint.table_name,
                args.region or endpoint.region,
            )
    except DataDirError as error:
        raise UsageError(str(error)) from None
