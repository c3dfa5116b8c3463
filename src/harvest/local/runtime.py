"""The local runtime: one process that runs the whole system with production wiring.

DynamoDB engine -> table from template.yaml -> stream pollers emulating each event source
mapping of template.yaml -> local event bus -> EventBridge rules -> SQS queues -> SQS event
source pollers (local.eventing, on moto; schedule rules ticked by local.schedules) -> the
REST API through an API Gateway emulator.
Application code is unchanged: boto3 honours AWS_ENDPOINT_URL, so it talks to the engine.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from harvest.local.adapter import (
    ApiGatewayEmulator,
    gateway_response_headers,
    preflight_is_public,
    public_routes,
)
from harvest.local.api_process import ApiProcess, ApiProcessSpec, start_api_processes
from harvest.local.bus import EventSink, make_bus_server
from harvest.local.engines import (
    DynamoDbLocalEngine,
    Engine,
    ExternalEngine,
    MotoEngine,
    choose_engine,
)
from harvest.local.eventing import RuleBus
from harvest.local.invocation import Invoke
from harvest.local.lifecycle import (
    NOISE_KEY_FILE,
    SNAPSHOT_FILE,
    UncleanStop,
    now_iso,
    previous_run,
    read_state,
    write_state,
)
from harvest.local.mappings import FunctionSettings
from harvest.local.options import RuntimeOptions
from harvest.local.queue_store import keep_at_stop, requeue_at_start
from harvest.local.snapshot import export_table, import_table
from harvest.local.tokens import TokenIssuer, signing_key
from harvest.local.workers import FunctionWorker, WorkerSpec
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table, load_template

log = logging.getLogger("harvest.local")
_SAVE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 10}, connect_timeout=10, read_timeout=120
)


def make_engine(options: RuntimeOptions) -> Engine:
    if options.endpoint_url:
        return ExternalEngine(options.endpoint_url)
    engine = choose_engine(options.engine)
    if engine == "dynamodb-local":
        storage = options.data_dir / "dynamodb-local" if options.data_dir else None
        if options.engine_jvm_options is None:
            return DynamoDbLocalEngine(data_dir=storage)
        return DynamoDbLocalEngine(data_dir=storage, jvm_options=options.engine_jvm_options)
    if engine == "moto":
        return MotoEngine()
    raise ValueError(f"unknown engine '{options.engine}' (auto, moto, dynamodb-local)")


class LocalRuntime:
    def __init__(self, options: RuntimeOptions) -> None:
        self.options = options
        self.engine = make_engine(options)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.api_server: ThreadingHTTPServer | None = None
        self.api_child: ApiProcess | None = None  # the first of api_children
        self.api_children: list[ApiProcess] = []
        self.bus_server: ThreadingHTTPServer | None = None
        self.rule_bus: RuleBus | None = None
        self.pollers: list[Any] = []
        self.websocket: Any = None  # local.websocket.WebSocketGateway
        self.poller_names: list[str] = []
        self.workers: list[FunctionWorker] = []
        self.api_url = ""
        self.started_at = 0.0
        self.started_iso = now_iso()
        self.unclean_stop: UncleanStop | None = None
        self.unclean_report = ""
        self.announced = False
        self.pipeline_drained = False
        self.previous: dict[str, Any] = {}
        self.template = options.template or load_template()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.started_at = time.monotonic()
        data_dir = self.options.data_dir
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
            self.previous = read_state(data_dir) or {}
            # Before anything starts: a live runtime on this dir refuses the start, a dead
            # one that never said "stopped" is reported (never silently papered over).
            self.unclean_stop = previous_run(data_dir)
            if self.unclean_stop is not None:
                self.unclean_report = self.unclean_stop.report(self.engine.name, data_dir)
                log.warning("unclean stop detected: %s", self.unclean_report)
        self.engine.start()
        # Rules and queues of template.yaml on moto's EventBridge and SQS (issue 9).
        self.rule_bus = RuleBus.start(self.template, self.options.table_name, self.options.region)
        if data_dir is not None:  # what the queues held at the last clean stop
            requeue_at_start(self.rule_bus, data_dir)
        forward = self.rule_bus.forward
        self.bus_server = make_bus_server(EventSink(self._path("events.jsonl"), forward))
        bus_url = f"http://127.0.0.1:{self.bus_server.server_address[1]}"
        self._serve_in_thread(self.bus_server, "event-bus")
        self._configure_environment(bus_url)
        self._start_websocket()
        client = make_client(self.options.region, self.engine.endpoint_url)
        created = self._ensure_table(client)
        if created and isinstance(self.engine, MotoEngine) and data_dir is not None:
            restored = import_table(client, self.options.table_name, data_dir / SNAPSHOT_FILE)
            if restored:
                log.info("restored %d items from %s", restored, data_dir / SNAPSHOT_FILE)
                if self.options.with_pollers:
                    from harvest.local.restore import skip_restored_records  # noqa: PLC0415

                    skip_restored_records(
                        self.previous, client, self.options, self.engine.endpoint_url,
                        self.data_path(), self.template,
                    )  # fmt: skip
        if self.options.with_pollers:
            self._start_pollers()
            self.threads += self.rule_bus.start_pollers(
                self.stop_event, self._queue_invoker, nice=self.options.consumer_nice
            )
            self.threads += self.rule_bus.start_schedules(self.stop_event)
            self.poller_names += [m.function.logical_id for m in self.rule_bus.topology.mappings]
        self._start_api()
        self._write_runtime_file()

    def stop(self) -> None:
        """Stop taking requests, let in-flight requests and batches finish, then persist.
        runtime.json says `stopped` only once all of that is done; a failed save leaves
        `stop-failed`, which the next start reports."""
        log.info("stopping: draining requests and stream batches")
        if self.api_url:
            self._write_runtime_file(state="stopping")
        try:
            self._drain_and_save()
        except BaseException:
            self._write_runtime_file(state="stop-failed")
            raise
        finally:
            self.engine.stop()
            log.info("engine: %s stopped", self.engine.name)
        self._write_runtime_file(state="stopped")
        log.info("stopped")

    def _drain_and_save(self) -> None:
        self._stop_api()
        if isinstance(self.engine, MotoEngine) and self.pollers and self.options.data_dir:
            self._let_pollers_drain()
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if self.poller_names:
            log.info("pollers: %d stopped at their checkpoints", len(self.poller_names))
        for worker in self.workers:
            worker.close()
        if self.workers:
            log.info("functions: %d worker processes stopped", len(self.workers))
        if self.websocket is not None:
            self.websocket.stop()
            log.info("websocket: stopped")
        if self.bus_server is not None:
            self.bus_server.shutdown()
            self.bus_server.server_close()
            log.info("event bus: stopped")
        if self.rule_bus is not None:
            keep_at_stop(self.rule_bus, self.options.data_dir)  # nothing reaches them now
            self.rule_bus.stop()
        if (
            isinstance(self.engine, MotoEngine)
            and self.engine.endpoint_url
            and self.options.data_dir
        ):
            # Patient: a busy machine must slow the save down, not make it give up.
            client = boto3.client(
                "dynamodb",
                region_name=self.options.region,
                endpoint_url=self.engine.endpoint_url,
                config=_SAVE_CONFIG,
            )
            count = export_table(
                client, self.options.table_name, self.options.data_dir / SNAPSHOT_FILE
            )
            log.info("saved %d items to %s", count, self.options.data_dir / SNAPSHOT_FILE)

    # ------------------------------------------------------------------ moto restarts
    def _stop_api(self) -> None:
        if self.api_server is not None:
            self.api_server.shutdown()
            self.api_server.server_close()  # joins request threads (block_on_close)
            log.info("api: stopped (requests in flight were answered)")
        if self.api_children:
            for child in self.api_children:  # all stop taking requests at once
                child.request_stop()
            for child in self.api_children:
                child.stop()
            log.info("api: %d processes stopped (requests in flight were answered)",
                     len(self.api_children))  # fmt: skip

    def _let_pollers_drain(self) -> None:
        """moto's snapshot is all that survives: save it with the pipeline caught up, so the
        restored derived items hold every restored core item's effect (see restore.py)."""
        from harvest.local.restore import DRAIN_STALL_S, wait_until_drained  # noqa: PLC0415

        document = {
            "endpointUrl": self.engine.endpoint_url,
            "tableName": self.options.table_name,
            "region": self.options.region,
        }
        self.pipeline_drained = wait_until_drained(
            document, self.data_path(), self.template, DRAIN_STALL_S
        )
        log.info("pollers: %s", "drained" if self.pipeline_drained else "still behind (kept)")

    # ------------------------------------------------------------------ for the pollers
    @property
    def region(self) -> str:
        return self.options.region

    @property
    def endpoint_url(self) -> str:
        return self.engine.endpoint_url

    @property
    def table_name(self) -> str:
        return self.options.table_name

    @property
    def consumer_nice(self) -> int:
        return self.options.consumer_nice

    @property
    def max_stream_idle_s(self) -> float:
        return self.options.max_stream_idle_s

    def function_invoker(
        self, function_name: str, handler: str, environment: dict[str, str]
    ) -> Invoke | None:
        """A warm worker process for one mapping's function (local.workers), started now so
        its init phase is over before the first batch; None runs it in this process."""
        if not self.options.function_processes:
            return None
        level = logging.getLogger().getEffectiveLevel()
        spec = WorkerSpec(function_name, handler, environment, level, self.options.consumer_nice)
        worker = FunctionWorker(spec)
        worker.start()
        self.workers.append(worker)
        return worker

    def _queue_invoker(self, function: FunctionSettings) -> Invoke | None:
        return self.function_invoker(function.function_name, function.handler, function.environment)

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
        os.environ.setdefault("CURSOR_KEY", self._secret("cursor-key"))
        os.environ.setdefault("SIGNAL_NOISE_KEY", self._secret(NOISE_KEY_FILE))
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "1")

    def _secret(self, name: str) -> str:
        path = self._path(name)
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

    def _start_websocket(self) -> None:
        from harvest.local.websocket import start_gateway  # noqa: PLC0415 - optional piece

        def start(port: int) -> Any:
            return start_gateway(self.template, self.options.table_name, self.options.host, port)

        if self.options.websocket_port is not None:  # asked for: taken is an error
            self.websocket = start(self.options.websocket_port)
            return
        wanted = self.options.port + 1 if self.options.port else 0
        try:  # the API port + 1 by default, else any free one (the banner prints it)
            self.websocket = start(wanted)
        except OSError as error:
            log.warning("websocket: port %d unavailable (%s), using a free one", wanted, error)
            self.websocket = start(0)

    def _start_pollers(self) -> None:
        from harvest.local.pollers import start_pollers  # noqa: PLC0415 - optional piece

        self.pollers = start_pollers(self)

    def _start_api(self) -> None:
        if self.options.api_process:
            spec = ApiProcessSpec(
                host=self.options.host,
                port=self.options.port,
                public=sorted(public_routes(self.template)),
                open_preflight=preflight_is_public(self.template),
                refusal_headers=gateway_response_headers(self.template),
                log_level=logging.getLogger().getEffectiveLevel(),
            )
            self.api_children = start_api_processes(spec, self.options.api_processes)
            self.api_child = self.api_children[0]
            self.api_url = f"http://{self.options.host}:{self.api_child.port}"
            return
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
        if state == "running":
            self.announced = True
        elif not self.announced:  # a start that failed early: the file is not ours to touch
            return
        info = {
            "state": state,
            "startedAt": self.started_iso,
            "updatedAt": now_iso(),
            "apiUrl": self.api_url,
            "endpointUrl": self.engine.endpoint_url,
            "engine": self.engine.name,
            "tableName": self.options.table_name,
            "region": self.options.region,
            "pid": os.getpid(),
            "previousStop": "unclean" if self.unclean_stop else "clean",
            "pipelineDrained": self.pipeline_drained,
            # moto's EventBridge and SQS: the rules' queues and their DLQs (local.eventing)
            "queuesEndpointUrl": self.rule_bus.endpoint_url if self.rule_bus else None,
            "websocketUrl": self.websocket.url if self.websocket else None,
        }
        write_state(self.data_path(), info)
