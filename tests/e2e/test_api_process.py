"""The API function in a process of its own (as `harvest serve` runs it): it answers, a
terminal's Ctrl-C does not stop it, the runtime's stop drains it, and it never outlives the
runtime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harvest.local.options import RuntimeOptions
from harvest.local.runtime import LocalRuntime
from harvest.local.tokens import TokenIssuer, signing_key
from support import payloads
from support.runtime import HttpClient, clear_container_caches


@contextmanager
def _runtime_with_api_process(
    data: Path, processes: int = 1
) -> Iterator[tuple[LocalRuntime, HttpClient]]:
    saved = dict(os.environ)
    os.environ["HARVEST_CONFIG_DIR"] = str(data / "config")
    options = RuntimeOptions(
        port=0, data_dir=data, engine="moto", api_process=True, api_processes=processes
    )
    runtime = LocalRuntime(options)
    clear_container_caches()
    try:
        runtime.start()
        yield runtime, HttpClient(runtime.api_url, TokenIssuer(signing_key()))
    finally:
        runtime.stop()
        os.environ.clear()
        os.environ.update(saved)
        clear_container_caches()


def test_the_api_answers_from_its_own_process_and_ignores_a_terminal_ctrl_c(
    tmp_path: Path,
) -> None:
    # Given the runtime with the API function in a process of its own
    with _runtime_with_api_process(tmp_path / "data") as (runtime, http):
        child = runtime.api_child
        assert child is not None
        assert child.process.pid != os.getpid()
        # When a listing is created and read back through it
        created = http.call("POST", "/listings", payloads.listing(), user="grower")
        assert created.status == 201, created.body
        listing = created.body["listingId"]
        # ... and the terminal's Ctrl-C reaches it (a terminal signals the whole group)
        child.process.send_signal(signal.SIGINT)
        # Then it keeps answering: the runtime, not the terminal, decides when it stops
        found = http.call("GET", f"/listings/{listing}", user="reader")
        assert found.status == 200
        assert child.process.poll() is None
    # ... and the runtime's stop ends it cleanly (SIGTERM: drain, exit 0)
    assert child.process.returncode == 0


def _listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on 127.0.0.1:port (/proc/net/tcp, state 0A)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and local == f"0100007F:{port:04X}":
            found.add(inode)
    return found


def _sockets_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def test_two_api_processes_share_the_port_and_both_stop_cleanly(tmp_path: Path) -> None:
    # Given the runtime with two API processes (as `harvest serve` runs it)
    with _runtime_with_api_process(tmp_path / "data", processes=2) as (runtime, http):
        children = runtime.api_children
        assert len(children) == 2
        assert len({child.process.pid for child in children}) == 2
        port = int(runtime.api_url.rsplit(":", 1)[1])
        # Then each listens on the one port with a socket of its own (SO_REUSEPORT)
        listening = _listening_sockets(port)
        assert len(listening) == 2
        for child in children:
            assert _sockets_of(child.process.pid) & listening
        # ... and the API answers through them, a write then reads on fresh connections
        created = http.call("POST", "/listings", payloads.listing(), user="grower")
        assert created.status == 201, created.body
        for _ in range(10):
            found = http.call("GET", f"/listings/{created.body['listingId']}", user="reader")
            assert found.status == 200
    # ... and the runtime's stop drains both (SIGTERM, exit 0)
    assert [child.process.returncode for child in children] == [0, 0]


def _live(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}


RUNTIME_SCRIPT = """
import sys
from pathlib import Path
from harvest.local.options import RuntimeOptions
from harvest.local.runtime import LocalRuntime
options = RuntimeOptions(port=0, data_dir=Path(sys.argv[1]), engine="moto", api_process=True,
                         with_pollers=False)
runtime = LocalRuntime(options)
runtime.start()
print(runtime.api_child.process.pid, flush=True)
sys.stdin.read()
"""


def test_the_api_process_dies_with_a_killed_runtime(tmp_path: Path) -> None:
    # Given a runtime process (a Python that starts one and waits) and its API process
    env = {**os.environ, "HARVEST_CONFIG_DIR": str(tmp_path / "config")}
    parent = subprocess.Popen(  # noqa: S603 - our own code
        [sys.executable, "-c", RUNTIME_SCRIPT, str(tmp_path / "data")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert parent.stdout is not None
    api_pid = int(parent.stdout.readline())
    assert _live(api_pid)
    try:
        # When the runtime is killed, with no chance to stop anything
        parent.kill()
        parent.wait(timeout=30)
        # Then its API process goes too (PR_SET_PDEATHSIG), without anyone asking it to
        deadline = time.monotonic() + 60  # the kernel signals at once: only a failure waits
        while _live(api_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _live(api_pid)
    finally:
        if _live(api_pid):
            os.kill(api_pid, signal.SIGKILL)
