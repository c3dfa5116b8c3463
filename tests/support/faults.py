"""Fault injection for tests on the local runtime, and the checks every fault test ends with.

AWS faults go through botocore's own event system: a `before-send.<service>.<Operation>`
handler sees each fully built request (every attempt, so botocore's retries included) and
may answer it with an `AWSResponse` instead of sending it, or raise a transport error. The
handlers are registered on a fresh default boto3 session, so every client the application
creates afterwards (the API's, each consumer's: they are created lazily, after the runtime
starts) carries them, with no change to application code.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from harvest.cli.main import main
from harvest.local.mappings import mappings_from_template
from harvest.local.offline import RUNTIME_FILE
from harvest.local.rules import topology_from_template
from harvest.tools.template import load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

__all__ = [
    "CONSUMERS",
    "SendFaults",
    "answer",
    "audit",
    "checkpoints",
    "dlq_entries",
    "drained",
    "runtime_stream",
    "transact_target",
    "wait_until_drained",
]

# The functions with a stream mapping in template.yaml.
CONSUMERS = tuple(m.function_logical_id for m in mappings_from_template(load_template(), "t"))
# The queues SQS event sources read (the AI worker's): drained when empty, in flight included.
_TOPOLOGY = topology_from_template(load_template(), "t")
SOURCE_QUEUES = tuple(_TOPOLOGY.queues[m.queue].name for m in _TOPOLOGY.mappings)

# What a before-send handler does with one attempt: None lets it through.
type Respond = Callable[[AWSPreparedRequest], AWSResponse | None]


class _Body:
    """The `raw` of an AWSResponse: botocore only ever calls stream() on it."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.payload


def answer(
    request: AWSPreparedRequest, status: int, error_code: str, *, json_version: str = "1.0"
) -> AWSResponse:
    """An AWS JSON error response, as DynamoDB (JSON 1.0) or Bedrock (REST JSON) sends it."""
    payload = json.dumps({"__type": error_code, "message": f"injected {error_code}"}).encode()
    headers = HTTPHeaders()
    headers["Content-Type"] = f"application/x-amz-json-{json_version}"
    headers["x-amzn-ErrorType"] = error_code
    headers["x-amzn-RequestId"] = "injected-fault"
    return AWSResponse(request.url or "", status, headers, _Body(payload))


@dataclass
class SendFaults:
    """Before-send handlers on a fresh default boto3 session."""

    session: boto3.Session = field(default_factory=boto3.Session)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def install(cls, monkeypatch: pytest.MonkeyPatch) -> SendFaults:
        """Make a fresh session boto3's default until the test ends (monkeypatch restores the
        previous one, without these handlers)."""
        faults = cls()
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", faults.session)
        return faults

    def on(self, service_id: str, operation: str, respond: Respond) -> None:
        """Every attempt of `operation` goes through `respond` (under a lock: the API and the
        pollers call from several threads)."""
        name = f"{service_id}.{operation}"

        def handler(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
            with self.lock:
                return respond(request)

        # botocore-stubs type handlers as returning None; before-send may return a response.
        self.session.events.register(
            f"before-send.{name}", cast("Callable[..., None]", handler), unique_id=name
        )


def transact_target(request: AWSPreparedRequest) -> str:
    """The PK of the first item of a TransactWriteItems request (what the call is about)."""
    raw = request.body
    body = json.loads(raw if isinstance(raw, str | bytes) else b"{}")
    first = body["TransactItems"][0]
    operation = next(iter(first.values()))
    key = operation.get("Item") or operation.get("Key") or {}
    return str(key["PK"]["S"])


def audit(data_dir: Path) -> tuple[int, str]:
    """`harvest audit --data-dir` in this process: (exit code, what it printed)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", "--data-dir", str(data_dir)])
    return code, out.getvalue() + err.getvalue()


def dlq_entries(data_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """The failure records in each consumer's local on-failure destination (non-empty only)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((data_dir / "dlq").glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        if lines:
            found[path.stem] = lines
    return found


# The test's own reads: patient, since the runtime under test may be busy.
_READER_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 5}, read_timeout=30)


@dataclass(frozen=True)
class _Stream:
    client: DynamoDBStreamsClient
    arn: str


def _stream(data_dir: Path) -> _Stream:
    """The stream of the table of a running runtime (in this process or not)."""
    document = json.loads((data_dir / RUNTIME_FILE).read_text(encoding="utf-8"))
    region, endpoint = str(document["region"]), str(document["endpointUrl"])
    tables = boto3.client(
        "dynamodb", region_name=region, endpoint_url=endpoint, config=_READER_CONFIG
    )
    table = tables.describe_table(TableName=str(document["tableName"]))["Table"]
    streams = boto3.client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=endpoint,
        config=_READER_CONFIG.merge(Config(account_id_endpoint_mode="disabled")),
    )
    return _Stream(streams, table["LatestStreamArn"])


def _records_after(stream: _Stream, shard_id: str, after: str | None, limit: int) -> list[Any]:
    """Up to `limit` records of a shard after a sequence number (None: from the start)."""
    if after is None:
        position = stream.client.get_shard_iterator(
            StreamArn=stream.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )
    else:
        position = stream.client.get_shard_iterator(
            StreamArn=stream.arn,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=after,
        )
    iterator: str | None = position["ShardIterator"]
    records: list[Any] = []
    while iterator and len(records) < limit:
        page = stream.client.get_records(ShardIterator=iterator, Limit=min(limit, 1000))
        records.extend(page["Records"])
        if not page["Records"]:
            break  # an open shard always has a next iterator: stop at its end
        iterator = page.get("NextShardIterator")
    return records[:limit]


def _shards(stream: _Stream) -> list[str]:
    description = stream.client.describe_stream(StreamArn=stream.arn)["StreamDescription"]
    return [shard["ShardId"] for shard in description["Shards"]]


def runtime_stream(data_dir: Path) -> dict[str, list[Mapping[str, Any]]]:
    """Every record of a running runtime's table stream, per shard, oldest first."""
    stream = _stream(data_dir)
    return {shard: _records_after(stream, shard, None, 1_000_000) for shard in _shards(stream)}


def checkpoints(data_dir: Path) -> dict[str, dict[str, str]]:
    """Per consumer, the last sequence number per shard its poller saved."""
    saved: dict[str, dict[str, str]] = {}
    for path in sorted((data_dir / "checkpoints").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        merged: dict[str, str] = {}
        for positions in document.values():  # one entry per stream (a new table, a new one)
            merged.update(positions)
        saved[path.stem] = merged
    return saved


def drained(data_dir: Path, consumers: Collection[str]) -> bool:
    """Every consumer's poller has processed (and saved) every record of the stream.

    The checkpoints are read before the stream: a consumer saves its position only after its
    invocation returned, so whatever that invocation wrote is on the stream read afterwards;
    when no record follows the slowest consumer's position in any shard, nothing is in flight
    and nothing more will come until the next API write."""
    saved = checkpoints(data_dir)
    stream = _stream(data_dir)
    for shard in _shards(stream):
        positions = [saved.get(consumer, {}).get(shard) for consumer in consumers]
        known = [position for position in positions if position is not None]
        # Sequence numbers are decimal strings, compared as numbers and passed on verbatim.
        slowest = min(known, key=int) if len(known) == len(positions) else None
        if _records_after(stream, shard, slowest, 1):
            return False
    # What the stream readers put on the bus is in the queues by now (PutEvents returns once
    # the rules delivered): drained when no message is waiting or being handled.
    return all(depth == 0 for depth in queue_depths(data_dir).values())


def queue_depths(data_dir: Path) -> dict[str, int]:
    """Messages visible or in flight per queue an SQS event source reads."""
    document = json.loads((data_dir / RUNTIME_FILE).read_text(encoding="utf-8"))
    endpoint = document.get("queuesEndpointUrl")
    if not endpoint:
        return {}
    sqs = boto3.client(
        "sqs",
        region_name=str(document["region"]),
        endpoint_url=str(endpoint),
        config=_READER_CONFIG,
    )
    depths: dict[str, int] = {}
    for name in SOURCE_QUEUES:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        found = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[name] = int(found["ApproximateNumberOfMessages"]) + int(
            found["ApproximateNumberOfMessagesNotVisible"]
        )
    return depths


def wait_until_drained(
    data_dir: Path,
    consumers: Collection[str] = CONSUMERS,
    stall_s: float = 90.0,
    limit_s: float = 900.0,
) -> None:
    """Waits until the pipeline is quiet: every consumer caught up with every write.

    It waits on progress, not on the clock: a loaded machine makes the consumers slow, not
    stuck, so it fails only when nothing has moved for `stall_s` seconds (a real stall):
    no stream consumer's checkpoint and no queue's depth (the SQS consumers work behind the
    stream readers, and a backlog there is progress too, one message at a time), or, as a
    last guard against a pipeline that never quiets down, after `limit_s` in all."""
    started = last_move = time.monotonic()
    seen = _progress_or_none(data_dir)
    while not _drained_or_busy(data_dir, consumers):
        now = time.monotonic()
        current = _progress_or_none(data_dir)
        if current is not None and current != seen:
            seen, last_move = current, now
        if now - last_move > stall_s:
            raise AssertionError(f"consumers stalled: nothing moved for {stall_s}s: {seen}")
        if now - started > limit_s:
            raise AssertionError(f"consumers still behind the stream after {limit_s}s: {seen}")
        time.sleep(0.25)


type _Progress = tuple[dict[str, dict[str, str]], dict[str, int]]


def _progress_or_none(data_dir: Path) -> _Progress | None:
    """The stream checkpoints and the queues' depths, or None when caught mid-write/busy."""
    try:
        return checkpoints(data_dir), queue_depths(data_dir)
    except (ValueError, BotoCoreError, ClientError):  # read again on the next turn
        return None


def _drained_or_busy(data_dir: Path, consumers: Collection[str]) -> bool:
    try:
        return drained(data_dir, consumers)
    except (BotoCoreError, ClientError):  # an endpoint too busy to answer: ask again
        return False
