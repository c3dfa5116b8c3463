"""Starts one stream poller per event source mapping declared in template.yaml."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from harvest.local.deadletter import JsonLinesDeadLetterSink
from harvest.local.esm import StreamPoller
from harvest.local.mappings import mappings_from_template
from harvest.local.records import JsonCheckpointStore, make_streams_client
from harvest.store.dynamo import make_client

if TYPE_CHECKING:
    from harvest.local.runtime import LocalRuntime

log = logging.getLogger("harvest.local")


def start_pollers(runtime: LocalRuntime) -> list[StreamPoller]:
    options = runtime.options
    endpoint = runtime.engine.endpoint_url
    table = make_client(options.region, endpoint).describe_table(TableName=options.table_name)
    stream_arn = table["Table"].get("LatestStreamArn")
    mappings = mappings_from_template(runtime.template, options.table_name)
    if not mappings:
        return []
    if stream_arn is None:
        raise RuntimeError(f"table {options.table_name} has no stream; pollers cannot start")
    data_dir = runtime.data_path()
    pollers: list[StreamPoller] = []
    for mapping in mappings:
        poller = StreamPoller(
            mapping,
            make_streams_client(options.region, endpoint),
            stream_arn,
            dlq=JsonLinesDeadLetterSink(data_dir / "dlq" / f"{mapping.function_logical_id}.jsonl"),
            checkpoint_store=JsonCheckpointStore(
                data_dir / "checkpoints" / f"{mapping.function_logical_id}.json"
            ),
            # Lambda polls each shard about four times a second; a little faster keeps the
            # local write-to-consumer latency low at a negligible CPU cost.
            idle_sleep_s=0.1,
        )
        thread = threading.Thread(
            target=poller.run,
            args=(runtime.stop_event,),
            name=f"poller-{mapping.function_logical_id}",
            daemon=True,
        )
        thread.start()
        runtime.threads.append(thread)
        runtime.poller_names.append(mapping.function_logical_id)
        pollers.append(poller)
        log.info("poller %s on %s (%s)", mapping.function_logical_id, stream_arn, mapping.handler)
    return pollers
