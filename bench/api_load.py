"""API latency and throughput on the local runtime: create, read and feed under a bounded,
closed-loop load generator on loopback (each worker sends its next request when the last one
answered, so the load can never run away from the server).

    .venv/bin/python bench/api_load.py [--engine moto|dynamodb-local] [--workers 4]
                                       [--requests 200] [--density 10000] [--json PATH]
                                       [--paced-writes 10] [--layouts L ...] [--rounds 2]
                                       [--client-process] [--paced-only]

`--density N` adds the feed at city density (bench/harness/feed_density.py): N live listings and
N/4 open requests within 5 km, in a second runtime whose stream consumers stay idle;
today's read (reproduced on the same table) beside the FeedIndex read, then the feed over
HTTP, one request at a time.

The runtime runs in this process (API handler, engine and the stream consumers), the
figures therefore include the consumers competing for the same cores. `--paced-writes R`
(default 10) then measures reads while a background client creates R listings a second (so
the consumers keep working), once per layout of harness.local_api.LAYOUTS named in
`--layouts` (default: `harvest serve` before issue 12's latency fix, and now), each
`--rounds` times interleaved (A B A B) so that a busy machine's drifting load falls on
every layout alike. `--client-process` runs those readers in a process of their own, as a
real client, instead of in the runtime's process (sharing its GIL with the pollers, the
event bus and the log copying). `--paced-only` skips the create/read/feed phases.
Prints figures; never asserts. Run on an idle machine for stable numbers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.feed_density import RADIUS_KM, measure
from harness.local_api import LAYOUTS, call, running

from harvest.api import dependencies
from harvest.local.tokens import TokenIssuer, signing_key

CENTRE = (52.52, 13.405)


@dataclass
class Sample:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return {"requests": 0, "errors": self.errors}
        return {
            "requests": len(ordered),
            "errors": self.errors,
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 1),
            "max_ms": round(ordered[-1], 1),
            "throughput_rps": round(len(ordered) / self.wall_s, 1) if self.wall_s else 0.0,
        }


def listing_body(n: int) -> dict[str, Any]:
    now = time.time()
    return {
        "crop": ("tomato", "kale", "apple", "zucchini")[n % 4],
        "quantity": 1 + n % 9,
        "unit": "kg",
        "availableFrom": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
        "availableUntil": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 7 * 86400)),
        # spread over ~4 km so the feed has a realistic neighbourhood to page through
        "location": {"lat": CENTRE[0] + (n % 37) * 0.001, "lon": CENTRE[1] + (n % 41) * 0.001},
    }


def run_phase(
    workers: int, requests: int, action: Callable[[int], tuple[int, Any]], ok: set[int]
) -> Sample:
    sample = Sample()
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            started = time.perf_counter()
            status, _ = action(n)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status in ok:
                    sample.latencies_ms.append(elapsed)
                else:
                    sample.errors += 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.wall_s = time.perf_counter() - started
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # DynamoDB Local by default: moto's server shares this process's GIL with the API and the
    # consumers, so under concurrent load it measures moto more than the API.
    parser.add_argument("--engine", default="dynamodb-local", choices=["moto", "dynamodb-local"])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=200, help="per phase")
    parser.add_argument("--density", type=int, default=0, help="live listings for the feed")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--paced-writes", type=float, default=10.0, help="creates/s behind the read comparison"
    )
    parser.add_argument(
        "--layouts", nargs="+", choices=list(LAYOUTS), default=["serve before", "serve now"],
        help="runtime layouts compared under the paced writes",
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=2, help="interleaved runs per layout")
    parser.add_argument(
        "--paced-only", action="store_true", help="skip the create/read/feed phases"
    )
    parser.add_argument(
        "--client-process",
        action="store_true",
        help="paced-writes readers in a process of their own, not the runtime's",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "engine": args.engine,
        "workers": args.workers,
    }
    if not args.paced_only:
        results.update(phases(args.engine, args.workers, args.requests))
        print_phases(results, args.engine, args.workers)
    if args.paced_writes:
        results["read_under_writes"] = compare_layouts(
            args.engine,
            args.workers,
            args.requests,
            args.paced_writes,
            args.layouts,
            args.rounds,
            args.client_process,
        )
        print_read_under_writes(
            results["read_under_writes"], args.paced_writes, args.rounds, args.client_process
        )
    if args.density:
        results["density"] = density(args.engine, args.density, args.requests)
        print_density(results["density"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def phases(engine: str, workers: int, requests: int) -> dict[str, Any]:
    """Create, read and feed, each as fast as `workers` closed-loop clients go."""
    with running(engine) as runtime:
        base = runtime.api_url
        issuer = TokenIssuer(signing_key())
        tokens = [issuer.issue(f"load-{w}", "free") for w in range(workers)]
        created: list[str] = []

        def create(n: int) -> tuple[int, Any]:
            status, body = call(base, tokens[n % len(tokens)], "POST", "/listings",
                                listing_body(n))  # fmt: skip
            if status == 201:
                created.append(str(body["listingId"]))
            return status, body

        def read(n: int) -> tuple[int, Any]:
            listing_id = created[n % len(created)]
            return call(base, tokens[(n + 1) % len(tokens)], "GET", f"/listings/{listing_id}")

        def feed(n: int) -> tuple[int, Any]:
            query = f"/feed?lat={CENTRE[0]}&lon={CENTRE[1]}&radiusKm={(2, 5, 10)[n % 3]}"
            return call(base, tokens[n % len(tokens)], "GET", query)

        sys.stderr.write(f"create: {requests} requests, {workers} workers\n")
        figures = {"create": run_phase(workers, requests, create, {201}).summary()}
        sys.stderr.write("read\n")
        figures["read"] = run_phase(workers, requests, read, {200}).summary()
        sys.stderr.write("feed\n")
        figures["feed"] = run_phase(workers, requests, feed, {200}).summary()
    return figures


def print_phases(results: dict[str, Any], engine: str, workers: int) -> None:
    print(f"machine: {results['machine']}   engine: {engine}   workers: {workers}")
    print(f"{'operation':<10}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'req/s':>8}")  # fmt: skip
    for name in ("create", "read", "feed"):
        row = results[name]
        print(
            f"{name:<10}{row['requests']:>9}{row['errors']:>8}{row.get('p50_ms', 0):>9}"
            f"{row.get('p99_ms', 0):>9}{row.get('max_ms', 0):>9}{row.get('throughput_rps', 0):>8}"
        )


def read_phase(
    base: str, token: str, ids: list[str], workers: int, requests: int
) -> tuple[list[float], int, float]:
    """The measured reads (latencies, errors, wall seconds): a top-level function and plain
    values, so that a process of its own can run it and send them back."""

    def read(n: int) -> tuple[int, Any]:
        return call(base, token, "GET", f"/listings/{ids[n % len(ids)]}")

    sample = run_phase(workers, requests, read, {200})
    return sample.latencies_ms, sample.errors, sample.wall_s


def read_under_writes(
    engine: str,
    workers: int,
    requests: int,
    rate: float,
    layout: dict[str, Any],
    client_process: bool = False,
) -> tuple[Sample, int, int, float]:
    """Read latency while a paced client keeps the stream consumers busy: the sample,
    writes acknowledged and refused, and the seconds the writer ran. `client_process`: the
    readers run in a process of their own, as a real client does, instead of sharing this
    process (and its GIL) with the runtime's pollers, event bus and log copying."""
    spawn = multiprocessing.get_context("spawn")
    with (
        running(engine, **layout) as runtime,
        ProcessPoolExecutor(1, mp_context=spawn) as client,
    ):
        if client_process:  # started (imports done) before the clock runs
            client.submit(time.sleep, 0).result()
        base = runtime.api_url
        token = TokenIssuer(signing_key()).issue("paced", "free")
        ids = [str(call(base, token, "POST", "/listings", listing_body(n))[1]["listingId"])
               for n in range(10)]  # fmt: skip
        stop, written = threading.Event(), [0, 0]  # [acknowledged, refused]

        def writer() -> None:
            started, n = time.perf_counter(), 0
            while not stop.is_set():
                status, _ = call(base, token, "POST", "/listings", listing_body(100 + n))
                written[0 if status == 201 else 1] += 1
                n += 1
                stop.wait(max(0.0, started + n / rate - time.perf_counter()))

        background = threading.Thread(target=writer)
        background.start()
        time.sleep(2.0)  # let the consumers get going before measuring
        began = time.perf_counter()
        if client_process:
            figures = client.submit(read_phase, base, token, ids, workers, requests).result()
        else:
            figures = read_phase(base, token, ids, workers, requests)
        sample = Sample(*figures)
        elapsed = time.perf_counter() - began
        stop.set()
        background.join()
    return sample, written[0], written[1], elapsed + 2.0


def compare_layouts(
    engine: str,
    workers: int,
    requests: int,
    rate: float,
    names: list[str],
    rounds: int,
    client_process: bool,
) -> dict[str, dict[str, Any]]:
    """Each layout `rounds` times, interleaved (A B A B): a busy machine's load drifts, and
    interleaving spreads the drift over every layout instead of favouring the last one."""
    pooled = {name: (Sample(), [0, 0], [0.0]) for name in names}
    for round_number in range(rounds):
        for name in names:
            sys.stderr.write(f"reads under writes: {name}, round {round_number + 1}/{rounds}\n")
            sample, acknowledged, refused, seconds = read_under_writes(
                engine, workers, requests, rate, LAYOUTS[name], client_process
            )
            total, written, elapsed = pooled[name]
            total.latencies_ms += sample.latencies_ms
            total.errors += sample.errors
            total.wall_s += sample.wall_s
            written[0] += acknowledged
            written[1] += refused
            elapsed[0] += seconds
    return {
        name: {
            **total.summary(),
            "writes_per_s": round(written[0] / elapsed[0], 1),
            "writes_refused": written[1],
        }
        for name, (total, written, elapsed) in pooled.items()
    }


def print_read_under_writes(
    figures: dict[str, dict[str, Any]], rate: float, rounds: int, client_process: bool
) -> None:
    where = "a process of their own" if client_process else "the runtime's process"
    print(f"reads while a client creates {rate:g} listings/s (consumers running), "
          f"{rounds} interleaved rounds per layout, readers in {where}:")  # fmt: skip
    print(f"{'layout':<18}{'reads':>7}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'writes/s':>10}")  # fmt: skip
    for where, row in figures.items():
        print(
            f"{where:<18}{row['requests']:>7}{row['errors']:>8}{row.get('p50_ms', 0):>9}"
            f"{row.get('p99_ms', 0):>9}{row.get('max_ms', 0):>9}{row['writes_per_s']:>10}"
        )


def density(engine: str, listings: int, requests: int) -> dict[str, Any]:
    with running(engine, consumers=False) as runtime:
        # The handler's container state (client, settings) belongs to the runtime before.
        dependencies.services.reset()
        sys.stderr.write(f"density: seeding {listings} listings + {listings // 4} requests\n")
        table = runtime.options.table_name
        figures = measure(runtime.engine.endpoint_url, table, listings, CENTRE, repeats=20)
        token = TokenIssuer(signing_key()).issue("load-density", "free")
        url = f"/feed?lat={CENTRE[0]}&lon={CENTRE[1]}&radiusKm={RADIUS_KM}&limit=20"
        sys.stderr.write("density: feed over HTTP, one request at a time\n")
        sample = run_phase(1, requests, lambda n: call(runtime.api_url, token, "GET", url), {200})
        figures["http"] = sample.summary()
    return figures


def print_density(figures: dict[str, Any]) -> None:
    today, first, fifth = figures["today"], figures["new_page1"], figures["new_page5"]
    print()
    print(f"feed at density: {figures['live_items']} live items (listings + requests) within "
          f"{RADIUS_KM:g} km; {figures['in_range_exact']} in range by exact point, "
          f"{figures['in_range_published']} by published cell; 20-item pages; medians")  # fmt: skip
    print(f"{'read':<26}{'items':>8}{'KB':>9}{'RCU':>8}{'p50 ms':>9}{'p99 ms':>9}{'serves':>8}")
    rows = [
        ("today (any page)", today, today["can_serve"]),
        ("FeedIndex, page 1", first, figures["new_can_serve"]),
        ("FeedIndex, page 5", fifth, figures["new_can_serve"]),
    ]
    for name, row, serves in rows:
        print(f"{name:<26}{row['items']:>8}{row['kb']:>9}{row['rcu']:>8}{row['p50_ms']:>9}"
              f"{row['p99_ms']:>9}{serves:>8}")  # fmt: skip
    http = figures["http"]
    print(f"feed over HTTP (local runtime, consumers idle, 1 worker): {http['requests']} "
          f"requests, {http['errors']} errors, p50 {http.get('p50_ms')} ms, "
          f"p99 {http.get('p99_ms')} ms")  # fmt: skip
    print(f"ratios: RCU today/page 1 = {today['rcu'] / max(first['rcu'], 0.1):.1f}x, "
          f"page 5/page 1 = {fifth['rcu'] / max(first['rcu'], 0.1):.2f}x (RCU), "
          f"{fifth['items'] / max(first['items'], 1):.2f}x (items)")  # fmt: skip


if __name__ == "__main__":
    main()
