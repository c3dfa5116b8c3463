"""`harvest redrive`: re-process what a consumer's DLQ holds (the work: harvest.redrive)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli import CliError, UsageError, target
from harvest.cli.segments import add_segments, check_segments
from harvest.domain.errors import ServiceUnavailable
from harvest.redrive.runner import Request, UnknownConsumer
from harvest.redrive.runner import run as redrive
from harvest.tools.template import load_template

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

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
        request = Request(
            where.table_name, where.region, where.endpoint_url, args.data_dir, args.queue_url,
            args.function, dry_run=args.dry_run, segments=segments,
        )  # fmt: skip
        try:
            outcome = redrive(request, template, context.client_factory, _say)
        except UnknownConsumer as error:
            raise UsageError(str(error)) from error
    sys.stdout.write(outcome.line + "\n")
    if outcome.stopped is not None:
        sys.stderr.write(f"harvest redrive: {outcome.stopped}\n")
    return 0 if outcome.settled else 1


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError, ServiceUnavailable) as error:
        raise CliError(f"redrive stopped: {error}") from error
