"""runtime.json tells the next start how the previous run ended; the engine is chosen for
durability."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harvest.local.engines import choose_engine, durability
from harvest.local.lifecycle import (
    RUNTIME_FILE,
    SNAPSHOT_FILE,
    DataDirInUse,
    previous_run,
    read_state,
    write_state,
)


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def _state(data: Path, **fields: Any) -> None:
    data.mkdir(parents=True, exist_ok=True)
    document = {"engine": "dynamodb-local", "tableName": "t", "startedAt": "2026-12-03T10:00:00Z"}
    (data / RUNTIME_FILE).write_text(json.dumps({**document, **fields}), encoding="utf-8")


def test_a_first_start_has_no_previous_run(tmp_path: Path) -> None:
    assert previous_run(tmp_path) is None


def test_a_clean_stop_is_not_reported(tmp_path: Path) -> None:
    _state(tmp_path, state="stopped", pid=_dead_pid())
    assert previous_run(tmp_path) is None


@pytest.mark.parametrize("state", ["running", "stopping", "stop-failed"])
def test_a_run_that_died_without_saying_stopped_is_reported(tmp_path: Path, state: str) -> None:
    # Given runtime.json of a run whose process is gone without a clean stop
    pid = _dead_pid()
    _state(tmp_path, state=state, pid=pid)
    # When the next start looks
    unclean = previous_run(tmp_path)
    # Then it is reported, naming the run and what the durable engine kept
    assert unclean is not None
    report = unclean.report("dynamodb-local", tmp_path)
    assert str(pid) in report
    assert "checkpoints" in report


def test_a_moto_restart_after_a_crash_says_which_snapshot_it_restores(tmp_path: Path) -> None:
    # Given a moto run killed after an older clean stop had saved a snapshot
    _state(tmp_path, state="running", pid=_dead_pid(), engine="moto")
    (tmp_path / SNAPSHOT_FILE).write_text("", encoding="utf-8")
    os.utime(tmp_path / SNAPSHOT_FILE, (1_700_000_000, 1_700_000_000))
    unclean = previous_run(tmp_path)
    assert unclean is not None
    # Then the report says what is lost and which snapshot comes back, with its time
    report = unclean.report("moto", tmp_path)
    assert "is lost" in report
    assert "2023-11-14 22:13:20 UTC" in report


def test_a_moto_restart_without_a_snapshot_says_it_starts_empty(tmp_path: Path) -> None:
    _state(tmp_path, state="running", pid=_dead_pid(), engine="moto")
    unclean = previous_run(tmp_path)
    assert unclean is not None
    assert "starting empty" in unclean.report("moto", tmp_path)


def test_a_data_dir_served_by_a_live_runtime_refuses_a_second_one(tmp_path: Path) -> None:
    # Given runtime.json naming a live process other than this one (our parent)
    _state(tmp_path, state="running", pid=os.getppid())
    # When another start looks, Then it refuses rather than share the engine's files
    with pytest.raises(DataDirInUse, match=str(os.getppid())):
        previous_run(tmp_path)


def test_runtime_json_is_replaced_whole(tmp_path: Path) -> None:
    write_state(tmp_path, {"state": "running", "pid": 1})
    write_state(tmp_path, {"state": "stopped", "pid": 1})
    assert read_state(tmp_path) == {"state": "stopped", "pid": 1}
    assert [path.name for path in tmp_path.iterdir()] == [RUNTIME_FILE]


def test_unreadable_runtime_json_counts_as_a_first_start(tmp_path: Path) -> None:
    (tmp_path / RUNTIME_FILE).write_text("{half", encoding="utf-8")
    assert previous_run(tmp_path) is None


def test_auto_engine_is_dynamodb_local_where_java_is_and_moto_without(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    assert choose_engine("auto") == "dynamodb-local"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert choose_engine("auto") == "moto"
    assert choose_engine("dynamodb-local") == "dynamodb-local"


def test_the_banner_says_moto_loses_writes_on_a_crash() -> None:
    assert durability("dynamodb-local", persistent=True).startswith("durable")
    assert durability("moto", persistent=False).startswith("NOT durable")
    assert "Java 17" in durability("moto", persistent=False)
