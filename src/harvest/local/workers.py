"""Each emulated function in a warm worker process of its own, as Lambda runs a container.

A worker is `python -m harvest.local.workers` started with the runtime's environment plus the
function's variables (Globals merged under its own, from template.yaml): its own interpreter,
GIL, module state and cached settings, so no consumer can starve the API or another consumer,
or fix another function's configuration (issue 12: the AI worker's CONSUMER_MIN_REMAINING_MS
had become every consumer's). The handler is imported once (Lambda's init phase), then the
worker answers one invocation at a time.

Protocol: one JSON line per invocation on the worker's stdin ({"event", "context"}), one JSON
line back on a private copy of its stdout ({"response"} or {"error"}); the first line it
writes says {"ready": true} or {"initError": ...}. Its fd 1 is pointed at stderr, so whatever
the handler prints (Powertools logs JSON to stdout) joins its logs, which the runtime copies
to its own stderr line by line, prefixed `[FunctionName]`: one readable stream.

A function that outlives its timeout is killed, as Lambda stops it: the invocation fails
(the poller retries or bisects as it would on AWS) and a fresh worker starts, cold, at the
next invocation. A worker ignores SIGINT and SIGHUP (the runtime stops it, after its pollers
finished their batches: closing its stdin ends it) and dies with the runtime if that is killed.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess  # nosec B404
import sys
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from harvest.local.api_process import die_with_parent
from harvest.local.invocation import LambdaContextLike, LocalLambdaContext, resolve_handler
from harvest.local.priority import lower_process

__all__ = ["FunctionCrashed", "FunctionError", "FunctionTimedOut", "FunctionWorker", "WorkerSpec"]

log = logging.getLogger("harvest.local.workers")
SPEC_VARIABLE = "HARVEST_FUNCTION_WORKER"
START_TIMEOUT_S = 120.0  # a cold import on a loaded 2-core machine takes seconds, not minutes
_OUTPUT_LOCK = threading.Lock()  # whole lines from every worker, never interleaved


@dataclass(frozen=True)
class WorkerSpec:
    function_name: str
    handler: str
    environment: dict[str, str] = field(default_factory=dict)
    log_level: int = logging.INFO
    # Steps below the API's CPU priority (local.priority): a consumer never delays a read.
    nice: int = 0


class FunctionError(RuntimeError):
    """The handler raised: a function error, as Lambda reports it."""


class FunctionTimedOut(FunctionError):
    """The handler ran past its timeout; its worker was killed."""


class FunctionCrashed(FunctionError):
    """The worker process died during the invocation (or its start)."""


# The variables a function's loggers take their level from (Powertools, then ours).
LOG_LEVEL_VARIABLES = ("POWERTOOLS_LOG_LEVEL", "LOG_LEVEL")


def routed_log_levels(environment: Mapping[str, str], level: int) -> dict[str, str]:
    """The function's log-level variables raised to the runtime's level when the runtime is
    quieter than INFO, never lowered: template.yaml gives every function
    POWERTOOLS_LOG_LEVEL=INFO, which would otherwise beat `harvest serve --quiet` in each
    worker (Powertools reads it when a Logger is made). Warnings and errors stay visible:
    quiet is WARNING. A function set to DEBUG keeps it under a runtime at INFO."""
    routed: dict[str, str] = {}
    if level <= logging.INFO:
        return routed
    for name in LOG_LEVEL_VARIABLES:
        own = logging.getLevelName(environment.get(name, "INFO").strip().upper())
        if level > (own if isinstance(own, int) else logging.INFO):
            routed[name] = logging.getLevelName(level)
    return routed


class _Process:
    """One started worker: the child and the lines it answers with."""

    def __init__(self, spec: WorkerSpec, log_sink: IO[str]) -> None:
        inherited = {**os.environ, **spec.environment}
        environment = {
            **inherited,
            **routed_log_levels(inherited, spec.log_level),
            SPEC_VARIABLE: json.dumps(asdict(spec)),
            # Whatever the runtime can import (tests' consumers too), the worker can.
            "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
        }
        self.child = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "harvest.local.workers"],
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        name = spec.function_name
        threading.Thread(target=self._read_replies, name=f"worker-{name}", daemon=True).start()
        threading.Thread(
            target=_copy_logs, args=(self.child.stderr, name, log_sink), daemon=True
        ).start()

    def _read_replies(self) -> None:
        assert self.child.stdout is not None  # noqa: S101 - PIPE above  # nosec B101
        for line in self.child.stdout:
            self.replies.put(json.loads(line))
        self.replies.put(None)  # the worker is gone

    def send(self, message: dict[str, Any]) -> None:
        assert self.child.stdin is not None  # noqa: S101 - PIPE above  # nosec B101
        self.child.stdin.write(json.dumps(message) + "\n")
        self.child.stdin.flush()

    def kill(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait(timeout=30)

    def close(self, timeout_s: float) -> None:
        """End of input: the worker finishes and exits; killed if it does not."""
        try:
            if self.child.stdin is not None:
                self.child.stdin.close()
        except OSError:  # already gone
            pass
        try:
            self.child.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()


def _copy_logs(stream: IO[str] | None, name: str, sink: IO[str]) -> None:
    if stream is None:
        return
    for line in stream:
        with _OUTPUT_LOCK:
            try:
                sink.write(f"[{name}] {line}")
                sink.flush()
            except (OSError, ValueError):
                # The terminal is gone (SIGHUP) or closed: keep reading, or the worker would
                # block on a full pipe in the middle of a batch and the stop would wait on it.
                continue


class FunctionWorker:
    """The runtime's handle on one function's warm worker; an Invoke (call it with the event
    and the context, get the response or a FunctionError)."""

    def __init__(
        self,
        spec: WorkerSpec,
        *,
        start_timeout_s: float = START_TIMEOUT_S,
        log_sink: IO[str] | None = None,
    ) -> None:
        self.spec = spec
        self.start_timeout_s = start_timeout_s
        self.log_sink = log_sink or sys.stderr
        self.starts = 0
        self._process: _Process | None = None
        self._lock = threading.Lock()  # one invocation at a time, as in one container

    @property
    def pid(self) -> int | None:
        return self._process.child.pid if self._process is not None else None

    def start(self) -> None:
        """Start (or restart) the worker and wait for its init phase to finish."""
        with self._lock:
            self._ensure_started()

    def __call__(self, event: dict[str, Any], context: LambdaContextLike) -> Any:
        timeout_s = context.get_remaining_time_in_millis() / 1000
        with self._lock:
            process = self._ensure_started()
            message = {
                "event": event,
                "context": {
                    "function_name": context.function_name,
                    "aws_request_id": context.aws_request_id,
                    "invoked_function_arn": context.invoked_function_arn,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "remaining_ms": round(timeout_s * 1000),
                },
            }
            try:
                process.send(message)
                reply = process.replies.get(timeout=max(timeout_s, 0.001))
            except (OSError, ValueError):
                reply = None  # its stdin is closed: it died before this invocation
            except queue.Empty:
                self._drop(kill=True)
                raise FunctionTimedOut(
                    f"Task timed out after {timeout_s:.2f} seconds (worker killed)"
                ) from None
            if reply is None:
                code = self._drop(kill=False)
                raise FunctionCrashed(f"the worker process exited ({code}) during the call")
        if "error" in reply:
            raise FunctionError(str(reply["error"]))
        return reply.get("response")

    def close(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            if self._process is not None:
                self._process.close(timeout_s)
                self._process = None

    def _ensure_started(self) -> _Process:
        if self._process is not None and self._process.child.poll() is None:
            return self._process
        if self._process is not None:
            self._drop(kill=False)
        process = _Process(self.spec, self.log_sink)
        self.starts += 1
        try:
            first = process.replies.get(timeout=self.start_timeout_s)
        except queue.Empty:
            process.kill()
            raise FunctionCrashed(
                f"the worker did not start in {self.start_timeout_s:.0f}s"
            ) from None
        if first is None or not first.get("ready"):
            process.kill()
            problem = first.get("initError") if first else "exited"
            raise FunctionCrashed(f"the worker did not start: {problem}")
        self._process = process
        return process

    def _drop(self, *, kill: bool) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        if kill:
            process.kill()
        else:
            process.close(10.0)
        return process.child.returncode


# ---------------------------------------------------------------------------- the worker side
def _context(document: dict[str, Any]) -> LocalLambdaContext:
    return LocalLambdaContext(
        function_name=str(document["function_name"]),
        aws_request_id=str(document["aws_request_id"]),
        invoked_function_arn=str(document["invoked_function_arn"]),
        memory_limit_in_mb=int(document["memory_limit_in_mb"]),
        deadline=time.time() + int(document["remaining_ms"]) / 1000,
        clock=time.time,
    )


def serve(spec: WorkerSpec, requests: IO[str], replies: IO[str]) -> None:
    """Init once, then answer each request line with one reply line until end of input."""

    def reply(document: dict[str, Any]) -> None:
        replies.write(json.dumps(document, default=str) + "\n")
        replies.flush()

    try:
        handler = resolve_handler(spec.handler)
    except Exception as error:
        reply({"initError": f"{type(error).__name__}: {error}"})
        return
    reply({"ready": True})
    for line in requests:
        request = json.loads(line)
        try:
            response = handler(request["event"], _context(request["context"]))
        except BaseException as error:  # a dying function is a function error
            log.debug("handler traceback", exc_info=error)
            reply({"error": f"{type(error).__name__}: {error}"})
            continue
        reply({"response": response})


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    die_with_parent()
    spec = WorkerSpec(**json.loads(os.environ.pop(SPEC_VARIABLE)))
    lower_process(spec.nice)  # before the init phase: the import is consumer work too
    # Replies go on a private copy of stdout; fd 1 (print, Powertools) joins the logs.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    logging.basicConfig(
        level=spec.log_level,
        format="%(asctime)s %(name)-20s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    serve(spec, sys.stdin, replies)


if __name__ == "__main__":
    main()
