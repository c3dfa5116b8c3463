"""Open a local runtime's data directory, whether the runtime is running or stopped.

Running: use the endpoint it wrote to runtime.json. Stopped: start the same engine over the
saved data for the duration of a command (DynamoDB Local on its files; moto from the
table snapshot, written back afterwards when the command changed data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvest.local.engines import DynamoDbLocalEngine, MotoEngine
from harvest.local.lifecycle import (
    LIVE_STATES,
    NOISE_KEY_FILE,
    RUNTIME_FILE,
    SNAPSHOT_FILE,
    pid_alive,
)
from harvest.local.snapshot import export_table, import_table
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table

__all__ = ["RUNTIME_FILE", "SNAPSHOT_FILE", "DataDirError", "Endpoint", "open_data_dir"]


class DataDirError(Exception):
    """The directory holds no runtime data we can open."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    endpoint_url: str
    table_name: str
    region: str


def read_runtime_file(data_dir: Path) -> dict[str, Any]:
    path = data_dir / RUNTIME_FILE
    if not path.is_file():
        raise DataDirError(f"{path} does not exist: start `harvest serve --data-dir {data_dir}`")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DataDirError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(document, dict) or not {"tableName", "engine"} <= set(document):
        raise DataDirError(f"{path} needs tableName and engine")
    return document


def local_credentials() -> None:
    # Local engines accept any credentials but boto3 insists on having some.
    if not os.environ.get("AWS_ACCESS_KEY_ID") and not os.environ.get("AWS_PROFILE"):
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105  # nosec B105


@contextmanager
def open_data_dir(data_dir: Path, *, write_back: bool = False) -> Iterator[Endpoint]:
    """The endpoint of a runtime's data, its engine started if the runtime is not running;
    while it is open, the runtime's signal noise key too (`runtime_noise_key`)."""
    with _open_engine(data_dir, write_back=write_back) as endpoint, runtime_noise_key(data_dir):
        yield endpoint


@contextmanager
def runtime_noise_key(data_dir: Path) -> Iterator[None]:
    """SIGNAL_NOISE_KEY set to the runtime's own (domain.noise), unless one is set: what
    audits or rebuilds its data must draw the noise its functions drew."""
    path = data_dir / NOISE_KEY_FILE
    if "SIGNAL_NOISE_KEY" in os.environ or not path.exists():
        yield
        return
    os.environ["SIGNAL_NOISE_KEY"] = path.read_text(encoding="utf-8").strip()
    try:
        yield
    finally:
        os.environ.pop("SIGNAL_NOISE_KEY", None)


@contextmanager
def _open_engine(data_dir: Path, *, write_back: bool) -> Iterator[Endpoint]:
    document = read_runtime_file(data_dir)
    table = str(document["tableName"])
    region = str(document.get("region") or "us-east-1")
    engine_name = str(document["engine"])
    if engine_name != "external":
        local_credentials()
    if document.get("state", "running") in LIVE_STATES and pid_alive(document.get("pid")):
        yield Endpoint(str(document["endpointUrl"]), table, region)
        return
    if engine_name == "dynamodb-local":
        engine = DynamoDbLocalEngine(data_dir=data_dir / "dynamodb-local")
        engine.start()
        try:
            yield Endpoint(engine.endpoint_url, table, region)
        finally:
            engine.stop()
        return
    if engine_name == "moto":
        moto = MotoEngine()
        moto.start()
        try:
            client = make_client(region, moto.endpoint_url)
            create_table(client, table)
            import_table(client, table, data_dir / SNAPSHOT_FILE)
            yield Endpoint(moto.endpoint_url, table, region)
            if write_back:
                export_table(client, table, data_dir / SNAPSHOT_FILE)
        finally:
            moto.stop()
        return
    yield Endpoint(str(document["endpointUrl"]), table, region)  # external: always there
