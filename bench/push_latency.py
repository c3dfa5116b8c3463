"""Push latency on the local runtime: from a core write's commit to the frame arriving on a
subscriber's WebSocket, at a steady core write rate with many connections open.

    .venv/bin/python bench/push_latency.py [--rate 10] [--seconds 30] [--connections 100]
                                           [--engine moto|dynamodb-local]

`--connections` users each open a WebSocket to the local endpoint and subscribe to `claims`.
A grower's listings are created first; then one thread makes claims (POST .../claims, a core
write) at `--rate` per second for `--seconds`, each by the next user in turn. The latency of
a claim is the time its `claim.created` frame reached the claimer's socket minus the claim's
`createdAt` (stamped by the API just before its write commits, so the figure includes the
write itself): table stream -> publisher -> bus -> DeliveryRule -> DeliveryQueue -> delivery
worker -> Management API emulator -> socket. Prints p50/p95/max; never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import threading
import time
from datetime import datetime
from typing import Any

from harness.local_api import call, running
from websockets.asyncio.client import ClientConnection, connect

from harvest.local.runtime import LocalRuntime
from harvest.local.tokens import TokenIssuer, signing_key

WAIT_FOR_STRAGGLERS_S = 60.0
LISTING_QUANTITY = 1000


class Listeners:
    """`count` connections on one asyncio loop in a thread; claim id -> arrival time."""

    def __init__(self, url: str, issuer: TokenIssuer, count: int) -> None:
        self.url = url
        self.issuer = issuer
        self.count = count
        self.arrivals: dict[str, float] = {}
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(timeout=120):
            raise RuntimeError("the WebSocket connections did not open")

    def _run(self) -> None:
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        sockets = [await self._open(f"user{n:03d}") for n in range(self.count)]
        self.ready.set()
        readers = [asyncio.create_task(self._read(socket)) for socket in sockets]
        while not self.stop.is_set():
            await asyncio.sleep(0.1)
        for task in readers:
            task.cancel()
        for socket in sockets:
            await socket.close()

    async def _open(self, user: str) -> ClientConnection:
        token = self.issuer.issue(user, "free")
        socket = await connect(f"{self.url}/?token={token}", open_timeout=60)
        await socket.send(json.dumps({"action": "subscribe", "topic": "claims"}))
        answer = json.loads(await socket.recv())
        if answer.get("type") != "subscribed":
            raise RuntimeError(f"subscribe refused: {answer}")
        return socket

    async def _read(self, socket: ClientConnection) -> None:
        async for raw in socket:
            arrived = time.time()
            frame = json.loads(raw)
            if frame.get("detailType") == "claim.created":
                self.arrivals.setdefault(str(frame["event"]["entityId"]), arrived)


def _iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _listing(now: float) -> dict[str, Any]:
    return {
        "crop": "tomato",
        "quantity": LISTING_QUANTITY,
        "unit": "kg",
        "availableFrom": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
        "availableUntil": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
        "location": {"lat": 52.52, "lon": 13.405},
    }


def make_claims(
    runtime: LocalRuntime, issuer: TokenIssuer, args: argparse.Namespace
) -> dict[str, float]:
    """claim id -> createdAt (epoch seconds), for claims made at args.rate per second."""
    total = int(args.rate * args.seconds)
    grower = issuer.issue("grower", "free")
    listings = []
    # Each user claims each listing at most once: one listing per round of users.
    for _ in range(-(-total // args.connections)):
        status, body = call(runtime.api_url, grower, "POST", "/listings", _listing(time.time()))
        if status != 201:
            raise RuntimeError(f"POST /listings answered {status}: {body}")
        listings.append(body["listingId"])
    tokens = [issuer.issue(f"user{n:03d}", "free") for n in range(args.connections)]
    committed: dict[str, float] = {}
    started = time.monotonic()
    for n in range(total):
        delay = started + n / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        listing = listings[n // args.connections]
        token = tokens[n % args.connections]
        path = f"/listings/{listing}/claims"
        status, body = call(runtime.api_url, token, "POST", path, {"quantity": 1})
        if status != 201:
            raise RuntimeError(f"POST {path} answered {status}: {body}")
        committed[body["claimId"]] = _iso(body["createdAt"])
    achieved = total / (time.monotonic() - started)
    print(f"claims       {total} at {achieved:.1f}/s (asked {args.rate}/s)")
    return committed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="core writes per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--engine", default="moto")
    parser.add_argument(
        "--worker-only",
        type=int,
        metavar="EVENTS",
        help="instead: the delivery worker alone on moto's in-process mock, CPU per event",
    )
    args = parser.parse_args()
    if args.worker_only:
        return worker_only(args.worker_only, args.connections)
    print(f"machine      {platform.machine()}, Python {platform.python_version()}")
    with running(args.engine) as runtime:
        if runtime.websocket is None:
            raise SystemExit("the template has no WebSocket API")
        issuer = TokenIssuer(signing_key())
        listeners = Listeners(runtime.websocket.url, issuer, args.connections)
        listeners.start()
        print(f"connections  {args.connections} open, each subscribed to its claims")
        committed = make_claims(runtime, issuer, args)
        deadline = time.monotonic() + WAIT_FOR_STRAGGLERS_S
        while time.monotonic() < deadline and not set(committed) <= set(listeners.arrivals):
            time.sleep(0.1)
        listeners.stop.set()
        listeners.thread.join(timeout=30)
        on_bus = bus_arrivals(runtime)
    latencies = [
        (listeners.arrivals[claim] - created) * 1000
        for claim, created in committed.items()
        if claim in listeners.arrivals
    ]
    missing = len(committed) - len(latencies)
    if not latencies:
        print("no claim.created frame arrived")
        return 1
    print(f"pushes       {len(latencies)} received, {missing} missing after the wait")
    print(
        f"latency ms   p50 {percentile(latencies, 0.5):.0f}  p95 {percentile(latencies, 0.95):.0f}"
        f"  max {max(latencies):.0f}  mean {statistics.fmean(latencies):.0f}"
    )
    # Where the time goes: commit -> on the bus (stream poller + publisher), bus -> socket
    # (rule, queue, delivery poller and worker, Management API emulator).
    to_bus = [(on_bus[c] - created) * 1000 for c, created in committed.items() if c in on_bus]
    from_bus = [
        (listeners.arrivals[c] - on_bus[c]) * 1000
        for c in committed
        if c in on_bus and c in listeners.arrivals
    ]
    for name, values in (("commit->bus", to_bus), ("bus->socket", from_bus)):
        if values:
            print(
                f"{name:12} p50 {percentile(values, 0.5):.0f}  p95 {percentile(values, 0.95):.0f}"
            )
    return 0


def worker_only(events: int, connections: int) -> int:
    """The delivery worker's own cost: `connections` users subscribed to their claims on a
    moto table (in-process mock, no HTTP), `events` claim.confirmed events pushed through
    consumers.delivery.push with a post that only counts. CPU and wall ms per event."""
    import os  # noqa: PLC0415

    from moto import mock_aws  # noqa: PLC0415

    from harvest.consumers.delivery import push  # noqa: PLC0415
    from harvest.domain.push import bind_topic  # noqa: PLC0415
    from harvest.store.connections import ConnectionRepository  # noqa: PLC0415
    from harvest.store.dynamo import make_client  # noqa: PLC0415
    from harvest.store.table import Table  # noqa: PLC0415
    from harvest.tools.template import create_table  # noqa: PLC0415

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    posted: list[str] = []
    with mock_aws():
        client = make_client("us-east-1")
        create_table(client, "push-bench")
        repository = ConnectionRepository(Table(client, "push-bench"))
        now = int(time.time())
        for n in range(connections):
            user = f"user{n:03d}"
            repository.connect(f"c{n}", user, "free", now)
            connection = repository.get(f"c{n}")
            if connection is None:
                raise RuntimeError("the connection was not stored")
            repository.subscribe(connection, bind_topic("claims", user))
        details = [
            {
                "id": f"e{n}",
                "detailType": "claim.confirmed",
                "entityId": f"claim{n}",
                "data": {"claimerId": f"user{n % connections:03d}", "ownerId": "grower"},
            }
            for n in range(events)
        ]
        cpu, wall = time.process_time(), time.perf_counter()
        for detail in details:
            push(detail, repository, lambda connection_id, data: posted.append(connection_id), now)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"delivery worker alone: {events} claim events, {connections} connections subscribed")
    print(f"pushes       {len(posted)} (one per event: the claimer; the grower is not connected)")
    print(f"per event    {cpu / events * 1000:.1f} ms CPU, {wall / events * 1000:.1f} ms wall")
    return 0


def bus_arrivals(runtime: LocalRuntime) -> dict[str, float]:
    """claim id -> when its claim.created reached the local bus (events.jsonl)."""
    found: dict[str, float] = {}
    path = runtime.data_path() / "events.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry.get("DetailType") == "claim.created":
            detail = json.loads(entry["Detail"])
            found.setdefault(str(detail["entityId"]), _iso(entry["receivedAt"]))
    return found


if __name__ == "__main__":
    sys.exit(main())
