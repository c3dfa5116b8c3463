"""The consumers' CPU priority below the API's (harvest.local.priority, issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from harvest.local.priority import lower_process, lower_thread

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's"
)


def test_lower_thread_lowers_the_calling_thread_only() -> None:
    process_nice = os.getpriority(os.PRIO_PROCESS, 0)
    seen: dict[str, int] = {}

    def poller() -> None:
        tid = threading.get_native_id()
        lower_thread(3)
        seen["poller"] = os.getpriority(os.PRIO_PROCESS, tid)

    thread = threading.Thread(target=poller)
    thread.start()
    thread.join(timeout=10)

    assert seen["poller"] == min(19, process_nice + 3)
    # the API's threads (here: this one) keep their priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == process_nice


def test_no_lowering_asked_leaves_the_thread_as_it_was() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    lower_thread(0)
    lower_process(0)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_lower_process_lowers_the_process_and_the_threads_it_starts() -> None:
    # In a child: a process cannot take a lowered priority back without privileges.
    script = (
        "import os, threading\n"
        "from harvest.local.priority import lower_process\n"
        "lower_process(4)\n"
        "seen = []\n"
        "t = threading.Thread(target=lambda: seen.append("
        "os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))\n"
        "t.start(); t.join()\n"
        "print(os.getpriority(os.PRIO_PROCESS, 0), seen[0])\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert [int(value) for value in out] == [min(19, base + 4)] * 2
