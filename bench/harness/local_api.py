"""What the benchmarks that drive the local runtime over HTTP share: a quiet runtime in a
scratch directory, and one JSON call on loopback."""

from __future__ import annotations

import copy
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harvest.local.options import SERVE_API_PROCESSES, RuntimeOptions
from harvest.local.priority import CONSUMER_NICE
from harvest.local.runtime import LocalRuntime
from harvest.once import Once
from harvest.tools.template import load_template

SERVE = {"api_process": True, "api_processes": SERVE_API_PROCESSES, "function_processes": True}
# Where the API and the functions run, and how the consumers share the CPU with it.
LAYOUTS: dict[str, dict[str, Any]] = {
    "in-process": {},
    "api process": {"api_process": True},
    "+ functions": {"api_process": True, "function_processes": True},
    # `harvest serve` before issue 12's latency fix: two API processes, consumers at the API's
    # priority, stream pollers at a fixed 10 GetRecords/s, DynamoDB Local on the JVM's
    # default compilers/GC.
    "serve before": {
        **SERVE,
        "api_processes": 2,
        "consumer_nice": 0,
        "max_stream_idle_s": 0.1,
        "engine_jvm_options": (),
    },
    # `harvest serve` now (SERVE_API_PROCESSES API processes, local.priority, idle back-off,
    # engines.LEAN_JVM_OPTIONS).
    "serve now": {**SERVE, "consumer_nice": CONSUMER_NICE},
    # The same on two API processes (the default before 4): a read can queue behind a create
    # in the same process.
    "serve now, 2 api": {**SERVE, "api_processes": 2, "consumer_nice": CONSUMER_NICE},
    # Four API processes, as `serve now` has since they became the default (kept so that the
    # commands in docs/performance.md still run).
    "serve now, 4 api": {**SERVE, "api_processes": 4, "consumer_nice": CONSUMER_NICE},
}


def quiet_template() -> dict[str, Any]:
    """template.yaml with the functions' log level at WARNING: figures, not log lines."""
    document = copy.deepcopy(load_template())
    document["Parameters"]["LogLevel"]["Default"] = "WARNING"
    return document


def clear_container_caches() -> None:
    """What a Lambda container keeps between invocations (each entry point's object graph:
    settings, clients) belongs to one runtime: each runtime has its own endpoints."""
    Once.reset_all()


@contextmanager
def running(
    engine: str,
    *,
    consumers: bool = True,
    api_process: bool = False,
    api_processes: int = 1,
    function_processes: bool = False,
    **tuning: Any,
) -> Iterator[LocalRuntime]:
    """The local runtime (API, engine, the stream consumers unless `consumers` is False) on a
    free port, in a scratch directory that is removed afterwards; `tuning`: more
    RuntimeOptions (consumer_nice, max_stream_idle_s, engine_jvm_options)."""
    clear_container_caches()
    # As `harvest serve` does: moto's event bus would log a line per SQS/EventBridge call.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HARVEST_CONFIG_DIR"] = str(Path(scratch) / "config")
        runtime = LocalRuntime(
            RuntimeOptions(
                port=0,
                data_dir=Path(scratch) / "data",
                engine=engine,
                template=quiet_template(),
                with_pollers=consumers,
                api_process=api_process,
                api_processes=api_processes,
                function_processes=function_processes,
                **tuning,
            )
        )
        runtime.start()
        try:
            yield runtime
        finally:
            runtime.stop()


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """(status, JSON body or None) of one request; an HTTP error is a status, not a raise."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status: int = response.status
            return status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None
