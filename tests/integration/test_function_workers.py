"""Each emulated function in a warm worker process of its own (harvest.local.workers):
its own environment and settings, one init per worker, Lambda's timeout (the worker is
killed, the next call starts a fresh one), function errors and crashes as failed calls,
and its output in the runtime's log stream prefixed with the function's name."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

from harvest.local.invocation import LocalLambdaContext
from harvest.local.workers import (
    FunctionCrashed,
    FunctionError,
    FunctionTimedOut,
    FunctionWorker,
    WorkerSpec,
    routed_log_levels,
)


class LockedLog(io.StringIO):
    """The runtime's stderr as the log-copying threads write to it."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            return super().write(text)

    def text(self) -> str:
        with self.lock:
            return self.getvalue()


def context(name: str, timeout_s: float) -> LocalLambdaContext:
    return LocalLambdaContext(
        name, str(uuid.uuid4()), f"arn:aws:lambda:us-east-1:0:function:{name}", 128,
        deadline=time.time() + timeout_s, clock=time.time,
    )  # fmt: skip


@pytest.fixture
def workers() -> Iterator[list[FunctionWorker]]:
    started: list[FunctionWorker] = []
    yield started
    for worker in started:
        worker.close()


def worker(
    started: list[FunctionWorker],
    handler: str,
    name: str = "Fn",
    nice: int = 0,
    **environment: str,
) -> FunctionWorker:
    spec = WorkerSpec(name, f"support.worker_functions.{handler}", dict(environment), nice=nice)
    made = FunctionWorker(spec, log_sink=LockedLog())
    started.append(made)
    return made


def test_each_function_reads_its_own_settings_in_its_own_warm_process(
    workers: list[FunctionWorker],
) -> None:
    # issue 12: with one shared process the AI worker's 20000 became every consumer's
    advisor = worker(workers, "report", "Advisor", CONSUMER_MIN_REMAINING_MS="20000")
    aggregator = worker(workers, "report", "Aggregator", CONSUMER_MIN_REMAINING_MS="500")
    first = advisor({"n": 1}, context("Advisor", 10))
    other = aggregator({"n": 2}, context("Aggregator", 10))
    again = advisor({"n": 3}, context("Advisor", 10))
    assert (first["minRemainingMs"], other["minRemainingMs"]) == (20000, 500)
    assert first["event"] == {"n": 1}
    assert first["functionName"] == "Advisor"
    assert first["pid"] != other["pid"]
    # warm: the same process answers again, its module imported once (one init phase)
    assert again["pid"] == first["pid"] == first["initPid"] == advisor.pid
    assert advisor.starts == 1
    assert 0 < first["remainingMs"] <= 10_000


def test_a_call_past_its_timeout_fails_and_the_next_runs_in_a_fresh_worker(
    workers: list[FunctionWorker],
) -> None:
    sleeper = worker(workers, "sleep")
    sleeper.start()
    killed = sleeper.pid
    started = time.monotonic()
    with pytest.raises(FunctionTimedOut, match="timed out after"):
        sleeper({"seconds": 30}, context("Fn", 1.0))
    assert time.monotonic() - started < 25  # stopped at its timeout, not after the sleep
    assert sleeper({"seconds": 0}, context("Fn", 30)) == {"slept": 0}
    assert sleeper.pid != killed
    assert sleeper.starts == 2


def test_a_raising_handler_is_a_function_error_and_its_worker_stays_warm(
    workers: list[FunctionWorker],
) -> None:
    failing = worker(workers, "fail")
    with pytest.raises(FunctionError, match="ValueError: refused 7"):
        failing({"n": 7}, context("Fn", 10))
    with pytest.raises(FunctionError, match="refused 8"):
        failing({"n": 8}, context("Fn", 10))
    assert failing.starts == 1


def test_a_dying_handler_fails_its_call_and_a_new_worker_takes_the_next(
    workers: list[FunctionWorker],
) -> None:
    dying = worker(workers, "die")
    with pytest.raises(FunctionCrashed, match="exited"):
        dying({}, context("Fn", 10))
    with pytest.raises(FunctionCrashed):
        dying({}, context("Fn", 10))
    assert dying.starts == 2


def test_a_handler_that_cannot_be_imported_fails_the_start(
    workers: list[FunctionWorker],
) -> None:
    broken = worker(workers, "absent_handler")
    with pytest.raises(FunctionCrashed, match=r"did not start.*absent_handler"):
        broken.start()


def test_what_a_function_prints_or_logs_joins_the_log_stream_under_its_name(
    workers: list[FunctionWorker],
) -> None:
    talker = worker(workers, "talk", "Talker")
    assert talker({"n": 5}, context("Talker", 10)) == "said"
    sink = talker.log_sink
    assert isinstance(sink, LockedLog)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "logged 5" not in sink.text():
        time.sleep(0.05)  # the copying thread runs at its own pace
    lines = sink.text().splitlines()
    assert "[Talker] printed 5" in lines
    assert any(line.startswith("[Talker] ") and line.endswith("logged 5") for line in lines)
    # the reply channel carried only the reply
    assert not any("said" in line for line in lines)


@pytest.mark.parametrize("quiet", [True, False])
def test_a_quiet_runtime_quiets_the_functions_info_lines_but_not_their_warnings(
    workers: list[FunctionWorker], quiet: bool
) -> None:
    # template.yaml gives each function POWERTOOLS_LOG_LEVEL=INFO; `serve --quiet` is WARNING.
    level = logging.WARNING if quiet else logging.INFO
    spec = WorkerSpec("Narrator", "support.worker_functions.narrate",
                      {"POWERTOOLS_LOG_LEVEL": "INFO", "LOG_LEVEL": "INFO"}, level)  # fmt: skip
    narrator = FunctionWorker(spec, log_sink=LockedLog())
    workers.append(narrator)
    assert narrator({"n": 7}, context("Narrator", 10)) == "told"
    sink = narrator.log_sink
    assert isinstance(sink, LockedLog)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "trouble 7" not in sink.text():
        time.sleep(0.05)
    assert "trouble 7" in sink.text()
    assert ("routine 7" in sink.text()) is not quiet


def test_routed_levels_raise_a_functions_level_and_never_lower_it() -> None:
    assert routed_log_levels({"POWERTOOLS_LOG_LEVEL": "INFO"}, logging.WARNING) == {
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "LOG_LEVEL": "WARNING",
    }
    assert routed_log_levels({"POWERTOOLS_LOG_LEVEL": "ERROR", "LOG_LEVEL": "error"},
                             logging.WARNING) == {}  # fmt: skip
    assert routed_log_levels({"POWERTOOLS_LOG_LEVEL": "DEBUG"}, logging.INFO) == {}


class GoneTerminal(io.StringIO):
    """The runtime's stderr after its terminal closed (SIGHUP): every write fails."""

    def write(self, text: str) -> int:
        raise OSError(5, "Input/output error")


def test_a_worker_keeps_answering_when_the_runtimes_terminal_is_gone(
    workers: list[FunctionWorker],
) -> None:
    spec = WorkerSpec("Shouter", "support.worker_functions.shout")
    shouter = FunctionWorker(spec, log_sink=GoneTerminal())
    workers.append(shouter)
    # 300 KB of output, several times what a pipe holds: nobody reading it would block the
    # worker mid-invocation and time the call out
    assert shouter({"lines": 300}, context("Shouter", 60)) == 300
    assert shouter({"lines": 300}, context("Shouter", 60)) == 300


def test_a_worker_runs_below_the_runtimes_cpu_priority_when_asked(
    workers: list[FunctionWorker],
) -> None:
    # issue 12: a consumer's batch must not hold a core a read is waiting for
    niced = worker(workers, "report", "Niced", nice=5)
    plain = worker(workers, "report", "Plain")
    niced({"n": 1}, context("Niced", 10))
    plain({"n": 1}, context("Plain", 10))
    assert niced.pid is not None
    assert plain.pid is not None
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, niced.pid) == min(19, ours + 5)
    assert os.getpriority(os.PRIO_PROCESS, plain.pid) == ours
