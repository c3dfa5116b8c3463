"""moto's restart without re-publishing: the snapshot's items are not new changes.

moto keeps no stream across a restart: restoring `table.jsonl` writes every item again, into
a new table with a new stream, and without care the pollers would take each restored item
for a new INSERT (issue 12: a clean restart re-published 17 restored items as new domain
events). So a clean moto stop first lets the pollers drain the stream (bounded: they are
idempotent, what is left is delivered again), records in runtime.json whether they did, and
after restoring such a snapshot the pollers start at the tip of the new stream: the derived
items in the snapshot already hold the effect of every restored core item. After an unclean
stop or an undrained one, the restored records flow as usual (at least once, idempotent).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from harvest.local.mappings import checkpoint_key, mappings_from_template
from harvest.local.records import JsonCheckpointStore, make_streams_client
from harvest.local.status import measure_lag

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("harvest.local")


class RestoreTarget(Protocol):
    """The runtime options a restore reads (local.runtime.RuntimeOptions)."""

    @property
    def table_name(self) -> str: ...
    @property
    def region(self) -> str: ...


DRAIN_STALL_S = 5.0


def wait_until_drained(
    document: dict[str, Any], data_dir: Path, template: dict[str, Any], stall_s: float
) -> bool:
    """True once every mapping's checkpoint is at the end of the stream; False as soon as
    the lag has not moved for stall_s (a poller stuck on a failing batch will not drain)."""
    mappings = mappings_from_template(template, str(document["tableName"]))
    seen: object = None
    last_move = time.monotonic()
    while time.monotonic() - last_move < stall_s:
        try:
            lag = measure_lag(document, data_dir, mappings)
        except Exception as error:  # an engine too busy to answer: ask again
            log.debug("drain check failed: %r", error)
        else:
            if all(count == 0 for count, _ in lag.values()):
                return True
            if lag != seen:
                seen, last_move = lag, time.monotonic()
        time.sleep(0.2)
    return False


def _tip(client: DynamoDBStreamsClient, arn: str, shard: str) -> str | None:
    iterator: str | None = client.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    ).get("ShardIterator")
    last = None
    while iterator:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
        iterator = page.get("NextShardIterator")
    return last


def start_at_tip(
    region: str, endpoint: str, stream_arn: str, data_dir: Path, template: dict[str, Any]
) -> int:
    """Save every mapping's checkpoint at the current end of each shard; the record count
    skipped is returned for the log."""
    client = make_streams_client(region, endpoint)
    description = client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    tips = {s["ShardId"]: _tip(client, stream_arn, s["ShardId"]) for s in description["Shards"]}
    positions = {shard: tip for shard, tip in tips.items() if tip is not None}
    for mapping in mappings_from_template(template, "t"):
        store = JsonCheckpointStore(
            data_dir / "checkpoints" / f"{mapping.function_logical_id}.json"
        )
        store.save(checkpoint_key(stream_arn, mapping), positions)
    return len(positions)


def skip_restored_records(
    previous: dict[str, Any],
    client: Any,
    options: RestoreTarget,
    endpoint: str,
    data_dir: Path,
    template: dict[str, Any],
) -> None:
    """After restoring a snapshot of a clean, drained stop: the pollers start at the tip of
    the new stream (the restored derived items already hold every restored item's effect).
    After any other stop the restored records flow as usual (at least once, idempotent)."""
    if not (previous.get("state") == "stopped" and previous.get("pipelineDrained")):
        log.info("pollers: the restored items will be delivered (the last stop left work)")
        return
    table = client.describe_table(TableName=options.table_name)["Table"]
    stream_arn = table.get("LatestStreamArn")
    if stream_arn is not None:
        start_at_tip(options.region, endpoint, stream_arn, data_dir, template)
        log.info("pollers: start after the restored items (already processed before)")
