"""Which table a command talks to: an endpoint URL, a local runtime's data directory, or
whatever boto3 resolves on its own (AWS_ENDPOINT_URL, profiles, real AWS)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import UsageError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# (region, endpoint_url) -> client; tests inject one that returns a mocked client.
type ClientFactory = Callable[[str, str | None], DynamoDBClient]
RUNTIME_FILE = "runtime.json"


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


def resolve(args: argparse.Namespace) -> Target:
    region: str = args.region or os.environ.get("AWS_REGION") or "us-east-1"
    table: str | None = args.table
    if args.data_dir is not None:
        runtime = _read_runtime(args.data_dir)
        region = args.region or runtime.get("region") or region
        return Target(runtime["endpointUrl"], table or runtime["tableName"], region)
    default_table = os.environ.get("TABLE_NAME") or "harvest-local"
    return Target(args.endpoint_url, table or default_table, region)


def _read_runtime(data_dir: Path) -> dict[str, str]:
    path = data_dir / RUNTIME_FILE
    if not path.is_file():
        raise UsageError(
            f"the local runtime has not written {path}; start it first or pass --endpoint-url"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        runtime = {name: str(document[name]) for name in ("endpointUrl", "tableName")}
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(f"{path} needs endpointUrl and tableName: {error}") from error
    if document.get("region"):
        runtime["region"] = str(document["region"])
    return runtime
