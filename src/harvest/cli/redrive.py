"""`harvest redrive`: re-process what a stream consumer's DLQ holds (harvest.local.redrive)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli import CliError, UsageError, rebuild, target
from harvest.cli.audit import add_segments, check_segments
from harvest.domain.errors import ServiceUnavailable
from harvest.local.bus import EventSink, make_bus_server
from harvest.local.records import make_streams_client
from harvest.local.redrive import Consumers, Fallback, RebuildTarget, Redrive
from harvest.store.dynamo import CLIENT_CONFIG
from harvest.store.table import Table
from harvest.tools.queue_redrive import dlq_source, move_back
from harvest.tools.redrive import DeadLetterSource, DlqDirectory, SqsQueue
from harvest.tools.template import load_template

if TYPE_CHECKING:
    from harvest.cli.main import Context, Subparsers


def _rebuild_aggregates(where: RebuildTarget) -> str:
    return rebuild.rebuild_table(where.table, rebuild.State(None, where.segments)).line()


# What to do per consumer when its records are gone from the stream. A new consumer adds
# its line here; one without a line keeps its entries (as the publisher does).
FALLBACKS: Final[Mapping[str, Fallback]] = {
    # The derivation consumer: the rebuild recomputes the insights from the rebuilt buckets.
    "AggregatorFunction": Fallback("rebuild the AGG# items", _rebuild_aggregates),
    "PublisherFunction": Fallback("domain events cannot be rebuilt from the table"),
}

DESCRIPTION = """\
An entry of a consumer's DLQ is Lambda's failure record: a shard and a range of sequence
numbers, no payload. For each entry: find the consumer in template.yaml (the DLQ file's
name, --function, or the function ARN of the record), re-read the range from the table's
stream, keep what the consumer's FilterCriteria matches and call its handler in batches of
its BatchSize. When the records are gone from the stream, the consumer's derived keys are
rebuilt instead, once (AggregatorFunction, the derivation consumer: the AGG# and INSIGHT#
items, as `harvest rebuild`, so pause it meanwhile); the publisher's events and the AI
worker's model calls are not rebuilt: their entries stay. A handled
entry is removed (DLQ file rewritten atomically, SQS message deleted); a record that fails
again stops the redrive and keeps its entry. With --data-dir, events the publisher puts go
to DIR/events.jsonl. Exit 0 when the DLQ is empty afterwards, 1 otherwise.

A --queue-url that is the DLQ of another queue (an SQS-fed consumer such as the AI worker:
its RedrivePolicy names it) holds the events themselves: they are moved back to that queue,
where the consumer handles them again (its effects are idempotent under redelivery).
"""


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "redrive",
        help="re-process the entries of the stream consumers' DLQs",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--queue-url", help="read the entries from this SQS queue (default: DATA_DIR/dlq/*.jsonl)"
    )
    parser.add_argument(
        "--function",
        metavar="LOGICAL_ID",
        help="the consumer, e.g. AggregatorFunction: only DATA_DIR/dlq/LOGICAL_ID.jsonl, or "
        "the consumer of every message of --queue-url",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be done; change nothing"
    )
    add_segments(parser)
    target.add_arguments(parser)
    parser.set_defaults(handler=run)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run(args: argparse.Namespace, context: Context) -> int:
    segments = check_segments(args)
    if args.queue_url is None and args.data_dir is None:
        args.data_dir = target.find_runtime_dir()  # the checkout's runtime: its dlq/*.jsonl
    template = load_template()
    with target.open_target(args, write_back=not args.dry_run) as where, _errors():
        consumers = Consumers.from_template(template, where.table_name)
        if args.function is not None and args.function not in consumers.mappings:
            known = ", ".join(sorted(consumers.mappings))
            raise UsageError(f"--function {args.function} is no stream consumer ({known})")
        source: DeadLetterSource
        if args.queue_url is not None:
            sqs = boto3.client("sqs", region_name=where.region, config=CLIENT_CONFIG)
            queue = dlq_source(sqs, args.queue_url)
            if queue is not None:
                moved = move_back(sqs, args.queue_url, queue, dry_run=args.dry_run)
                sys.stdout.write(moved.line(args.dry_run) + "\n")
                return 0 if args.dry_run or moved.left == 0 else 1
            source = SqsQueue(sqs, args.queue_url, args.function)
        else:
            source = DlqDirectory(args.data_dir / "dlq", args.function)
        client = context.client_factory(where.region, where.endpoint_url)
        with _event_bus(args) as bus_url:
            summary = Redrive(
                consumers=consumers,
                streams=make_streams_client(where.region, where.endpoint_url),
                source=source,
                fallbacks=FALLBACKS,
                target=RebuildTarget(Table(client, where.table_name), segments),
                environment=_environment(where, bus_url),
                dry_run=args.dry_run,
                say=_say,
            ).run()
    sys.stdout.write(summary.line(args.dry_run) + "\n")
    if summary.stopped is not None:
        sys.stderr.write(f"harvest redrive: {summary.stopped}\n")
        return 1
    return 0 if summary.left == 0 else 1


def _environment(where: target.Target, bus_url: str | None) -> dict[str, str]:
    """Set over the function's own variables while its handler runs."""
    variables = {
        "AWS_REGION": where.region,
        "AWS_DEFAULT_REGION": where.region,
        # Progress comes from the redrive; the handler's per-record lines would drown it.
        "LOG_LEVEL": "WARNING",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    for name in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        variables[name] = os.environ.get(name, "1")
    if where.endpoint_url is not None:
        variables["AWS_ENDPOINT_URL"] = where.endpoint_url
    if bus_url is not None:
        variables["AWS_ENDPOINT_URL_EVENTBRIDGE"] = bus_url
    return variables


@contextmanager
def _event_bus(args: argparse.Namespace) -> Iterator[str | None]:
    """With --data-dir, a local bus on DIR/events.jsonl (as the runtime's) for the publisher."""
    if args.data_dir is None or args.dry_run:
        yield None
        return
    server = make_bus_server(EventSink(args.data_dir / "events.jsonl"))
    threading.Thread(target=server.serve_forever, name="redrive-bus", daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError, ServiceUnavailable) as error:
        raise CliError(f"redrive stopped: {error}") from error
