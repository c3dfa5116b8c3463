"""DynamoDB endpoints the local runtime can run on: DynamoDB Local (the jar shipped in the npm
package amplify-dynamodb-simulator, Java 17; the default where Java is present: it keeps every
acknowledged write in SQLite files), moto's server in-process (the fallback, memory only), or
any external endpoint (LocalStack, real AWS)."""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess  # nosec B404
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.error import URLError
from urllib.request import Request, urlopen

log = logging.getLogger("harvest.local.engine")
SIMULATOR_PACKAGE = "amplify-dynamodb-simulator"
ENGINES = ("auto", "dynamodb-local", "moto")
_PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when its parent thread dies
# DynamoDB Local shares the laptop's cores with the API and the consumers, and a local runtime
# lives minutes to hours: the C1 compiler alone (no C2 compile threads warming up for minutes)
# and the serial collector (no concurrent GC threads) cut its CPU per request by about a
# third (8.8 -> 5.9 ms per put+get, 3.5 -> 1.6 ms per empty GetRecords on 2 cores; issue 12),
# CPU the API's reads were waiting for.
LEAN_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


def choose_engine(requested: str) -> str:
    """'auto' is DynamoDB Local (durable) where Java is on PATH, moto (memory only) without."""
    if requested != "auto":
        return requested
    return "dynamodb-local" if shutil.which("java") else "moto"


def durability(engine: str, persistent: bool) -> str:
    """One line for the start-up banner: what a crash does to this engine's data."""
    if engine == "dynamodb-local" and persistent:
        return "durable: every acknowledged write is in SQLite files, also after a crash"
    if engine == "dynamodb-local":
        return "NOT durable: in memory (no data dir), lost at every stop"
    if engine == "moto":
        return (
            "NOT durable: moto keeps data in memory and saves it on a clean stop only; a crash "
            "(SIGKILL, power loss) loses every write since the last clean stop. Install Java "
            "17 to get DynamoDB Local (durable) by default"
        )
    return "as durable as the endpoint"


def _stop_with_parent(parent: int) -> None:
    """Runs in the child between fork and exec: SIGTERM when the process that started it
    dies, whatever the way (SIGKILL included), so no engine outlives its runtime."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urlopen(url, timeout=1):  # noqa: S310  # nosec B310
                return
        except URLError as error:
            if getattr(error, "code", None) is not None:  # an HTTP error means it is up
                return
            time.sleep(0.1)
        except (ConnectionError, OSError):
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not start within {timeout_s:.0f}s")


class Engine(Protocol):
    name: str
    endpoint_url: str
    persistent: bool

    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass
class MotoEngine:
    """moto's server in a thread of this process: DynamoDB, Streams and EventBridge."""

    port: int = 0
    name: str = "moto"
    persistent: bool = False
    endpoint_url: str = ""
    _server: object | None = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy, local-only

        from harvest.local import moto_patches  # noqa: PLC0415 - imports moto

        moto_patches.apply()

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per call otherwise
        self.port = self.port or free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self._server = server
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        wait_until_listening(self.endpoint_url + "/moto-api/")
        # moto's backends are process globals: an engine started earlier in this process
        # (tests, `harvest query` on a stopped data dir) would otherwise leave its tables.
        reset = Request(self.endpoint_url + "/moto-api/reset", method="POST")  # noqa: S310
        with urlopen(reset, timeout=10):  # noqa: S310  # nosec B310
            pass

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


def cache_dir() -> Path:
    """Same rule as scripts/bootstrap.sh: HARVEST_CACHE_DIR, else the XDG cache dir."""
    explicit = os.environ.get("HARVEST_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "harvest-exchange"


def dynamodb_local_jar(cache: Path | None = None) -> Path:
    """The DynamoDB Local jar, fetched once with `npm pack` from the npm registry."""
    root = (cache or cache_dir()) / "dynamodb-local"
    jar = next(iter(sorted(root.glob("package/**/DynamoDBLocal.jar"))), None)
    if jar is not None:
        return jar
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is needed once to fetch DynamoDB Local (amplify-dynamodb-simulator)"
        )
    root.mkdir(parents=True, exist_ok=True)
    log.info("fetching DynamoDB Local (npm pack %s) into %s", SIMULATOR_PACKAGE, root)
    packed = (
        subprocess.run(  # noqa: S603  # nosec B603
            [npm, "pack", SIMULATOR_PACKAGE, "--silent", "--pack-destination", str(root)],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    with tarfile.open(root / packed) as archive:
        archive.extractall(root, filter="data")
    jar = next(iter(sorted(root.glob("package/**/DynamoDBLocal.jar"))), None)
    if jar is None:
        raise RuntimeError(f"{SIMULATOR_PACKAGE} did not contain DynamoDBLocal.jar")
    return jar


@dataclass
class DynamoDbLocalEngine:
    """DynamoDB Local on Java 17: real TTL deletions with service userIdentity, real
    ConsumedCapacity, and file storage under the data dir when one is given."""

    data_dir: Path | None = None
    port: int = 0
    jvm_options: tuple[str, ...] = LEAN_JVM_OPTIONS
    name: str = "dynamodb-local"
    endpoint_url: str = ""
    persistent: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        java = shutil.which("java")
        if java is None:
            raise RuntimeError("DynamoDB Local needs Java 17 on PATH")
        jar = dynamodb_local_jar()
        self.port = self.port or free_port()
        storage = ["-inMemory"]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # Absolute: the JVM runs in the jar's directory, where a relative path (serve's
            # default `.harvest`) names nothing and DynamoDB Local exits at once.
            storage = ["-dbPath", str(self.data_dir.resolve()), "-sharedDb"]
            self.persistent = True
        command = [
            java,
            *self.jvm_options,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            "-jar",
            str(jar),
            "-port",
            str(self.port),
            *storage,
        ]
        parent = os.getpid()
        self._process = subprocess.Popen(  # noqa: S603  # nosec B603
            command,
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C in the terminal reaches the runtime only, which then
            # drains against a live engine before stopping it (not one dying under it).
            start_new_session=True,
            preexec_fn=lambda: _stop_with_parent(parent),  # noqa: PLW1509
        )
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        wait_until_listening(self.endpoint_url, timeout_s=60)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None


@dataclass
class ExternalEngine:
    """An endpoint someone else runs (LocalStack, a shared DynamoDB Local, real AWS)."""

    endpoint_url: str
    name: str = "external"
    persistent: bool = True

    def start(self) -> None:
        """Nothing to start: the endpoint is already there."""

    def stop(self) -> None:
        """Nothing to stop: the endpoint is not ours."""
