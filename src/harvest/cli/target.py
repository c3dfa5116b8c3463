"""Which table a command talks to: an endpoint URL, a local runtime's data directory, or
whatever boto3 resolves on its own (AWS_ENDPOINT_URL, profiles, real AWS)."""

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


@dataclass(frozen=True, slots=True)
class Target:
    endpoint_url: str | None
    table_name: str
    region: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--endpoint-url", help="DynamoDB endpoint, e.g. http://127.0.0.1:8000")
    where.add_argument(
        "--data-dir",
        type=Path,
        help=f"data directory of the local runtime (reads DIR/{RUNTIME_FILE})",
    )
    parser.add_argument("--table", help="table name (default: $TABLE_NAME or harvest-local)")
    parser.add_argument("--region", help="AWS region (default: $AWS_REGION or us-east-1)")


@contextmanager
def open_target(args: argparse.Namespace, *, write_back: bool = False) -> Iterator[Target]:
    """The table a command works on; a stopped runtime's data is opened for the duration."""
    region: str = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    table: str | None = args.table
    if args.data_dir is not None:
        try:
            with open_data_dir(args.data_dir, write_back=write_back) as endpoint:
                yield Target(
                    endpoint.endpoint_url,
                    table or endpoint.table_name,
                    args.region or endpoint.region,
                )
        except DataDirError as error:
            raise UsageError(str(error)) from None
        return
    default_table = os.environ.get("TABLE_NAME") or "harvest-local"
    yield Target(args.endpoint_url, table or default_table, region)
