"""One redrive as `harvest redrive` asks for it: which source the entries come from, what is
done when a consumer's records are gone from the stream, and the environment its handler runs
in. The CLI only turns its arguments into a `Request` and prints the `Outcome`."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3

from harvest.local.bus import EventSink, make_bus_server
from harvest.local.records import make_streams_client
from harvest.redrive.engine import Consumers, Fallback, RebuildTarget, Redrive
from harvest.redrive.queues import dlq_source, move_back
from harvest.redrive.sources import DeadLetterSource, DlqDirectory, SqsQueue
from harvest.store.dynamo import CLIENT_CONFIG
from harvest.store.table import Table
from harvest.tools.rebuild import State, rebuild_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = ["FALLBACKS", "Outcome", "Request", "UnknownConsumer", "run"]


def _rebuild_aggregates(where: RebuildTarget) -> str:
    return rebuild_table(where.table, State(None, where.segments)).line()


# What to do per consumer when its records are gone from the stream. A new consumer adds
# its line here; one without a line keeps its entries (as the publisher does).
FALLBACKS: Final[Mapping[str, Fallback]] = {
    # The derivation consumer: the rebuild recomputes the insights from the rebuilt buckets.
    "AggregatorFunction": Fallback("rebuild the AGG# items", _rebuild_aggregates),
    "PublisherFunction": Fallback("domain events cannot be rebuilt from the table"),
}


class UnknownConsumer(ValueError):
    """The function asked for has no stream event in template.yaml."""


@dataclass(frozen=True, slots=True)
class Request:
    """Where the table is, where the entries are (a queue, else DATA_DIR/dlq/), and how."""

    table_name: str
    region: str
    endpoint_url: str | None
    data_dir: Path | None
    queue_url: str | None = None
    function: str | None = None
    dry_run: bool = False
    segments: int = 1


@dataclass(frozen=True, slots=True)
class Outcome:
    line: str  # the summary
    stopped: str | None  # why a record that failed again stopped the redrive
    settled: bool  # nothing is left to redrive (or, on a dry run, nothing went wrong)


def run(
    request: Request,
    template: Mapping[str, Any],
    make_client: Callable[[str, str | None], DynamoDBClient],
    say: Callable[[str], None],
) -> Outcome:
    consumers = Consumers.from_template(template, request.table_name)
    if request.function is not None and request.function not in consumers.mappings:
        known = ", ".join(sorted(consumers.mappings))
        raise UnknownConsumer(f"--function {request.function} is no stream consumer ({known})")
    source: DeadLetterSource
    if request.queue_url is not None:
        sqs = boto3.client("sqs", region_name=request.region, config=CLIENT_CONFIG)
        queue = dlq_source(sqs, request.queue_url)
        if queue is not None:
            moved = move_back(sqs, request.queue_url, queue, dry_run=request.dry_run)
            return Outcome(moved.line(request.dry_run), None, request.dry_run or moved.left == 0)
        source = SqsQueue(sqs, request.queue_url, request.function)
    else:
        if request.data_dir is None:
            raise ValueError("a redrive reads a queue or a data directory's dlq/")
        source = DlqDirectory(request.data_dir / "dlq", request.function)
    client = make_client(request.region, request.endpoint_url)
    with _event_bus(request) as bus_url:
        summary = Redrive(
            consumers=consumers,
            streams=make_streams_client(request.region, request.endpoint_url),
            source=source,
            fallbacks=FALLBACKS,
            target=RebuildTarget(Table(client, request.table_name), request.segments),
            environment=_environment(request, bus_url),
            dry_run=request.dry_run,
            say=say,
        ).run()
    settled = summary.stopped is None and summary.left == 0
    return Outcome(summary.line(request.dry_run), summary.stopped, settled)


def _environment(request: Request, bus_url: str | None) -> dict[str, str]:
    """Set over the function's own variables while its handler runs."""
    variables = {
        "AWS_REGION": request.region,
        "AWS_DEFAULT_REGION": request.region,
        # Progress comes from the redrive; the handler's per-record lines would drown it.
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for name in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        variables[name] = os.environ.get(name, "1")
    if request.endpoint_url is not None:
        variables["AWS_ENDPOINT_URL"] = request.endpoint_url
    if bus_url is not None:
        variables["AWS_ENDPOINT_URL_EVENTBRIDGE"] = bus_url
    return variables


@contextmanager
def _event_bus(request: Request) -> Iterator[str | None]:
    """With a data directory, a local bus on DIR/events.jsonl (as the runtime's) for the
    publisher."""
    if request.data_dir is None or request.dry_run:
        yield None
        return
    server = make_bus_server(EventSink(request.data_dir / "events.jsonl"))
    threading.Thread(target=server.serve_forever, name="redrive-bus", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
