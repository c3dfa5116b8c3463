"""`harvest seed --demo`: a sample community so a newcomer sees real output at once."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from harvest.cli import UsageError, target

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="write a realistic demo community (growers, listings, requests, claims)",
        description="Writes through the real services, spread over the last 30 days, with "
        "surpluses in most areas and shortages in two. Re-running with the same --seed is "
        "safe, also after a run that failed half-way: what exists is kept, the rest is written.",
    )
    parser.add_argument("--demo", action="store_true", required=True, help="the demo data set")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    target.add_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.demo import seed_demo  # noqa: PLC0415 - pulls in the services
    from harvest.store.repository import Repository  # noqa: PLC0415
    from harvest.store.table import Table  # noqa: PLC0415

    if not 1 <= args.days <= 90:
        raise UsageError("--days must be between 1 and 90")
    with target.open_target(args, write_back=True) as where:
        client = context.client_factory(where.region, where.endpoint_url)
        repository = Repository(Table(client, where.table_name))

        def progress(line: str) -> None:
            sys.stderr.write(f"\r  {line}   ")
            sys.stderr.flush()

        report = seed_demo(repository, days=args.days, seed=args.seed, progress=progress)
    sys.stderr.write("\n")
    print(
        f"seeded {report.growers} growers, {report.searchers} searchers, "
        f"{report.listings} listings, {report.requests} requests, {report.claims} claims "
        f"into {where.table_name}"
    )
    if report.kept:
        print(f"({report.kept} items were already there from an earlier run and were kept)")
    if report.refused:
        print(f"({len(report.refused)} claims were refused as a real community would see)")
    return 0
