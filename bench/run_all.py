"""Run every benchmark and write its figures into docs/performance.md (`make bench`).

    .venv/bin/python bench/run_all.py [--only NAME ...] [--quick] [--dry-run]

Each benchmark is a script in bench/ that prints a plain table; this runs them one after
the other (never in parallel: they would measure each other), shows progress on stderr and
replaces, in docs/performance.md, the block between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->` with the command, the machine, the date and the output. The prose
around the blocks is left alone. A benchmark that fails keeps its old block and makes the
exit code 1. Never part of the pass/fail test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"


@dataclass(frozen=True)
class Bench:
    name: str
    args: tuple[str, ...]
    quick: tuple[str, ...] = ()  # replaces args with --quick: a smoke run, not figures

    def command(self, quick: bool) -> list[str]:
        args = self.quick if quick and self.quick else self.args
        return [sys.executable, f"bench/{self.name}.py", *args]


BENCHES = (
    Bench("cold_start", (), ("--runs", "1", "--source-runs", "0")),
    Bench("record_overhead", (), ("--records", "2000", "--repeats", "1")),
    Bench(
        "api_load",
        ("--requests", "300", "--workers", "4", "--density", "10000"),
        ("--requests", "20", "--density", "200"),
    ),
    Bench("freshness", ("--writes", "30", "--rates", "2", "5", "10"), ("--writes", "3")),
    Bench("pipeline_cost", ("--sizes", "1000", "10000", "100000"), ("--sizes", "200")),
    Bench(
        "matching_cost", ("--sizes", "200", "2000", "20000"), ("--sizes", "200", "--writes", "5")
    ),
    Bench("privacy_utility", ()),
    Bench("signals_rcu", (), ("--listings", "1000", "--crops", "2", "--cells", "2")),
    Bench(
        "push_latency",
        ("--rate", "10", "--seconds", "30", "--connections", "100"),
        ("--rate", "2", "--seconds", "2", "--connections", "5"),
    ),
)


def machine() -> str:
    return (
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def block(bench: Bench, quick: bool, output: str, seconds: float) -> str:
    shown = " ".join(["python", *bench.command(quick)[1:]])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<!-- bench:{bench.name} -->\n"
        f"`{shown}` — {machine()}, {stamp}, took {seconds:.0f} s\n\n"
        f"```\n{output.rstrip()}\n```\n"
        f"<!-- /bench:{bench.name} -->"
    )


def replace_block(document: str, name: str, new: str) -> str:
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _: new, document)
    return document.rstrip() + f"\n\n## {name}\n\n{new}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHES])
    parser.add_argument("--quick", action="store_true", help="small runs, to check the scripts")
    parser.add_argument("--dry-run", action="store_true", help="print, do not touch the doc")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    document = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Performance\n"
    failed = []
    for number, bench in enumerate(chosen, start=1):
        command = bench.command(args.quick)
        sys.stderr.write(f"[{number}/{len(chosen)}] {' '.join(command[1:])}\n")
        started = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        result = subprocess.run(  # noqa: S603 - our own scripts, no shell
            command, cwd=ROOT, capture_output=True, text=True, env=env, check=False
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            failed.append(bench.name)
            sys.stderr.write(f"  failed ({result.returncode}):\n{result.stderr[-2000:]}\n")
            continue
        sys.stderr.write(f"  done in {seconds:.0f} s\n")
        sys.stdout.write(result.stdout)
        document = replace_block(
            document, bench.name, block(bench, args.quick, result.stdout, seconds)
        )
    if not args.dry_run:
        DOC.write_text(document, encoding="utf-8")
        sys.stderr.write(f"wrote {DOC.relative_to(ROOT)}\n")
    if failed:
        sys.stderr.write(f"failed: {', '.join(failed)}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
