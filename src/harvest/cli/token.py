"""`harvest token`: a bearer token for the local runtime's Cognito emulator."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from harvest.cli import UsageError
from harvest.domain.entitlements import Tier

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print a local bearer token (alone on the last line)",
        description="Signs a token with the local key in ~/.config/harvest-exchange so it "
        "stays valid across restarts. Use: TOKEN=$(harvest token --user alice --tier free)",
    )
    parser.add_argument("--user", required=True, help="the token's subject (user id)")
    parser.add_argument("--tier", choices=[t.value for t in Tier], default=Tier.FREE.value)
    parser.add_argument("--ttl-hours", type=float, default=12.0, help="validity (default 12)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from harvest.local.tokens import TokenIssuer, signing_key  # noqa: PLC0415

    if args.ttl_hours <= 0:
        raise UsageError("--ttl-hours must be positive")
    print(TokenIssuer(signing_key()).issue(args.user, args.tier, int(args.ttl_hours * 3600)))
    return 0
