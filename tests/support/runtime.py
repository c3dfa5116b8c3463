"""Runs the local runtime in-process for end-to-end tests and talks HTTP to it."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvest.cli.main import main
from harvest.local.options import RuntimeOptions
from harvest.local.runtime import LocalRuntime
from harvest.local.tokens import TokenIssuer, signing_key
from harvest.once import Once
from harvest.store.dynamo import deserialize, make_client


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: Any


class HttpClient:
    def __init__(self, base_url: str, issuer: TokenIssuer) -> None:
        self.base_url = base_url
        self.issuer = issuer

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        user: str | None = "alice",
        tier: str = "free",
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL we started
            self.base_url + path, data=data, method=method
        )
        request.add_header("Content-Type", "application/json")
        if user is not None:
            request.add_header("Authorization", f"Bearer {self.issuer.issue(user, tier)}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return HttpResult(response.status, dict(response.headers), _json(raw))
        except urllib.error.HTTPError as error:
            return HttpResult(error.code, dict(error.headers), _json(error.read()))


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


@contextmanager
def running_runtime(
    data_dir: Path,
    template: dict[str, Any] | None = None,
    engine: str = "moto",
    *,
    with_pollers: bool = True,
) -> Iterator[tuple[LocalRuntime, HttpClient]]:
    """Start the runtime on free ports; restore the process environment afterwards."""
    saved = dict(os.environ)
    os.environ["HARVEST_CONFIG_DIR"] = str(data_dir / "config")
    runtime = LocalRuntime(
        RuntimeOptions(
            port=0, data_dir=data_dir, template=template, engine=engine, with_pollers=with_pollers
        )
    )
    clear_container_caches()
    _ACTIVE_DATA_DIRS.append(data_dir)
    try:
        runtime.start()
        yield runtime, HttpClient(runtime.api_url, TokenIssuer(signing_key()))
    finally:
        _ACTIVE_DATA_DIRS.remove(data_dir)
        runtime.stop()
        os.environ.clear()
        os.environ.update(saved)
        clear_container_caches()


def clear_container_caches() -> None:
    """What a Lambda container keeps between invocations (each entry point's object graph:
    settings, clients) belongs to one runtime: each runtime has its own endpoints."""
    Once.reset_all()


def stored_item(runtime: LocalRuntime, pk: str, sk: str) -> dict[str, Any] | None:
    """An item as the runtime's engine holds it now (plain values), or None."""
    client = make_client(runtime.options.region, runtime.engine.endpoint_url)
    raw = client.get_item(
        TableName=runtime.options.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}}
    ).get("Item")
    return deserialize(raw) if raw else None


def audit_clean(runtime: LocalRuntime) -> bool:
    """`harvest audit` against the running engine: True once the consumers have caught up
    (every derived item equals a rebuild from core). Stopping before that would leave the
    records still in the stream unprocessed, and an audit after the stop would see them."""
    argv = ["audit", "--endpoint-url", str(runtime.engine.endpoint_url)]
    return main([*argv, "--table", runtime.options.table_name, "--segments", "2"]) == 0


# The data dirs of the runtimes running in this process: wait_for watches their pipeline.
_ACTIVE_DATA_DIRS: list[Path] = []
# A last guard against a pipeline that keeps moving without ever getting there.
WAIT_LIMIT_S = 900.0


def pipeline_progress(data_dirs: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """What changes while the consumers work: their checkpoints (saved after each batch),
    their dead-letter files and the event bus's log."""
    found: list[tuple[str, int, int]] = []
    for data in data_dirs:
        paths = [*data.glob("checkpoints/*.json"), *data.glob("dlq/*.jsonl"), data / "events.jsonl"]
        for path in paths:
            try:
                info = path.stat()
            except OSError:
                continue
            found.append((str(path), info.st_mtime_ns, info.st_size))
    return tuple(sorted(found))


def wait_for[T](probe: Callable[[], T | None], timeout_s: float = 30.0) -> T:
    """The probe's first truthy value. With a runtime of this process running, it waits on
    progress, not on the clock: it fails once its pipeline (checkpoints, DLQs, events) has
    not moved for timeout_s, a real stall, as a loaded machine makes consumers slow, not
    stuck (or after WAIT_LIMIT_S in all). Without one, timeout_s is a plain deadline."""
    started = last_move = time.monotonic()
    seen = pipeline_progress(_ACTIVE_DATA_DIRS)
    while True:
        value = probe()
        if value:
            return value
        now = time.monotonic()
        if _ACTIVE_DATA_DIRS:
            current = pipeline_progress(_ACTIVE_DATA_DIRS)
            if current != seen:
                seen, last_move = current, now
        if now - last_move > timeout_s:
            raise AssertionError(f"condition not met: nothing moved for {timeout_s}s")
        if now - started > WAIT_LIMIT_S:
            raise AssertionError(f"condition not met within {WAIT_LIMIT_S}s")
        time.sleep(0.05)
