"""`harvest serve` as a real process: Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP)
lose no acknowledged write and leave no process behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harvest.cli.main import main
from harvest.local.engines import free_port
from harvest.local.tokens import TokenIssuer, signing_key
from support import payloads
from support.runtime import WAIT_LIMIT_S, HttpClient, pipeline_progress


def _children(pid: int) -> list[int]:
    pgrep = shutil.which("pgrep")
    assert pgrep is not None, "pgrep (procps) is needed to look for orphan processes"
    found = subprocess.run(  # noqa: S603 - fixed arguments
        [pgrep, "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(child) for child in found]


def _exit_code_once_stopped(
    process: subprocess.Popen[str], data: Path, output: list[str], stall_s: float = 120.0
) -> int:
    """The stop drains the pipeline before it saves (on moto the snapshot must hold every
    acknowledged write's effects), which takes as long as the backlog on a loaded machine:
    wait while the pipeline moves (pipeline_progress: checkpoints, DLQs, events), fail only
    when nothing moved for `stall_s` (or after WAIT_LIMIT_S in all)."""
    started = moved = time.monotonic()
    seen = pipeline_progress([data])
    while True:
        try:
            return process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        now, current = time.monotonic(), pipeline_progress([data])
        if current != seen:
            seen, moved = current, now
        if now - moved > stall_s or now - started > WAIT_LIMIT_S:
            raise AssertionError(
                f"the stop did not end: nothing moved for {now - moved:.0f}s, "
                f"{now - started:.0f}s in all\n" + "".join(output[-40:])
            )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(
    ("engine", "stop_signal"),
    [
        ("moto", signal.SIGINT),
        ("moto", signal.SIGHUP),
        ("dynamodb-local", signal.SIGINT),
        ("dynamodb-local", signal.SIGHUP),
    ],
    ids=["moto-sigint", "moto-sighup", "dynamodb-local-sigint", "dynamodb-local-sighup"],
)
def test_a_stop_signal_keeps_every_acknowledged_write_and_leaves_no_orphans(
    tmp_path: Path, engine: str, stop_signal: signal.Signals, capsys: pytest.CaptureFixture[str]
) -> None:
    data, port = tmp_path / "data", free_port()
    env = {**os.environ, "HARVEST_CONFIG_DIR": str(tmp_path / "config")}
    process = subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "harvest.cli.main",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data),
            "--engine",
            engine,
            "--quiet",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    # Function workers may log before the banner (the refresher's first tick at start).
    banner = [process.stdout.readline() for _ in range(2)]
    while banner[-1] and "is running" not in banner[-2] and len(banner) < 200:
        banner.append(process.stdout.readline())
    assert any("is running" in line for line in banner), banner
    children = _children(process.pid)
    # Keep reading its output: a full pipe would block the runtime's next log line (and
    # with it a poller or the stop) and time the test out for a reason of its own.
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()

    os.environ["HARVEST_CONFIG_DIR"] = str(tmp_path / "config")
    try:
        http = HttpClient(f"http://127.0.0.1:{port}", TokenIssuer(signing_key()))
        acknowledged: list[str] = []
        stop = threading.Event()

        def write_until_refused() -> None:
            while not stop.is_set():
                try:
                    result = http.call("POST", "/listings", payloads.listing(), user="grower")
                except OSError:
                    return
                if result.status == 201:
                    acknowledged.append(result.body["listingId"])

        writer = threading.Thread(target=write_until_refused)
        writer.start()
        # Signal once writes are flowing, so some are in flight when it arrives.
        deadline = time.monotonic() + 120
        while len(acknowledged) < 3 and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(acknowledged) >= 3, "the runtime acknowledged no writes"
        process.send_signal(stop_signal)
        assert _exit_code_once_stopped(process, data, output) == 0, "".join(output[-40:])
        stop.set()
        writer.join(timeout=30)
    finally:
        del os.environ["HARVEST_CONFIG_DIR"]
        if process.poll() is None:
            process.kill()

    assert acknowledged, "no write was acknowledged before the stop"
    assert not [child for child in children if _alive(child)], "orphan processes left"

    capsys.readouterr()
    code = main(
        [
            "query",
            "listings_by_owner",
            "-p",
            "ownerId=grower",
            "-p",
            "limit=1000",
            "--data-dir",
            str(data),
            "--plain",
        ]
    )
    stored = capsys.readouterr().out
    assert code == 0
    missing = [listing for listing in acknowledged if listing not in stored]
    assert missing == []
