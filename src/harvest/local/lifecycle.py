"""What runtime.json says about a data dir's runtime, and what the previous run left behind.

`runtime.json` is written atomically at every state change: `running` once started,
`stopping` while it drains and saves, `stopped` after a clean stop, `stop-failed` when the
save did not complete. A start that finds `running` or `stopping` with no live process
behind it knows the last run ended uncleanly (SIGKILL, power loss, a crash) and says so,
with what that engine keeps and loses, instead of quietly carrying on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RUNTIME_FILE = "runtime.json"
SNAPSHOT_FILE = "table.jsonl"
# The signal noise key of a runtime's data (domain.noise): its functions and whatever audits
# or rebuilds that data offline must draw the same noise.
NOISE_KEY_FILE = "signal-noise-key"
LIVE_STATES = frozenset({"running", "stopping"})


class DataDirInUse(RuntimeError):
    """Another live runtime serves this data dir."""


@dataclass(frozen=True)
class UncleanStop:
    """The previous run on this data dir did not stop cleanly."""

    pid: int | None
    state: str
    engine: str
    started_at: str | None

    def report(self, engine: str, data_dir: Path) -> str:
        """One paragraph for the log and the banner: what happened and what it means here."""
        when = f" started {self.started_at}" if self.started_at else ""
        head = (
            f"the previous run (pid {self.pid}, {self.engine}{when}) did not stop cleanly "
            f"(runtime.json still said '{self.state}')"
        )
        if self.state == "stop-failed":
            head = f"the previous run (pid {self.pid}, {self.engine}) failed to save its data"
        if engine == "moto":
            snapshot = data_dir / SNAPSHOT_FILE
            if snapshot.exists():
                saved = datetime.fromtimestamp(snapshot.stat().st_mtime, UTC)
                return (
                    f"{head}: moto keeps data in memory, so every write after the last clean "
                    f"stop ({saved:%Y-%m-%d %H:%M:%S} UTC, {snapshot}) is lost; restoring "
                    "that snapshot"
                )
            return f"{head}: moto keeps data in memory and there is no snapshot: starting empty"
        return (
            f"{head}: {engine}'s files keep every write it committed; the stream pollers "
            "resume from their checkpoints (records after them are delivered again)"
        )


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def read_state(data_dir: Path) -> dict[str, Any] | None:
    """runtime.json as a dict; None when absent or unreadable (a first start)."""
    path = data_dir / RUNTIME_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def previous_run(data_dir: Path) -> UncleanStop | None:
    """The previous run's unclean end, if it had one; DataDirInUse if it is still alive."""
    document = read_state(data_dir)
    if document is None:
        return None
    state, pid = str(document.get("state", "")), document.get("pid")
    if state in LIVE_STATES and pid_alive(pid) and pid != os.getpid():
        raise DataDirInUse(
            f"{data_dir} is served by a running runtime (pid {pid}): stop it first, or use "
            "another --data-dir"
        )
    if state in LIVE_STATES or state == "stop-failed":
        return UncleanStop(
            pid=pid if isinstance(pid, int) else None,
            state=state,
            engine=str(document.get("engine", "?")),
            started_at=document.get("startedAt"),
        )
    return None


def write_state(data_dir: Path, document: dict[str, Any]) -> None:
    """Write-then-rename: a crash mid-write leaves the previous document, never half a one."""
    path = data_dir / RUNTIME_FILE
    partial = path.with_suffix(".json.tmp")
    partial.write_text(json.dumps(document, indent=2), encoding="utf-8")
    partial.replace(path)
