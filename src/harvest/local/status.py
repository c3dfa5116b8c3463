"""What a local runtime is doing: its state, and per emulated function its lag behind the
table stream (records after its checkpoint, the age of the oldest of them, as Lambda's
IteratorAge), its dead-letter depth and its last failure; per SQS queue, its depth. Read from
the data dir and, when the runtime is running, from its engine's stream and its queues;
nothing is written."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from harvest.local.lifecycle import LIVE_STATES, pid_alive, read_state
from harvest.local.mappings import MappingConfig, checkpoint_key, mappings_from_template
from harvest.local.offline import local_credentials
from harvest.local.queue_store import QUEUES_FILE, QueueDepth, queue_depths
from harvest.local.records import make_streams_client
from harvest.local.rules import topology_from_template
from harvest.store.dynamo import make_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

# Counting stops here: "10000+ behind" says enough, and a status must answer quickly.
COUNT_LIMIT = 10_000


@dataclass
class FunctionStatus:
    function: str
    records_behind: int | None = None  # None: the stream could not be read (engine stopped)
    behind_capped: bool = False
    iterator_age_s: float | None = None
    dlq_depth: int = 0
    last_failure: str | None = None


@dataclass
class RuntimeStatus:
    data_dir: str
    state: str
    running: bool
    engine: str
    api_url: str
    endpoint_url: str
    pid: int | None
    previous_stop: str
    functions: list[FunctionStatus] = field(default_factory=list)
    problem: str | None = None  # why the lag could not be measured
    # Per SQS queue of the template (DLQs too): messages waiting and in flight; when the
    # runtime is stopped, the messages its clean stop saved (queues.jsonl) as `visible`.
    queues: list[QueueDepth] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _dlq(data_dir: Path, function: str) -> tuple[int, str | None]:
    path = data_dir / "dlq" / f"{function}.jsonl"
    if not path.exists():
        return 0, None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return 0, None
    last = json.loads(lines[-1])
    context = last.get("requestContext", {})
    info = last.get("DDBStreamBatchInfo", {})
    failure = (
        f"{last.get('timestamp', '?')} {context.get('condition', '?')}: "
        f"{info.get('batchSize', '?')} records to dlq/{function}.jsonl"
    )
    return len(lines), failure


def _saved_positions(data_dir: Path, mapping: MappingConfig, stream_arn: str) -> dict[str, str]:
    path = data_dir / "checkpoints" / f"{mapping.function_logical_id}.json"
    if not path.exists():
        return {}
    document: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return dict(document.get(checkpoint_key(stream_arn, mapping), {}))


def _behind(
    client: DynamoDBStreamsClient, arn: str, shard: str, after: str | None
) -> tuple[int, float | None]:
    """Records of a shard after a position (None: from its start), and the oldest's time."""
    if after is None:
        position = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )
    else:
        position = client.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=after,
        )
    iterator: str | None = position.get("ShardIterator")
    count, oldest = 0, None
    while iterator and count < COUNT_LIMIT:
        page = client.get_records(ShardIterator=iterator, Limit=1000)
        records = page["Records"]
        if not records:
            break  # an open shard always has a next iterator: stop at its end
        if oldest is None:
            created = records[0].get("dynamodb", {}).get("ApproximateCreationDateTime")
            oldest = created.timestamp() if created is not None else None
        count += len(records)
        iterator = page.get("NextShardIterator")
    return count, oldest


def measure_lag(
    document: dict[str, Any], data_dir: Path, mappings: list[MappingConfig]
) -> dict[str, tuple[int, float | None]]:
    region, endpoint = str(document.get("region") or "us-east-1"), str(document["endpointUrl"])
    table = make_client(region, endpoint).describe_table(TableName=str(document["tableName"]))
    arn = table["Table"].get("LatestStreamArn")
    if arn is None:
        return {}
    client = make_streams_client(region, endpoint)
    description = client.describe_stream(StreamArn=arn)["StreamDescription"]
    shards = [shard["ShardId"] for shard in description["Shards"]]
    lag: dict[str, tuple[int, float | None]] = {}
    for mapping in mappings:
        saved = _saved_positions(data_dir, mapping, arn)
        count, oldest = 0, None
        for shard in shards:
            if shard not in saved and mapping.starting_position == "LATEST":
                continue  # it reads from the tip: nothing before its start is owed
            behind, first = _behind(client, arn, shard, saved.get(shard))
            count += behind
            if first is not None:
                oldest = first if oldest is None else min(oldest, first)
        lag[mapping.function_logical_id] = (count, oldest)
    return lag


def runtime_status(data_dir: Path, template: dict[str, Any]) -> RuntimeStatus:
    document = read_state(data_dir) or {}
    state = str(document.get("state", "absent"))
    pid = document.get("pid")
    running = state in LIVE_STATES and pid_alive(pid)
    if state in LIVE_STATES and not running:
        state = f"dead (last said {state}: an unclean stop, reported at the next start)"
    status = RuntimeStatus(
        data_dir=str(data_dir),
        state=state,
        running=running,
        engine=str(document.get("engine", "-")),
        api_url=str(document.get("apiUrl", "-")),
        endpoint_url=str(document.get("endpointUrl", "-")),
        pid=pid if isinstance(pid, int) else None,
        previous_stop=str(document.get("previousStop", "-")),
    )
    mappings = mappings_from_template(template, str(document.get("tableName", "t")))
    lag: dict[str, tuple[int, float | None]] = {}
    if running:
        if status.engine != "external":
            local_credentials()  # local engines take any; boto3 insists on some
        try:
            lag = measure_lag(document, data_dir, mappings)
        except Exception as error:  # a busy or dying engine: say so, show the rest
            status.problem = f"could not read the stream: {type(error).__name__}: {error}"
    else:
        status.problem = "not running: lag is measured on a running runtime's stream"
    status.queues = _queues(document, data_dir, template, running)
    now = time.time()
    for mapping in mappings:
        name = mapping.function_logical_id
        depth, failure = _dlq(data_dir, name)
        entry = FunctionStatus(name, dlq_depth=depth, last_failure=failure)
        if name in lag:
            count, oldest = lag[name]
            entry.records_behind, entry.behind_capped = count, count >= COUNT_LIMIT
            entry.iterator_age_s = round(max(0.0, now - oldest), 1) if oldest else 0.0
        status.functions.append(entry)
    return status


def _queues(
    document: dict[str, Any], data_dir: Path, template: dict[str, Any], running: bool
) -> list[QueueDepth]:
    topology = topology_from_template(template, str(document.get("tableName", "t")))
    endpoint = document.get("queuesEndpointUrl")
    if running and endpoint:
        sqs = boto3.client(
            "sqs",
            region_name=str(document.get("region") or "us-east-1"),
            endpoint_url=str(endpoint),
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto takes any  # nosec B106
        )
        try:
            return queue_depths(sqs, topology)
        except Exception:  # a busy or dying runtime: the functions' figures still count
            return []
    saved: dict[str, int] = {}
    path = data_dir / QUEUES_FILE
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                queue = str(json.loads(line)["queue"])
                saved[queue] = saved.get(queue, 0) + 1
    dead_letters = {q.dead_letter_queue for q in topology.queues.values() if q.dead_letter_queue}
    return [
        QueueDepth(lid, spec.name, saved.get(lid, 0), 0, lid in dead_letters)
        for lid, spec in sorted(topology.queues.items())
    ]


def render(status: RuntimeStatus) -> list[str]:
    """The status as console lines (the CLI's and the banner's)."""
    head = f"runtime    {status.state}"
    if status.running:
        head += f" (pid {status.pid}, {status.engine} at {status.endpoint_url})"
    lines = [head, f"  API      {status.api_url}", f"  previous stop: {status.previous_stop}"]
    if status.problem:
        lines.append(f"  ({status.problem})")
    lines.append(f"  {'function':<22}{'behind':>8}{'age':>9}{'dlq':>6}  last failure")
    for entry in status.functions:
        behind = "-" if entry.records_behind is None else str(entry.records_behind)
        behind += "+" if entry.behind_capped else ""
        age = "-" if entry.iterator_age_s is None else f"{entry.iterator_age_s:.1f}s"
        failure = entry.last_failure or "-"
        lines.append(f"  {entry.function:<22}{behind:>8}{age:>9}{entry.dlq_depth:>6}  {failure}")
    if status.queues:
        waiting = "waiting" if status.running else "saved"
        lines.append(f"  {'queue':<22}{waiting:>8}{'flight':>9}")
        for queue in status.queues:
            kind = "  (DLQ)" if queue.dead_letter else ""
            lines.append(f"  {queue.queue:<22}{queue.visible:>8}{queue.in_flight:>9}{kind}")
    return lines
