"""Cold-start import cost of every Lambda handler in template.yaml, next to its heavy
dependencies, and a check that no AWS client is created at import.

    .venv/bin/python bench/cold_start.py [--runs 7] [--source-runs 3] [--json PATH]

Each figure is `python -X importtime -c "import MODULE"` in a fresh interpreter, median of
--runs: the import time is the sum of the cumulative times of the statement's top-level
imports (interpreter start-up excluded), the wall time is the whole process. The
environment is Lambda-like (LAMBDA_TASK_ROOT, AWS_LAMBDA_FUNCTION_NAME, the function's
variables from the template), so Powertools' Tracer patches botocore as it does in Lambda.

Bytecode: every run uses a private PYTHONPYCACHEPREFIX (a temporary directory), so nothing
is written into the checkout. One warm-up import per module compiles into it first; the
"from source" column (--source-runs, 0 to skip) uses a prefix that holds the standard
library's bytecode only, with writing off: a deployment package without .pyc files, which
Lambda (read-only /var/task) compiles again on every cold start. -X importtime itself adds
a little per module.

Then the API handler beside its bare dependencies, import alone and with a first request.
Prints figures; never asserts. Run on an idle machine for stable numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from harness import cold_start_api  # noqa: I001 - after the sys.path line above
from harvest.tools.template import load_template

SRC = Path(__file__).resolve().parents[1] / "src"
MARK = "--bench-import-starts--"
HEAVY_DEPENDENCIES = (
    "boto3",
    "botocore",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_xray_sdk.core",
)
# Clients whose creation at import would cost every cold start (and those named in the
# design: the AI worker's Bedrock client, the publisher's EventBridge client).
WATCHED_SERVICES = ("bedrock-runtime", "events", "dynamodb", "ssm")
LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$")

# Runs in the subprocess: counts botocore client creations and service-model loads made
# while importing the module, then creates one client itself to prove the probe counts.
PROBE = """
import importlib, json, sys
import botocore.loaders, botocore.session
created, models = [], []
original_create = botocore.session.Session.create_client
original_load = botocore.loaders.Loader.load_service_model
def create_client(self, service_name, *args, **kwargs):
    created.append(service_name)
    return original_create(self, service_name, *args, **kwargs)
def load_service_model(self, service_name, type_name, api_version=None):
    models.append(service_name + "/" + type_name)
    return original_load(self, service_name, type_name, api_version)
botocore.session.Session.create_client = create_client
botocore.loaders.Loader.load_service_model = load_service_model
importlib.import_module(sys.argv[1])
import boto3
at_import = {"clients": list(created), "models": sorted(set(models)),
             "defaultSession": boto3.DEFAULT_SESSION is not None}
boto3.client("events", region_name="us-east-1")
at_import["probeCountsClients"] = created[len(at_import["clients"]):] == ["events"]
json.dump(at_import, sys.stdout)
"""


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    module: str
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Runs:
    imports_ms: list[float] = field(default_factory=list)
    walls_ms: list[float] = field(default_factory=list)
    cpus_ms: list[float] = field(default_factory=list)
    selfs_us: dict[str, list[int]] = field(default_factory=dict)


def resolve(value: Any, parameters: dict[str, Any]) -> str:
    """A template environment value as a plain string (intrinsics -> placeholders)."""
    if isinstance(value, dict) and "Ref" in value:
        default = parameters.get(str(value["Ref"]), {}).get("Default")
        return "harvest-bench" if default is None else str(default)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        return re.sub(r"\$\{[^}]+\}", "bench", text if isinstance(text, str) else str(text[0]))
    if isinstance(value, dict):
        return "bench"
    return str(value)


def handler_targets() -> list[Target]:
    """Every Serverless function of template.yaml: its module and Lambda-like environment."""
    template = load_template()
    parameters: dict[str, Any] = template.get("Parameters", {})
    globals_ = template.get("Globals", {}).get("Function", {})
    shared = globals_.get("Environment", {}).get("Variables", {})
    targets = []
    for logical_id, definition in template["Resources"].items():
        if definition.get("Type") != "AWS::Serverless::Function":
            continue
        props = definition["Properties"]
        module, _, _ = str(props["Handler"]).rpartition(".")
        own = props.get("Environment", {}).get("Variables", {})
        environment = {k: resolve(v, parameters) for k, v in {**shared, **own}.items()}
        environment |= {
            "AWS_LAMBDA_FUNCTION_NAME": f"harvest-bench-{logical_id}",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(
                props.get("MemorySize", globals_.get("MemorySize", 128))
            ),
            "_HANDLER": str(props["Handler"]),
        }
        targets.append(Target(logical_id, module, environment))
    return targets


def base_environment(pycache: Path, *, write_bytecode: bool) -> dict[str, str]:
    """A clean, Lambda-like environment: no credentials or profile of the caller, and an
    endpoint that refuses connections, so an accidental AWS call fails fast."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(SRC),
        "PYTHONPYCACHEPREFIX": str(pycache),
        "LAMBDA_TASK_ROOT": str(SRC),
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if not write_bytecode:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def run_import(target: Target, environment: dict[str, str], runs: Runs) -> None:
    code = (
        f"import sys; sys.stderr.write({MARK!r} + '\\n'); sys.stderr.flush(); "
        f"import {target.module}"
    )
    command = [sys.executable, "-X", "importtime", "-c", code]
    cpu_before, started = children_cpu_ms(), time.perf_counter()
    done = subprocess.run(  # noqa: S603
        command,
        env={**environment, **target.environment},
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC,
    )
    wall_ms = (time.perf_counter() - started) * 1000
    runs.cpus_ms.append(children_cpu_ms() - cpu_before)
    if done.returncode != 0:
        raise RuntimeError(f"import {target.module} failed:\n{done.stderr[-2000:]}")
    total_us = 0
    selfs: dict[str, int] = {}
    lines = done.stderr.splitlines()
    for line in lines[lines.index(MARK) + 1 :]:
        match = LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, name = match.groups()
        selfs[name] = selfs.get(name, 0) + int(self_us)
        if len(indent) == 1:  # a top-level import of the statement
            total_us += int(cumulative_us)
    runs.imports_ms.append(total_us / 1000)
    runs.walls_ms.append(wall_ms)
    for name, value in selfs.items():
        runs.selfs_us.setdefault(name, []).append(value)


def children_cpu_ms() -> float:
    """User + system CPU time of every finished child so far: unlike wall time, barely
    inflated when other processes compete for the cores."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def measure(targets: list[Target], environment: dict[str, str], count: int) -> dict[str, Runs]:
    """Runs round-robin over the targets, so load changes hit every target alike."""
    results = {target.label: Runs() for target in targets}
    for _ in range(count):
        for target in targets:
            run_import(target, environment, results[target.label])
    return results


def probe(target: Target, environment: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE, target.module],
        env={**environment, **target.environment},
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC,
    )
    if done.returncode != 0:
        raise RuntimeError(f"probe of {target.module} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def top_self(runs: Runs, count: int = 10) -> list[tuple[str, float]]:
    medians = {name: statistics.median(values) / 1000 for name, values in runs.selfs_us.items()}
    return sorted(medians.items(), key=lambda pair: -pair[1])[:count]


def summary(runs: Runs) -> dict[str, float]:
    imports = runs.imports_ms or [0.0]  # the bare interpreter imports nothing
    return {
        "importMedianMs": round(statistics.median(imports), 1),
        "importMinMs": round(min(imports), 1),
        "importMaxMs": round(max(imports), 1),
        "wallMedianMs": round(statistics.median(runs.walls_ms), 1),
        "cpuMedianMs": round(statistics.median(runs.cpus_ms), 1),
    }


@dataclass(frozen=True, slots=True)
class Report:
    runs: int
    handlers: list[Target]
    dependencies: list[Target]
    results: dict[str, Runs]
    from_source: dict[str, Runs]
    probes: dict[str, dict[str, Any]]
    baseline: Runs

    def print(self) -> None:
        print(
            f"python {platform.python_version()} on {platform.machine()}, "
            f"{os.cpu_count()} cores; median of {self.runs} fresh interpreters (round-robin) "
            f"after one warm-up import that compiled bytecode into a private PYTHONPYCACHEPREFIX"
        )
        bare_cpu = statistics.median(self.baseline.cpus_ms)
        print(
            f"interpreter start-up alone (python -c pass): "
            f"{statistics.median(self.baseline.walls_ms):.0f} ms wall, {bare_cpu:.0f} ms CPU"
        )
        print(
            "import ms: -X importtime (wall clock, inflated when the machine is busy); "
            "CPU ms: the process's user+sys time minus the bare interpreter's"
        )
        print()
        header = f"{'function':<20} {'module':<30} {'import ms':>9} {'min-max':>11} {'CPU ms':>7}"
        if self.from_source:
            header += f" {'no .pyc: import':>15} {'CPU':>6}"
        print(header)
        for target in self.handlers:
            row = f"{target.label:<20} {target.module:<30} " + _cells(
                summary(self.results[target.label]), bare_cpu
            )
            if self.from_source:
                cold = summary(self.from_source[target.label])
                row += f" {cold['importMedianMs']:>15.0f} {cold['cpuMedianMs'] - bare_cpu:>6.0f}"
            print(row)
        print()
        print(f"{'dependency (bare import)':<51} {'import ms':>9} {'min-max':>11} {'CPU ms':>7}")
        for target in self.dependencies:
            print(f"{target.module:<51} " + _cells(summary(self.results[target.label]), bare_cpu))
        print()
        print("clients at import (botocore Session.create_client calls, service models loaded):")
        for target in self.handlers:
            found = self.probes[target.label]
            watched = [s for s in found["clients"] if s in WATCHED_SERVICES]
            print(
                f"  {target.label:<20} clients={found['clients'] or 'none'} "
                f"models={found['models'] or 'none'} boto3 default session="
                f"{'yes' if found['defaultSession'] else 'no'} "
                f"lazy={'yes' if not watched else 'NO'} (probe self-check: "
                f"{'ok' if found['probeCountsClients'] else 'FAILED'})"
            )
        for target in self.handlers:
            print()
            print(f"top 10 self time, {target.module} (median ms, importtime):")
            for name, value in top_self(self.results[target.label]):
                print(f"  {value:8.1f}  {name}")

    def document(self) -> dict[str, Any]:
        return {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cores": os.cpu_count(),
            "runs": self.runs,
            "bytecode": "warm-up import into a private PYTHONPYCACHEPREFIX",
            "interpreterStartup": summary(self.baseline),
            "handlers": {
                target.label: {
                    "module": target.module,
                    **summary(self.results[target.label]),
                    "withoutBytecode": (
                        summary(self.from_source[target.label]) if self.from_source else None
                    ),
                    "atImport": self.probes[target.label],
                    "topSelfMs": [
                        {"module": name, "ms": round(value, 2)}
                        for name, value in top_self(self.results[target.label])
                    ],
                }
                for target in self.handlers
            },
            "dependencies": {
                target.module: summary(self.results[target.label]) for target in self.dependencies
            },
        }


def _cells(figures: dict[str, float], bare_cpu: float) -> str:
    return (
        f"{figures['importMedianMs']:>9.0f} "
        f"{figures['importMinMs']:>5.0f}-{figures['importMaxMs']:<5.0f} "
        f"{figures['cpuMedianMs'] - bare_cpu:>7.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--source-runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    started = time.perf_counter()
    handlers = handler_targets()
    dependencies = [Target(name, name) for name in HEAVY_DEPENDENCIES]
    everything = handlers + dependencies
    with tempfile.TemporaryDirectory() as scratch:
        compiled = Path(scratch) / "compiled"
        warm = base_environment(compiled, write_bytecode=True)
        measure(everything, warm, 1)  # warm-up: compiles into the private prefix
        timed = base_environment(compiled, write_bytecode=False)
        results = measure(everything, timed, args.runs)
        cold = base_environment(
            stdlib_only(compiled, Path(scratch) / "stdlib"), write_bytecode=False
        )
        from_source = measure(handlers, cold, args.source_runs) if args.source_runs else {}
        probes = {target.label: probe(target, timed) for target in handlers}
        baseline = Runs()
        measure_baseline(timed, baseline, args.runs)
        api = cold_start_api.measure(timed, handlers, str(SRC), args.runs)
    report = Report(args.runs, handlers, dependencies, results, from_source, probes, baseline)
    report.print()
    print()
    bare_cpu = statistics.median(baseline.cpus_ms)
    print("\n".join(cold_start_api.report(api, bare_cpu)))
    print()
    print(f"run time: {time.perf_counter() - started:.0f} s")
    if args.json:
        document = report.document() | {"apiBesideBare": cold_start_api.document(api, bare_cpu)}
        args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def stdlib_only(compiled: Path, target: Path) -> Path:
    """A copy of the bytecode prefix without our package and site-packages: the standard
    library stays compiled (as in Lambda's runtime), the deployment package does not."""
    shutil.copytree(compiled, target)
    package_dirs = {SRC, Path(sysconfig.get_paths()["purelib"])}
    for directory in {*package_dirs, *(d.resolve() for d in package_dirs)}:
        shutil.rmtree(target / str(directory).lstrip("/"), ignore_errors=True)
    return target


def measure_baseline(environment: dict[str, str], runs: Runs, count: int) -> None:
    for _ in range(count):
        cpu_before, started = children_cpu_ms(), time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=environment, check=True, cwd=SRC)
        runs.walls_ms.append((time.perf_counter() - started) * 1000)
        runs.cpus_ms.append(children_cpu_ms() - cpu_before)


if __name__ == "__main__":
    main()
