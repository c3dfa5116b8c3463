"""What `harvest serve` (and a test) asks of one local runtime (local.runtime.LocalRuntime)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RuntimeOptions"]


# `harvest serve`'s API processes: four readers and a writer at 10 creates/s (bench/api_load.py)
# had a read p99 of 30-42 ms on four, 36-58 ms on two (idle 2-core machine, same hour);
# Lambda would run a container per concurrent request.
SERVE_API_PROCESSES = 4


@dataclass
class RuntimeOptions:
    port: int = 3000
    host: str = "127.0.0.1"
    engine: str = "auto"  # DynamoDB Local where Java is present, else moto
    endpoint_url: str | None = None
    data_dir: Path | None = field(default_factory=lambda: Path(".harvest"))
    table_name: str = "harvest-local"
    region: str = "us-east-1"
    with_pollers: bool = True
    # The API function in a process of its own (as Lambda runs it: consumers and the engine
    # cannot starve it). In-process keeps it reachable for tests that patch boto3 here.
    api_process: bool = False
    # How many API processes (with api_process) share the port, SO_REUSEPORT: as Lambda
    # runs concurrent containers, a slow request does not queue the next behind it.
    # `harvest serve` starts SERVE_API_PROCESSES.
    api_processes: int = 1
    # Each emulated function in a warm worker process of its own (local.workers), with its
    # own environment, settings and timeout, as `harvest serve` runs them. In-process keeps
    # them reachable for tests that patch a consumer here.
    function_processes: bool = False
    # How many steps below the API and the engine the consumers run (their worker
    # processes and their pollers; local.priority): on AWS they never share the API's CPU.
    # `harvest serve` runs them at local.priority.CONSUMER_NICE; 0 (tests, in-process
    # functions) at the API's priority.
    consumer_nice: int = 0
    # The longest wait between two empty GetRecords of a stream poller (it starts at 0.1 s
    # and doubles while the stream stays quiet); 0.1 polls at a fixed 10/s, as before.
    max_stream_idle_s: float = 0.5
    # DynamoDB Local's JVM options; None: local.engines.LEAN_JVM_OPTIONS (less CPU per call).
    engine_jvm_options: tuple[str, ...] | None = None
    # Tests run the runtime on a variant of template.yaml (e.g. with a test consumer).
    template: dict[str, Any] | None = None
    # The WebSocket API's local endpoint (local.websocket); None: the API port + 1, or any
    # free port when the API's is.
    websocket_port: int | None = None
