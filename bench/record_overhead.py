"""Per-record CPU overhead of each table stream consumer with no I/O: decode + validate +
route, next to Powertools' own DynamoDB stream parsers on the very same records.

    .venv/bin/python bench/record_overhead.py [--records 20000] [--repeats 5] [--json PATH]

Records are Lambda-shaped DynamoDB stream records (eventID, eventName, eventSourceARN,
dynamodb.Keys/NewImage/OldImage/SequenceNumber/SizeBytes/StreamViewType) built from real
items: the sample core items of `harvest.cli.sample`, the buckets and markers
`harvest.services.rebuild.expected_derived` computes from them, and insights computed from
those buckets, serialized with boto3's TypeSerializer. Each consumer gets the records its
template filter lets through (INSERT and MODIFY with both images), cycled up to --records
and cut into batches of the mapping's BatchSize from template.yaml.

What is timed per consumer (the handler's work before its first AWS call):
  publisher   events_from_record (decode, route, envelope) + the PutEvents entry per event
  derivation  parse_source_change (the attributes a contribution reads of the NewImage) +
              contribution_of + bucket_deltas from the old contribution (in Lambda the
              marker's: computed before the timing here) + the areas of the batch to
              refresh, first and last record per area, as process_then_refresh keeps them;
              before issue 9 the aggregator's was parse_record + contribution_of of both
              images + bucket_deltas, and the insight worker grouped bucket records per area
The AI worker is no stream consumer since issue 9 (it reads SQS messages: no Powertools
DynamoDB model to compare with). On the same batches: parse_record alone; Powertools' parser model
(aws_lambda_powertools.utilities.parser.models.DynamoDBStreamModel, pydantic v2
model_validate of the whole event); Powertools' DynamoDBStreamEvent data class with keys,
NewImage and OldImage read (its deserialization is lazy, so they are read to compare).

time.perf_counter_ns over all records, µs per record, median of --repeats (process CPU
time is kept too, to show how busy the machine was). The same record
objects are reused across the cycle (warm caches: a lower bound for real events).
Prints figures; never asserts. Run on an idle machine for stable numbers.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel
from boto3.dynamodb.types import TypeSerializer

from harvest.cli.sample import sample_items
from harvest.domain.contribution import Contribution, bucket_deltas, contribution_of
from harvest.domain.crops import load_catalog
from harvest.domain.events import to_put_events_entry
from harvest.domain.insight import insight_of, windows_to_stored
from harvest.domain.signals import DayTotals, SignalPolicy, compute_signals
from harvest.services.rebuild import expected_derived
from harvest.store.buckets import bucket_day_totals
from harvest.store.items import contribution_source
from harvest.store.stream import events_from_record, parse_record, parse_source_change
from harvest.tools.template import load_template

type Item = dict[str, Any]
type Record = dict[str, Any]
type Batch = list[Record]

REGION = "us-east-1"
STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/harvest-bench/stream/2026-05-01T00:00:00.000"
)
BUS = "harvest-bench"
STAMP = "2026-05-02T09:00:00.000Z"
CATALOG = load_catalog()
_serializer = TypeSerializer()


# ---------------------------------------------------------------------- records
def image(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in item.items()}


class RecordMaker:
    def __init__(self) -> None:
        self.sequence = 10**20

    def record(self, name: str, new: Item | None, old: Item | None) -> Record:
        self.sequence += 1
        some = new if new is not None else old
        if some is None:
            raise ValueError("a stream record needs an image")
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": 1777712400.0,
            "Keys": image({"PK": some["PK"], "SK": some["SK"]}),
        }
        if new is not None:
            body["NewImage"] = image(new)
        if old is not None:
            body["OldImage"] = image(old)
        body["SequenceNumber"] = str(self.sequence)
        body["SizeBytes"] = len(json.dumps(body, separators=(",", ":")))
        body["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        return {
            "eventID": f"{self.sequence:032x}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": body,
            "eventSourceARN": STREAM_ARN,
        }

    def insert_and_modify(self, item: Item, change: Callable[[Item], Item]) -> list[Record]:
        """An INSERT of the item and a MODIFY to its next version."""
        after = {**change(dict(item)), "version": int(item["version"]) + 1, "updatedAt": STAMP}
        return [self.record("INSERT", item, None), self.record("MODIFY", after, item)]


def bookkept(item: Item) -> Item:
    """A rebuilt derived item with the bookkeeping attributes the pipeline writes."""
    return {
        "version": 1,
        "createdAt": "2026-05-01T08:00:00.000Z",
        "updatedAt": "2026-05-01T08:00:00.000Z",
        "correlationId": "c-0f5a1d2e-bench",
        **item,
    }


def insight_items(buckets: Iterable[Item]) -> list[Item]:
    """One INSIGHT# item per area, computed from the crop buckets as the worker does; k = 1
    so that every crop publishes its figures (the larger, busy-area shape)."""
    per_area: dict[str, list[DayTotals]] = {}
    for bucket in buckets:
        if bucket["crop"] == "all":
            continue
        per_area.setdefault(str(bucket["cell"]), []).extend(
            bucket_day_totals(str(bucket["crop"]), bucket)
        )
    items = []
    for area, totals in sorted(per_area.items()):
        as_of = max(total.day for total in totals)
        insight = insight_of(compute_signals(area, as_of, totals, SignalPolicy(k=1)), 7)
        items.append(
            bookkept(
                {
                    "PK": f"INSIGHT#{area}",
                    "SK": "CURRENT",
                    "type": "insight",
                    "area": area,
                    "asOfDay": as_of.isoformat(),
                    "inputVersion": insight.input_version,
                    "windows": windows_to_stored(insight.windows),
                    "digests": insight.digests,
                }
            )
        )
    return items


def _less_remaining(item: Item) -> Item:
    if item.get("type") == "listing" and Decimal(item["quantityRemaining"]) > 0:
        item["quantityRemaining"] = Decimal(item["quantityRemaining"]) - 1
    elif item.get("type") == "claim" and item.get("status") == "pending":
        item["status"] = "confirmed"
    elif item.get("type") == "profile":
        item["displayName"] = f"{item['displayName']} (edited)"
    return item


def record_sets() -> dict[str, list[Record]]:
    """Per consumer, the records its template filter lets through."""
    maker = RecordMaker()
    core = sample_items()
    derived = [bookkept(item) for item in expected_derived(core, CATALOG).values()]
    buckets = [item for item in derived if item["type"] == "agg-bucket"]
    insights = insight_items(buckets)
    by_type: dict[str, list[Item]] = {}
    for item in [*core, *insights]:
        by_type.setdefault(str(item["type"]), []).append(item)

    def changes(*types: str) -> list[Record]:
        return [
            record
            for kind in types
            for item in by_type.get(kind, [])
            for record in maker.insert_and_modify(item, _less_remaining)
        ]

    guidance_inserts = [maker.record("INSERT", item, None) for item in by_type["guidance"]]
    return {
        "publisher": changes("listing", "request", "claim", "profile", "insight")
        + guidance_inserts,
        "derivation": changes("listing", "request"),
    }


# ---------------------------------------------------------------------- consumer paths
def publisher_path(batch: Batch) -> object:
    return [
        to_put_events_entry(event, BUS) for record in batch for event in events_from_record(record)
    ]


# Per aggregator record (by identity: the same objects are cycled), the contribution its
# marker would hold: the handler reads it from the table, so it is not timed.
OLD_CONTRIBUTIONS: dict[int, Contribution | None] = {}


def derivation_path(batch: Batch) -> object:
    """As the handler: the lean decoder, the new contribution, the deltas from the old one
    (in Lambda the marker's, read from the table: computed here outside the timing), and
    the areas to refresh (the contribution's cells), first and last record per area."""
    out = []
    first: dict[str, int] = {}
    last: dict[str, Record] = {}
    for index, record in enumerate(batch):
        change = parse_source_change(record)
        if change.new is None:
            continue
        new = contribution_of(contribution_source(change.new), CATALOG)
        out.append(bucket_deltas(OLD_CONTRIBUTIONS.get(id(record)), new))
        # The consumer's areas to refresh: the published cell and its precision-4 area.
        for area in (new.cells[1], new.cells[0]) if new is not None else ():
            first.setdefault(area, index)
            last[area] = record
    return out, first, last


def decode_only(batch: Batch) -> object:
    return [parse_record(record) for record in batch]


def powertools_model(batch: Batch) -> object:
    return DynamoDBStreamModel.model_validate({"Records": batch})


def powertools_data_class(batch: Batch) -> object:
    out = []
    for record in DynamoDBStreamEvent({"Records": batch}).records:
        body = record.dynamodb
        if body is not None:
            out.append((body.keys, body.new_image, body.old_image))
    return out


CONSUMER_PATHS: dict[str, Callable[[Batch], object]] = {
    "publisher": publisher_path,
    "derivation": derivation_path,
}
FUNCTIONS = {
    "publisher": "PublisherFunction",
    "derivation": "AggregatorFunction",
}
COLUMNS: dict[str, Callable[[Batch], object] | None] = {
    "consumer path": None,
    "parse_record": decode_only,
    "PT parser model": powertools_model,
    "PT data class": powertools_data_class,
}


# ---------------------------------------------------------------------- timing
def batch_size(function: str) -> int:
    resource = load_template()["Resources"][function]["Properties"]
    for event in resource.get("Events", {}).values():
        if event.get("Type") == "DynamoDB":
            return int(event["Properties"].get("BatchSize", 100))
    return 100


def batches_of(records: Sequence[Record], total: int, size: int) -> list[Batch]:
    cycled = [records[index % len(records)] for index in range(total)]
    return [cycled[start : start + size] for start in range(0, total, size)]


@dataclass(frozen=True, slots=True)
class Timing:
    median_us: float
    spread_us: tuple[float, float]
    cpu_median_us: float


def time_per_record(batches: list[Batch], work: Callable[[Batch], object], repeats: int) -> Timing:
    count = sum(len(batch) for batch in batches)
    work(batches[0])  # warm-up (first-call caches, lazy imports)
    samples, cpu = [], []
    for _ in range(repeats):
        gc.collect()
        started, started_cpu = time.perf_counter_ns(), time.process_time_ns()
        for batch in batches:
            work(batch)
        samples.append((time.perf_counter_ns() - started) / count / 1000)
        cpu.append((time.process_time_ns() - started_cpu) / count / 1000)
    return Timing(statistics.median(samples), (min(samples), max(samples)), statistics.median(cpu))


def same_decoding(records: Sequence[Record]) -> bool:
    """Our decoder and Powertools' parser model give equal images (Decimal numbers, sets)."""
    parsed = DynamoDBStreamModel.model_validate({"Records": list(records)}).Records
    for record, model in zip(records, parsed, strict=True):
        ours = parse_record(record)
        if dict(ours.keys) != model.dynamodb.Keys:
            return False
        if ours.new is not None and dict(ours.new) != model.dynamodb.NewImage:
            return False
        if ours.old is not None and dict(ours.old) != model.dynamodb.OldImage:
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = record_sets()
    for record in sets["derivation"]:
        old = parse_record(record).old
        OLD_CONTRIBUTIONS[id(record)] = (
            contribution_of(contribution_source(old), CATALOG) if old else None
        )
    results: dict[str, dict[str, Any]] = {}
    for consumer, records in sets.items():
        size = batch_size(FUNCTIONS[consumer])
        batches = batches_of(records, args.records, size)
        row: dict[str, Any] = {
            "distinctRecords": len(records),
            "batchSize": size,
            "meanSizeBytes": round(
                statistics.mean(int(r["dynamodb"]["SizeBytes"]) for r in records)
            ),
            "sameDecoding": same_decoding(records),
        }
        for column, work in COLUMNS.items():
            timing = time_per_record(batches, work or CONSUMER_PATHS[consumer], args.repeats)
            row[column] = {
                "medianUs": round(timing.median_us, 2),
                "minUs": round(timing.spread_us[0], 2),
                "maxUs": round(timing.spread_us[1], 2),
                "cpuMedianUs": round(timing.cpu_median_us, 2),
            }
        results[consumer] = row
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores; "
        f"{args.records} records per repeat, median of {args.repeats} repeats, µs/record "
        f"(PT = Powertools, pydantic v2)"
    )
    print()
    header = f"{'consumer':<11} {'records':>7} {'batch':>5} {'bytes':>6}"
    header += "".join(f" {column:>16}" for column in COLUMNS) + "  same images"
    print(header)
    for consumer, row in results.items():
        line = (
            f"{consumer:<11} {row['distinctRecords']:>7} {row['batchSize']:>5} "
            f"{row['meanSizeBytes']:>6}"
        )
        line += "".join(f" {row[column]['medianUs']:>16.1f}" for column in COLUMNS)
        line += f"  {'yes' if row['sameDecoding'] else 'NO'}"
        print(line)
    print()
    print("process CPU time, µs/record (median; less sensitive to other load on the machine):")
    for consumer, row in results.items():
        print(
            f"{consumer:<11} {'':>7} {'':>5} {'':>6}"
            + "".join(f" {row[column]['cpuMedianUs']:>16.1f}" for column in COLUMNS)
        )
    print()
    print("spread (min-max µs/record over the repeats):")
    for consumer, row in results.items():
        spreads = ", ".join(
            f"{column} {row[column]['minUs']:.1f}-{row[column]['maxUs']:.1f}" for column in COLUMNS
        )
        print(f"  {consumer:<11} {spreads}")
    walls = [row[c]["medianUs"] for row in results.values() for c in COLUMNS]
    cpus = [row[c]["cpuMedianUs"] for row in results.values() for c in COLUMNS]
    print(
        f"process CPU time / wall time over every cell: {sum(cpus) / sum(walls):.2f} "
        "(below 1: the machine was busy, wall figures are inflated by that much)"
    )
    print()
    print(f"run time: {time.perf_counter() - started:.0f} s")
    if args.json:
        document = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "recordsPerRepeat": args.records,
            "repeats": args.repeats,
            "unit": "microseconds per record, median",
            "consumers": results,
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
