"""Local runtime figures: start-up time to the first accepted request, and poll-to-handler
latency (acknowledged write -> consumer invocation) through the emulated stream mapping.

    .venv/bin/python bench/local_runtime.py [--engine moto|dynamodb-local] [--writes 50]

Prints figures; never asserts. Run on an idle machine for stable numbers.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from harvest.local.options import RuntimeOptions
from harvest.local.runtime import LocalRuntime
from harvest.local.tokens import TokenIssuer, signing_key
from harvest.tools.template import load_template

SEEN: dict[str, float] = {}
LOCK = threading.Lock()


def consumer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = time.perf_counter()
    with LOCK:
        for record in event["Records"]:
            SEEN.setdefault(record["dynamodb"]["Keys"]["PK"]["S"], now)
    return {"batchItemFailures": []}


def template() -> dict[str, Any]:
    document = copy.deepcopy(load_template())
    pattern = {
        "eventName": ["INSERT"],
        "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "LISTING#"}]}}},
    }
    document["Resources"]["BenchConsumer"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Handler": "local_runtime.consumer",
            "Events": {
                "Stream": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "StartingPosition": "LATEST",
                        "BatchSize": 100,
                        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(pattern)}]},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                }
            },
        },
    }
    return document


def post(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return dict(json.loads(response.read()))


def main() -> None:
    # The poller imports the consumer by its dotted name; make that name this very module
    # so it records into the SEEN dict read below.
    sys.modules.setdefault("local_runtime", sys.modules[__name__])
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", default="moto", choices=["moto", "dynamodb-local"])
    parser.add_argument("--writes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["HARVEST_CONFIG_DIR"] = str(Path(scratch) / "config")
        runtime = LocalRuntime(
            RuntimeOptions(
                port=0, data_dir=Path(scratch) / "data", engine=args.engine, template=template()
            )
        )
        started = time.perf_counter()
        runtime.start()
        with urllib.request.urlopen(runtime.api_url + "/health", timeout=10):  # noqa: S310
            first_request = time.perf_counter() - started
        token = TokenIssuer(signing_key()).issue("bench", "free")
        sent: dict[str, float] = {}
        now = time.time()
        window = {
            "availableFrom": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            "availableUntil": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 86400)),
        }
        for _ in range(args.writes):
            body = {
                "crop": "tomato",
                "quantity": 2,
                "unit": "kg",
                "location": {"lat": 52.52, "lon": 13.405},
                **window,
            }
            listing = post(runtime.api_url + "/listings", token, body)
            sent[f"LISTING#{listing['listingId']}"] = time.perf_counter()
            time.sleep(0.05)  # one write at a time: latency, not throughput
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(SEEN.keys() & sent.keys()) < len(sent):
            time.sleep(0.05)
        runtime.stop()
    latencies = sorted((SEEN[key] - sent[key]) * 1000 for key in sent if key in SEEN)
    print(f"engine: {args.engine}   machine: {os.cpu_count()} cores")
    print(f"start-up to first accepted request: {first_request:.2f} s")
    if latencies:
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"write -> consumer invocation over {len(latencies)} writes: "
            f"p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, "
            f"max {latencies[-1]:.0f} ms"
        )
    missing = len(sent) - len(latencies)
    if missing:
        print(f"{missing} writes were not seen by the consumer within 60 s")


if __name__ == "__main__":
    main()
