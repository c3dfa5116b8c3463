"""`harvest serve`: the whole system on this machine (see docs/local-runtime.md)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import CliError
from harvest.local.engines import ENGINES, durability
from harvest.local.options import SERVE_API_PROCESSES

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers
    from harvest.local.runtime import LocalRuntime


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the API, the stream pollers and an embedded DynamoDB locally",
        description="Runs the REST API on 127.0.0.1 behind an API Gateway + Cognito emulator, "
        "stream pollers emulating every event source mapping of template.yaml, a local event "
        "bus, and an embedded DynamoDB: DynamoDB Local (durable) where Java 17 is on PATH, "
        "else moto (memory only, saved on a clean stop). Stop with Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="embedded DynamoDB (default auto: dynamodb-local with Java, else moto)",
    )
    parser.add_argument("--endpoint-url", help="use this DynamoDB endpoint instead of an engine")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".harvest"),
        help="where data, events, DLQs and runtime.json live (default .harvest)",
    )
    parser.add_argument("--table", default="harvest-local", help="table name")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--quiet", action="store_true", help="log warnings only")
    parser.add_argument(
        "--api-processes",
        type=_at_least_one,
        default=SERVE_API_PROCESSES,
        help=f"API processes sharing the port (default {SERVE_API_PROCESSES}): concurrent "
        "requests reach concurrent processes, as they reach concurrent Lambda containers",
    )
    parser.set_defaults(handler=run)


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(name)-20s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # The API handler logs structured JSON through Powertools; keep the console readable.
    for noisy in ("werkzeug", "botocore", "harvest-api", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Locally there is no CloudWatch: an empty metrics flush is expected, not news.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _at_least_one(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return count


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.options import RuntimeOptions  # noqa: PLC0415
    from harvest.local.priority import CONSUMER_NICE  # noqa: PLC0415
    from harvest.local.runtime import LocalRuntime  # noqa: PLC0415 - heavy

    configure_logging(args.quiet)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    options = RuntimeOptions(
        port=args.port,
        engine=args.engine,
        endpoint_url=args.endpoint_url,
        data_dir=args.data_dir,
        table_name=args.table,
        region=args.region,
        api_process=True,
        api_processes=args.api_processes,
        function_processes=True,
        consumer_nice=CONSUMER_NICE,
    )
    runtime = LocalRuntime(options)
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    # SIGHUP is what a closed terminal sends: stop as cleanly as on Ctrl-C, not die mid-write.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, request_stop)
    try:
        runtime.start()
    except Exception as error:
        try:
            runtime.stop()
        except Exception:  # the start's error is the one to report
            logging.getLogger("harvest.local").debug("stop after a failed start", exc_info=True)
        raise CliError(f"could not start: {error}") from error
    try:
        _announce(runtime)
        while not stop.wait(0.5):
            pass
    finally:
        # Every way out (a signal, an error in this loop) drains, saves and stops the engine.
        try:
            runtime.stop()
        except Exception as error:
            raise CliError(f"the stop did not complete ({error}); see runtime.json") from error
    print("Harvest Exchange stopped.", flush=True)
    return 0


def _announce(runtime: LocalRuntime) -> None:
    options = runtime.options
    elapsed = time.monotonic() - runtime.started_at
    print(f"Harvest Exchange is running ({elapsed:.1f}s)", flush=True)
    print(f"  API        {runtime.api_url}   (try {runtime.api_url}/health)", flush=True)
    print(f"  DynamoDB   {runtime.engine.name} at {runtime.engine.endpoint_url}", flush=True)
    print(f"  data       {durability(runtime.engine.name, runtime.engine.persistent)}", flush=True)
    print(f"  table      {options.table_name} (from template.yaml)", flush=True)
    print(f"  pollers    {', '.join(runtime.poller_names) or 'none'}", flush=True)
    print(
        f"  processes  {len(runtime.api_children)} API, {len(runtime.workers)} function workers "
        "(logs prefixed [FunctionName])",
        flush=True,
    )
    print(f"  data dir   {options.data_dir}  (events.jsonl, dlq/, runtime.json)", flush=True)
    print("  token      harvest token --user alice --tier free", flush=True)
    if runtime.websocket is not None:
        print(f"  live       {runtime.websocket.url}   (harvest watch --user alice)", flush=True)
    if runtime.unclean_report:
        print(f"  WARNING    {runtime.unclean_report}", flush=True)
    print(*_status_lines(runtime), sep="\n", flush=True)
    print("Press Ctrl-C to stop.", flush=True)


def _status_lines(runtime: LocalRuntime) -> list[str]:
    """`harvest status`'s per-function lines: after a crash, how much the pollers owe."""
    from harvest.local.status import render, runtime_status  # noqa: PLC0415 - local-only

    if runtime.options.data_dir is None or not runtime.poller_names:
        return []
    lines = render(runtime_status(runtime.options.data_dir, runtime.template))
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("function"))
    return ["  status     (harvest status)", *lines[start:]]
