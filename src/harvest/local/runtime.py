"""The local runtime: one process that runs the whole system with production wiring.

DynamoDB engine -> table from template.yaml -> stream pollers emulating each event source
mapping of template.yaml -> local event bus -> EventBridge rules -> SQS queues -> SQS event
source pollers (local.eventing, on moto) -> the REST API through an API Gateway emulator.
Application code is unchanged: boto3 honours AWS_ENDPOINT_URL, so it talks to the engine.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harvest.local.adapter import (
    ApiGatewayEmulator,
    gateway_response_headers,
    preflight_is_public,
    public_routes,
)
from harvest.local.bus import EventSink, make_bus_server
from harvest.local.engines import DynamoDbLocalEngine, Engine, ExternalEngine, MotoEngine
from harvest.local.eventing import RuleBus
from harvest.local.offline import RUNTIME_FILE, SNAPSHOT_FILE
from harvest.local.snapshot import export_table, import_table
from harvest.local.tokens import TokenIssuer, signing_key
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table, load_template

log = logging.getLogger("harvest.local")


@dataclass
class RuntimeOptions:
    port: int = 3000
    host: str = "127.0.0.1"
    engine: str = "moto"
    endpoint_url: str | None = None
    data_dir: Path | None = field(default_factory=lambda: Path(".harvest"))
    table_name: str = "harvest-local"
    region: str = "us-east-1"
    with_pollers: bool = True
    # Tests run the runtime on a variant of template.yaml (e.g. with a test consumer).
    template: dict[str, Any] | None = None


def make_engine(options: RuntimeOptions) -> Engine:
    if options.endpoint_url:
        return ExternalEngine(options.endpoint_url)
    if options.engine == "dynamodb-local":
        storage = options.data_dir / "dynamodb-local" if options.data_dir else None
        return DynamoDbLocalEngine(data_dir=storage)
    if options.engine == "moto":
        return MotoEngine()
    raise ValueError(f"unknown engine '{options.engine}' (moto, dynamodb-local)")


class LocalRuntime:
    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.engine = make_engine(options)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.api_server: ThreadingHTTPServer | None = None
        self.bus_server: ThreadingHTTPServer | None = None
        self.rule_bus: RuleBus | None = None
        self.pollers: list[Any] = []
        self.poller_names: list[str] = []
        self.api_url = ""
        self.started_at = 0.0
        self.template = options.template or load_template()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.started_at = time.monotonic()
        data_dir = self.options.data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.engine.start()
        # Rules and queues of template.yaml on moto's EventBridge and SQS (issue 9).
        self.rule_bus = RuleBus.start(self.template, self.options.table_name, self.options.region)
        forward = self.rule_bus.forward
        self.bus_server = make_bus_server(EventSink(self._path("events.jsonl"), forward))
        bus_url = f"http://127.0.0.1:{self.bus_server.server_address[1]}"
        self._serve_in_thread(self.bus_server, "event-bus")
        self._configure_environment(bus_url)
        client = make_client(self.options.region, self.engine.endpoint_url)
        created = self._ensure_table(client)
        if created and isinstance(self.engine, MotoEngine) and data_dir is not None:
            restored = import_table(client, self.options.table_name, data_dir / SNAPSHOT_FILE)
            if restored:
                log.info("restored %d items from %s", restored, data_dir / SNAPSHOT_FILE)
        if self.options.with_pollers:
            self._start_pollers()
            self.threads += self.rule_bus.start_pollers(self.stop_event)
            self.poller_names += [m.function.logical_id for m in self.rule_bus.topology.mappings]
        self._start_api()
        self._write_runtime_file()

    def stop(self) -> None:
        """Stop taking requests, let in-flight requests and batches finish, then persist."""
        log.info("stopping: draining requests and stream batches")
        if self.api_server is not None:
            self.api_server.shutdown()
            self.api_server.server_close()  # joins request threads (block_on_close)
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if self.bus_server is not None:
            self.bus_server.shutdown()
            self.bus_server.server_close()
        if self.rule_bus is not None:
            self.rule_bus.stop()
        if isinstance(self.engine, MotoEngine) and self.options.data_dir is not None:
            client = make_client(self.options.region, self.engine.endpoint_url)
            count = export_table(
                client, self.options.table_name, self.options.data_dir / SNAPSHOT_FILE
            )
            log.info("saved %d items to %s", count, self.options.data_dir / SNAPSHOT_FILE)
        self.engine.stop()
        self._write_runtime_file(state="stopped")
        log.info("stopped")

    # ------------------------------------------------------------------ pieces
    def data_path(self) -> Path:
        base = self.options.data_dir or Path(".harvest")
        base.mkdir(parents=True, exist_ok=True)
        return base

    def _path(self, name: str) -> Path:
        return self.data_path() / name

    def _configure_environment(self, bus_url: str) -> None:
        os.environ["AWS_ENDPOINT_URL"] = self.engine.endpoint_url
        # botocore names service-specific endpoint variables after the service id
        # ("EventBridge"), not the client name: AWS_ENDPOINT_URL_EVENTS would be ignored and
        # the events client would fall through to AWS_ENDPOINT_URL (the DynamoDB engine).
        os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"] = bus_url
        os.environ["AWS_REGION"] = self.options.region
        os.environ["AWS_DEFAULT_REGION"] = self.options.region
        os.environ["TABLE_NAME"] = self.options.table_name
        if not isinstance(self.engine, ExternalEngine):
            # Local engines accept any credentials; never send a developer's real ones.
            os.environ["AWS_ACCESS_KEY_ID"] = "local"
            os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105  # nosec B105
            os.environ.pop("AWS_SESSION_TOKEN", None)
            os.environ.pop("AWS_PROFILE", None)
        os.environ.setdefault("CURSOR_KEY", self._cursor_key())
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")

    def _cursor_key(self) -> str:
        path = self._path("cursor-key")
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    def _ensure_table(self, client: Any) -> bool:
        try:
            client.describe_table(TableName=self.options.table_name)
            return False
        except client.exceptions.ResourceNotFoundException:
            create_table(client, self.options.table_name, self.template)
            log.info("created table %s from template.yaml", self.options.table_name)
            return True

    def _start_pollers(self) -> None:
        from harvest.local.pollers import start_pollers  # noqa: PLC0415 - optional piece

        self.pollers = start_pollers(self)

    def _start_api(self) -> None:
        from harvest.api.app import handler  # noqa: PLC0415 - after the environment is set

        issuer = TokenIssuer(signing_key())
        emulator = ApiGatewayEmulator(
            handler,
            issuer,
            public_routes(self.template),
            open_preflight=preflight_is_public(self.template),
            refusal_headers=gateway_response_headers(self.template),
        )
        self.api_server = emulator.make_server(self.options.host, self.options.port)
        self.api_server.daemon_threads = False
        self.api_server.block_on_close = True
        port = self.api_server.server_address[1]
        self.api_url = f"http://{self.options.host}:{port}"
        self._serve_in_thread(self.api_server, "api", track=False)

    def _serve_in_thread(self, server: ThreadingHTTPServer, name: str, track: bool = False) -> None:
        thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
        thread.start()
        if track:
            self.threads.append(thread)

    def _write_runtime_file(self, state: str = "running") -> None:
        info = {
            "state": state,
            "apiUrl": self.api_url,
            "endpointUrl": self.engine.endpoint_url,
            "engine": self.engine.name,
            "tableName": self.options.table_name,
            "region": self.options.region,
            "pid": os.getpid(),
            # moto's EventBridge and SQS: the rules' queues and their DLQs (local.eventing)
            "queuesEndpointUrl": self.rule_bus.endpoint_url if self.rule_bus else None,
        }
        self._path(RUNTIME_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
