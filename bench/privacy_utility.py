"""What disclosure control costs in usefulness, on the demo city (`harvest seed --demo`).

Seeds the demo community (local/demo.py, the same generator and seed as `harvest seed
--demo`) into a moto table, derives the day buckets a rebuild from core would hold, and
compares, for every area with data at precision 4, 5 and 6, every window and crop:
- before: the per-row k gate of the previous release (a crop shows its figures when the
  cell's own buckets have k contributors and enough observations), and
- after: domain.release (precision-5 cells only, sums above, window segments, a prefix of
  the 30/14/7-day chain, and k per kind: domain.disclosure).
Buckets are kept for published (precision-5) cells only, so "before" can be measured at
precision 5 only (docs/privacy.md keeps the figures measured when every precision had them).
It prints how many (area, window, crop) figures were shown before and after, how many lost
their figures, how many kept figures but changed classification (precision 4 adds the
published cells instead of its own buckets), and of the figures lost at precision 5 how
many an exact per-kind contributor count (not kept by the buckets today) would bring back.

It then measures the noise (domain.noise): the same release with the noise the settings
default to (or `--noise-quantity` / `--noise-count`), over `--keys` keys, against the exact
figures: figures lost, classifications changed, the typical error of a shown quantity, and
the own writes an averaging attacker needs to bring its error under one grower's typical
(median) quantity (docs/privacy.md, residual risks).

    .venv/bin/python bench/privacy_utility.py [--seed 7] [--k 3] [--noise-quantity 2 5 10]
"""

from __future__ import annotations

import argparse
import math
import os
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from moto import mock_aws

from harvest.domain.contribution import ALL_CROPS, Contribution
from harvest.domain.crops import load_catalog
from harvest.domain.noise import KeyedNoise
from harvest.domain.release import area_signals
from harvest.domain.signals import (
    WINDOWS,
    Classification,
    DayTotals,
    SignalPolicy,
    classify,
    in_window,
    window_totals,
)
from harvest.local.demo import seed_demo
from harvest.services.rebuild import expected_derived
from harvest.settings import Settings
from harvest.store.buckets import bucket_day_totals
from harvest.store.dynamo import deserialize, make_client
from harvest.store.repository import Repository
from harvest.store.table import Table
from harvest.tools.template import create_table, load_template

TABLE = "privacy-utility"
Key = tuple[str, int, str]  # (area, window, crop)


def demo_world(seed: int, now: datetime) -> tuple[dict[str, list[DayTotals]], list[Contribution]]:
    """The demo's day buckets per cell (crop buckets only) and its live contributions."""
    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):  # fmt: skip
        os.environ.setdefault(name, value)
    with mock_aws():
        client = make_client("us-east-1")
        create_table(client, TABLE, load_template())
        seed_demo(Repository(Table(client, TABLE)), seed=seed, now=now)
        pages = client.get_paginator("scan").paginate(TableName=TABLE)
        core = [deserialize(item) for page in pages for item in page["Items"]]
    derived = expected_derived(core)
    buckets: dict[str, list[DayTotals]] = defaultdict(list)
    live: list[Contribution] = []
    for (_, sk), item in derived.items():
        if sk.startswith("WEEK#") and item["crop"] != ALL_CROPS:
            buckets[str(item["cell"])].extend(bucket_day_totals(str(item["crop"]), item))
        elif sk == "MARKER" and item.get("contribution"):
            contribution = Contribution.from_json(item["contribution"])
            if contribution.live:
                live.append(contribution)
    return dict(buckets), live


def before(buckets: dict[str, list[DayTotals]], today: date, k: int) -> dict[Key, Classification]:
    policy = SignalPolicy(k=k)
    shown: dict[Key, Classification] = {}
    for cell, days in buckets.items():
        for window in WINDOWS:
            for crop, figures in window_totals(days, today, window).items():
                label = classify(figures, policy)
                if label is not Classification.INSUFFICIENT_DATA:
                    shown[(cell, window, crop)] = label
    return shown


def published(
    buckets: dict[str, list[DayTotals]], today: date, policy: SignalPolicy
) -> dict[Key, tuple[Classification, Decimal, Decimal]]:
    """Every shown (area, window, crop): its class, supply and demand."""
    shown: dict[Key, tuple[Classification, Decimal, Decimal]] = {}
    # Buckets exist for published cells only: the precision-4 areas are their parents.
    for area in sorted(set(buckets) | {cell[:4] for cell in buckets}):
        for window in area_signals(area, today, buckets, policy).windows:
            for s in window.crops:
                figures = (s.classification, s.supply or Decimal(0), s.demand or Decimal(0))
                shown[(area, window.days, s.crop)] = figures
    return shown


def after(buckets: dict[str, list[DayTotals]], today: date, k: int) -> dict[Key, Classification]:
    return {key: v[0] for key, v in published(buckets, today, SignalPolicy(k=k)).items()}


def noise_cost(
    buckets: dict[str, list[DayTotals]],
    live: list[Contribution],
    today: date,
    args: Any,
    quantity_scale: float,
) -> None:
    """The noisy release against the exact one (same release rules), over several keys."""
    exact = published(buckets, today, SignalPolicy(k=args.k))
    lost = changed = shown = 0
    errors: list[Decimal] = []
    for n in range(args.keys):
        noise = KeyedNoise(f"bench-{n}".encode(), Decimal(str(quantity_scale)),
                           args.noise_count)  # fmt: skip
        noisy = published(buckets, today, SignalPolicy(k=args.k, noise=noise))
        lost += len(exact.keys() - noisy.keys())
        shown += len(noisy)
        changed += sum(noisy[key][0] != exact[key][0] for key in exact.keys() & noisy.keys())
        for key in exact.keys() & noisy.keys():
            (_, *true), (_, *drawn) = exact[key], noisy[key]
            errors += [abs(d - t) for t, d in zip(true, drawn, strict=True) if t > 0]
    quantities = sorted(item.quantity for item in live if item.quantity > 0)
    typical = quantities[len(quantities) // 2]
    scale = Decimal(str(quantity_scale))
    errors.sort()
    print(f"noise: quantity scale {scale}, count scale {args.noise_count}, {args.keys} keys; "
          f"exact figures shown: {len(exact)} per key")  # fmt: skip
    print(f"  figures lost: {lost / args.keys:.1f} per key; classifications changed: "
          f"{changed} of {shown} ({100 * changed / max(shown, 1):.1f} %)")  # fmt: skip
    sizes = sorted(f for v in exact.values() for f in v[1:] if f > 0)
    print(f"  |noisy - exact| of shown quantities: median {errors[len(errors) // 2]}, "
          f"90th percentile {errors[len(errors) * 9 // 10]} (canonical units; the exact "
          f"ones: median {sizes[len(sizes) // 2]})")  # fmt: skip
    # One own write = one fresh draw of the region (new true state). The mean of n draws
    # of a Laplace of scale b has standard deviation b * sqrt(2 / n).
    needed = math.ceil(2 * (scale / typical) ** 2) if scale else 0
    print(f"  median live item quantity: {typical}; own writes to average the noise of one "
          f"region to a standard error under it: {needed}")  # fmt: skip


def kind_safe_exactly(live: list[Contribution], key: Key, today: date, k: int) -> bool:
    """Would exact per-kind distinct counts let this figure show (each kind k or none)?"""
    cell, window, crop = key
    owners: dict[str, set[str]] = {"supply": set(), "demand": set()}
    for item in live:
        if item.crop == crop and cell in item.cells and in_window(item.day, today, window):
            owners[item.kind].add(item.owner)
    return all(len(users) == 0 or len(users) >= k for users in owners.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--k", type=int, default=3)
    defaults = Settings.from_environ({})
    parser.add_argument(
        "--noise-quantity", type=float, nargs="+", default=[defaults.signal_noise_quantity]
    )
    parser.add_argument("--noise-count", type=float, default=defaults.signal_noise_count)
    parser.add_argument("--keys", type=int, default=20)
    args = parser.parse_args()
    now = datetime(2026, 6, 30, tzinfo=UTC)
    buckets, live = demo_world(args.seed, now)
    today = now.date()
    old, new = before(buckets, today, args.k), after(buckets, today, args.k)
    load_catalog()
    rows = []
    for precision in (4, 5, 6):
        olds = {key: v for key, v in old.items() if len(key[0]) == precision}
        news = {key: v for key, v in new.items() if len(key[0]) == precision}
        both = olds.keys() & news.keys()
        lost = olds.keys() - news.keys()
        changed = sum(olds[key] != news[key] for key in both)
        cells_before = len({key[0] for key in olds})
        cells_after = len({key[0] for key in news})
        recoverable = sum(kind_safe_exactly(live, key, today, args.k) for key in lost)
        areas = len({c[:precision] for c in buckets if len(c) >= precision})
        rows.append(
            (precision, areas, len(olds), len(news), len(lost), changed, cells_before,
             cells_after, recoverable)
        )  # fmt: skip
    headers = (
        "precision", "areas with data", "figures before", "figures after", "lost",
        "class. changed", "areas showing before", "after", "lost but per-kind-safe",
    )  # fmt: skip
    print(f"demo city, seed {args.seed}, k = {args.k}, as of {today}: (area, window, crop)")
    widths = [max(len(h), 8) for h in headers]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)))
    per_label: Counter[Any] = Counter((old[key], new[key]) for key in old.keys() & new.keys())
    print("classification before -> after (figures shown in both):")
    for (was, now_label), count in sorted(per_label.items()):
        print(f"  {was.value:>9} -> {now_label.value:<9} {count}")
    for scale in args.noise_quantity:
        noise_cost(buckets, live, today, args, scale)


if __name__ == "__main__":
    main()
