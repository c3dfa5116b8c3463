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

if TYPE_CHECKING:
    from harvest.cli.main import Context, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the API, the stream pollers and an embedded DynamoDB locally",
        description="Runs the REST API on 127.0.0.1 behind an API Gateway + Cognito emulator, "
        "stream pollers emulating every event source mapping of template.yaml, a local event "
        "bus, and an embedded DynamoDB (moto by default). Stop with Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=3000, help="API port (default 3000)")
    parser.add_argument(
        "--engine", choices=["moto", "dynamodb-local"], default="moto", help="embedded DynamoDB"
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


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.runtime import LocalRuntime, RuntimeOptions  # noqa: PLC0415 - heavy

    configure_logging(args.quiet)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    options = RuntimeOptions(
        port=args.port,
        engine=args.engine,
        endpoint_url=args.endpoint_url,
        data_dir=args.data_dir,
        table_name=args.table,
        region=args.region,
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
        runtime.stop()
        raise CliError(f"could not start: {error}") from error
    elapsed = time.monotonic() - runtime.started_at
    print(f"Harvest Exchange is running ({elapsed:.1f}s)", flush=True)
    print(f"  API        {runtime.api_url}   (try {runtime.api_url}/health)", flush=True)
    print(f"  DynamoDB   {runtime.engine.name} at {runtime.engine.endpoint_url}", flush=True)
    print(f"  table      {options.table_name} (from template.yaml)", flush=True)
    print(f"  pollers    {', '.join(runtime.poller_names) or 'none'}", flush=True)
    print(f"  data dir   {options.data_dir}  (events.jsonl, dlq/, runtime.json)", flush=True)
    print("  token      harvest token --user alice --tier free", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    while not stop.wait(0.5):
        pass
    runtime.stop()
    return 0
