"""The API function in a process of its own, as Lambda runs it: its own interpreter (no GIL
shared with the engine or the stream consumers, so they cannot starve it), its own module
state (settings, clients) and its own environment, inherited from the runtime at start.

The runtime starts `python -m harvest.local.api_process` with a JSON description in
HARVEST_API_PROCESS; the child binds the port, prints `LISTENING <port>` once on stdout
and serves until SIGTERM, which drains the requests in flight before it exits 0. It ignores
SIGINT and SIGHUP (a terminal sends them to the whole group; the runtime decides when the
API stops), and it dies with the runtime (PR_SET_PDEATHSIG) if that is killed.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess  # nosec B404
import sys
import threading
import warnings
from dataclasses import asdict, dataclass, replace
from typing import IO, Any

log = logging.getLogger("harvest.local.api")
SPEC_VARIABLE = "HARVEST_API_PROCESS"
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ApiProcessSpec:
    host: str
    port: int
    public: list[str]
    open_preflight: bool
    refusal_headers: dict[str, str]
    log_level: int
    # Several API processes share the port (SO_REUSEPORT), as Lambda runs several
    # containers of a busy function: one slow request no longer holds up the next.
    reuse_port: bool = False


class ApiProcess:
    """The parent's handle on the API child."""

    def __init__(self, spec: ApiProcessSpec) -> None:
        environment = {**os.environ, SPEC_VARIABLE: json.dumps(asdict(spec))}
        self.process = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "harvest.local.api_process"],
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._stop_sent = False
        self.port = _await_port(self.process.stdout, self.process)

    def request_stop(self) -> None:
        """SIGTERM: stop accepting, answer what is in flight, exit (stop() waits for it).
        Once only: a second SIGTERM that lands while the child's interpreter shuts down (its
        handler already reset to the default) kills it mid-exit."""
        if self.process.poll() is None and not self._stop_sent:
            self._stop_sent = True
            self.process.terminate()

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM: stop accepting, answer what is in flight, exit."""
        if self.process.poll() is None:
            self.request_stop()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("api: did not drain within %.0fs, killed", timeout_s)
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _await_port(stream: IO[str] | None, process: subprocess.Popen[str]) -> int:
    line = stream.readline() if stream is not None else ""
    if not line.startswith("LISTENING "):
        process.wait(timeout=30)
        raise RuntimeError(f"the API process did not start (exit {process.returncode})")
    return int(line.split()[1])


def die_with_parent() -> None:
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # pragma: no cover - the runtime died during our start
        os._exit(1)


def start_api_processes(spec: ApiProcessSpec, count: int) -> list[ApiProcess]:
    """`count` processes serving one port (SO_REUSEPORT when more than one, as Lambda runs
    concurrent containers): the others join the port the first bound (a free one when the
    spec said 0)."""
    spec = replace(spec, reuse_port=count > 1)
    first = ApiProcess(spec)
    return [first, *(ApiProcess(replace(spec, port=first.port)) for _ in range(count - 1))]


def serve(spec: ApiProcessSpec) -> None:
    from harvest.api.app import handler  # noqa: PLC0415 - after the environment is set
    from harvest.local.adapter import ApiGatewayEmulator  # noqa: PLC0415
    from harvest.local.tokens import TokenIssuer, signing_key  # noqa: PLC0415

    emulator = ApiGatewayEmulator(
        handler,
        TokenIssuer(signing_key()),
        set(spec.public),
        open_preflight=spec.open_preflight,
        refusal_headers=spec.refusal_headers,
    )
    server = emulator.make_server(spec.host, spec.port, reuse_port=spec.reuse_port)
    server.daemon_threads = False
    server.block_on_close = True  # server_close() waits for the requests in flight
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, name="api", daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()


def main() -> None:
    # The terminal's Ctrl-C and hang-up reach every process of its group: the runtime
    # decides when the API stops (SIGTERM), after it stopped taking requests in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    die_with_parent()
    document: dict[str, Any] = json.loads(os.environ.pop(SPEC_VARIABLE))
    spec = ApiProcessSpec(**document)
    logging.basicConfig(
        level=spec.log_level,
        format="%(asctime)s %(name)-20s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "harvest-api", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    serve(spec)


if __name__ == "__main__":
    main()
