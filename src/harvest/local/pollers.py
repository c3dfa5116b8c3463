"""Starts one stream poller per event source mapping declared in template.yaml."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Protocol

from harvest.local.deadletter import JsonLinesDeadLetterSink
from harvest.local.esm import StreamPoller
from harvest.local.invocation import Invoke
from harvest.local.mappings import mappings_from_template
from harvest.local.records import JsonCheckpointStore, make_streams_client
from harvest.store.dynamo import make_client

__all__ = ["PollerHost", "start_pollers"]

log = logging.getLogger("harvest.local")


class PollerHost(Protocol):
    """What the pollers need of the runtime that hosts them (local.runtime.LocalRuntime);
    a Protocol, so this module does not import the runtime back."""

    @property
    def region(self) -> str: ...
    @property
    def endpoint_url(self) -> str: ...
    @property
    def table_name(self) -> str: ...
    @property
    def consumer_nice(self) -> int: ...
    @property
    def max_stream_idle_s(self) -> float: ...
    @property
    def template(self) -> dict[str, Any]: ...
    @property
    def stop_event(self) -> threading.Event: ...
    @property
    def threads(self) -> list[threading.Thread]: ...
    @property
    def poller_names(self) -> list[str]: ...
    def data_path(self) -> Path: ...
    def function_invoker(
        self, function_name: str, handler: str, environment: dict[str, str]
    ) -> Invoke | None:
        """The function's worker process, or None to call it in this process."""
        ...


def start_pollers(host: PollerHost) -> list[StreamPoller]:
    endpoint = host.endpoint_url
    table = make_client(host.region, endpoint).describe_table(TableName=host.table_name)
    stream_arn = table["Table"].get("LatestStreamArn")
    mappings = mappings_from_template(host.template, host.table_name)
    if not mappings:
        return []
    if stream_arn is None:
        raise RuntimeError(f"table {host.table_name} has no stream; pollers cannot start")
    data_dir = host.data_path()
    pollers: list[StreamPoller] = []
    for mapping in mappings:
        invoke = host.function_invoker(mapping.function_name, mapping.handler, mapping.environment)
        poller = StreamPoller(
            mapping,
            make_streams_client(host.region, endpoint),
            stream_arn,
            invoke,
            dlq=JsonLinesDeadLetterSink(data_dir / "dlq" / f"{mapping.function_logical_id}.jsonl"),
            checkpoint_store=JsonCheckpointStore(
                data_dir / "checkpoints" / f"{mapping.function_logical_id}.json"
            ),
            # Lambda polls each shard about four times a second; a little faster while records
            # flow keeps the local write-to-consumer latency low. A quiet stream backs off to
            # twice a second: an empty GetRecords costs DynamoDB Local ~3.5 ms of CPU, which
            # the API's reads need more (issue 12).
            idle_sleep_s=0.1,
            max_idle_sleep_s=host.max_stream_idle_s,
            isolated=invoke is not None,
            nice=host.consumer_nice,
        )
        thread = threading.Thread(
            target=poller.run,
            args=(host.stop_event,),
            name=f"poller-{mapping.function_logical_id}",
            daemon=True,
        )
        thread.start()
        host.threads.append(thread)
        host.poller_names.append(mapping.function_logical_id)
        pollers.append(poller)
        log.info("poller %s on %s (%s)", mapping.function_logical_id, stream_arn, mapping.handler)
    return pollers
