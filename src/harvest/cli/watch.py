"""`harvest watch`: prints the live updates the local runtime pushes to one user.

Gets a local token as `harvest token` does, connects to the runtime's WebSocket endpoint
(runtime.json's `websocketUrl`, or --url), subscribes to the topics and prints one line per
pushed event: `detail-type<TAB>topic<TAB>entity id<TAB>data as JSON`. Delivery is at least
once: an event id already printed is not printed again. Ctrl-C exits quietly (0).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from harvest.cli import CliError, UsageError
from harvest.cli.target import find_runtime_dir
from harvest.domain.entitlements import Tier

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

DEFAULT_TOPICS = ("claims", "matches")
# Event ids remembered for de-duplication (a redelivery comes soon after the first push).
MAX_REMEMBERED = 10_000


class Socket(Protocol):
    def send(self, message: str) -> None: ...
    def recv(self, timeout: float | None = None) -> str | bytes: ...
    def __iter__(self) -> Any: ...


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="print the events the local runtime pushes to a user, one per line",
        description="Connects to the local runtime's WebSocket API as --user, subscribes to "
        "the topics (claims, matches, signals:{geohash 4-6}) and prints pushed events.",
    )
    parser.add_argument("--user", required=True, help="the user to watch as (token subject)")
    parser.add_argument("--tier", choices=[t.value for t in Tier], default=Tier.FREE.value)
    parser.add_argument(
        "--topic",
        action="append",
        dest="topics",
        help="claims, matches or signals:{geohash}; repeatable (default: claims and matches)",
    )
    parser.add_argument("--url", help="the WebSocket endpoint (default: from runtime.json)")
    parser.add_argument("--data-dir", type=Path, help="the local runtime's data directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: PLC0415
    from websockets.sync.client import connect  # noqa: PLC0415

    from harvest.local.tokens import TokenIssuer, signing_key  # noqa: PLC0415

    url = args.url or _runtime_url(args.data_dir)
    token = TokenIssuer(signing_key()).issue(args.user, args.tier)
    try:
        with connect(f"{url.rstrip('/')}/?token={quote(token)}", open_timeout=10) as socket:
            subscribe(socket, args.topics or list(DEFAULT_TOPICS))
            print_events(socket, print_line=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        return 0
    except InvalidStatus as error:
        raise CliError(f"the WebSocket endpoint refused the connection: {error}") from error
    except ConnectionClosed:
        return 0
    except OSError as error:
        raise CliError(f"cannot reach {url} ({error}): is `harvest serve` running?") from error
    return 0


def _runtime_url(data_dir: Path | None) -> str:
    from harvest.local.lifecycle import read_state  # noqa: PLC0415

    state = read_state(data_dir if data_dir is not None else find_runtime_dir()) or {}
    url = state.get("websocketUrl")
    if state.get("state") != "running" or not isinstance(url, str):
        raise UsageError("no running local runtime with a WebSocket endpoint: `harvest serve`")
    return url


def subscribe(socket: Socket, topics: Iterable[str]) -> None:
    for topic in topics:
        socket.send(json.dumps({"action": "subscribe", "topic": topic}))
        answer = json.loads(socket.recv(timeout=10))
        if answer.get("type") != "subscribed":
            raise UsageError(f"cannot subscribe to {topic!r}: {answer.get('message', answer)}")


def print_events(socket: Socket, print_line: Callable[[str], None]) -> None:
    seen: dict[str, None] = {}
    for raw in socket:
        frame = json.loads(raw)
        if frame.get("type") != "event":
            print(f"(ignored frame: {raw!s:.200})", file=sys.stderr)
            continue
        event_id = str(frame.get("id"))
        if event_id in seen:
            continue
        seen[event_id] = None
        if len(seen) > MAX_REMEMBERED:
            del seen[next(iter(seen))]
        event = frame.get("event") or {}
        data = json.dumps(event.get("data"), separators=(",", ":"), sort_keys=True)
        print_line(
            f"{frame.get('detailType')}\t{frame.get('topic')}\t{event.get('entityId')}\t{data}"
        )
