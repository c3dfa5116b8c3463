"""The local event source mapping behaves as Lambda's DynamoDB-stream mapping does.

Each test pins one documented behaviour (Lambda developer guide: with-ddb,
services-ddb-batchfailurereporting, services-dynamodb-errors, services-ddb-params) against an
in-memory stream, with a fake clock and no sleeping.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamLambdaOnFailureDestinationModel,
    DynamoDBStreamModel,
)

from harvest.local.deadletter import MemoryDeadLetterSink
from harvest.local.esm import LambdaContextLike, StreamPoller
from harvest.local.filters import InvalidFilterPattern, compile_pattern
from harvest.local.mappings import MappingConfig, mappings_from_template
from harvest.local.records import JsonCheckpointStore
from harvest.settings import current_settings
from harvest.tools.template import load_template
from support.stream_fakes import (
    STREAM_ARN,
    T0,
    FakeClock,
    FakeStreams,
    RecordingHandler,
    drain,
    mapping,
    poller,
)


def _stream(*pks: str, shard_id: str = "shardId-1") -> tuple[FakeStreams, list[str]]:
    streams = FakeStreams()
    streams.add_shard(shard_id)
    return streams, [streams.put(pk) for pk in pks]


def _failures(*sequences: str) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in sequences]}


def _fail_when(pk: str) -> RecordingHandler:
    def behaviour(records: list[dict[str, Any]]) -> None:
        if any(record["dynamodb"]["Keys"]["PK"]["S"] == pk for record in records):
            raise RuntimeError(f"poison {pk}")

    return RecordingHandler(behaviour)


# ---------------------------------------------------------------- batching and filtering


def test_batches_hold_at_most_batch_size_records_in_stream_order() -> None:
    streams, _ = _stream("L#1", "L#2", "L#3", "L#4", "L#5")
    handler = RecordingHandler()

    drain(poller(streams, mapping(handler="m.f", batch_size=2), handler))

    assert handler.pks() == [["L#1", "L#2"], ["L#3", "L#4"], ["L#5"]]


def test_batching_window_gathers_records_until_it_elapses() -> None:
    streams, _ = _stream("L#1", "L#2")
    clock, handler = FakeClock(), RecordingHandler()
    config = mapping(batch_size=10, maximum_batching_window_s=5)
    target = poller(streams, config, handler, clock=clock)

    target.poll_once()
    streams.put("L#3")
    clock.advance(2)
    target.poll_once()
    assert handler.batches == []

    clock.advance(3)
    target.poll_once()
    assert handler.pks() == [["L#1", "L#2", "L#3"]]


def test_a_full_batch_does_not_wait_for_the_batching_window() -> None:
    streams, _ = _stream("L#1", "L#2", "L#3")
    handler = RecordingHandler()
    config = mapping(batch_size=2, maximum_batching_window_s=300)

    poller(streams, config, handler).poll_once()

    assert handler.pks() == [["L#1", "L#2"]]


def test_records_the_filters_drop_never_reach_the_function_but_are_checkpointed() -> None:
    streams = FakeStreams()
    streams.add_shard("shardId-1")
    streams.put("LISTING#1", event_name="INSERT")
    streams.put("AGG#1", event_name="INSERT")
    streams.put("LISTING#2", event_name="MODIFY")
    last = streams.put("AGG#2", event_name="MODIFY")
    pattern = compile_pattern('{"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "LISTING#"}]}}}}')
    handler = RecordingHandler()
    target = poller(streams, mapping(patterns=(pattern,)), handler)

    stats = target.poll_once()

    assert handler.pks() == [["LISTING#1", "LISTING#2"]]
    assert (stats.records_read, stats.matched, stats.invoked_batches) == (4, 2, 1)
    assert target.checkpoints == {"shardId-1": last}


def test_a_read_with_only_filtered_records_advances_the_checkpoint_without_invoking() -> None:
    streams, sequences = _stream("AGG#1", "AGG#2")
    pattern = compile_pattern('{"eventName": ["REMOVE"]}')
    handler = RecordingHandler()
    target = poller(streams, mapping(patterns=(pattern,)), handler)

    target.poll_once()

    assert handler.batches == []
    assert target.checkpoints == {"shardId-1": sequences[-1]}


# ---------------------------------------------------------------- partial batch responses


def test_partial_failure_resumes_from_the_lowest_reported_sequence_number() -> None:
    streams, seq = _stream("L#1", "L#2", "L#3", "L#4")
    responses = iter([_failures(seq[2], seq[1]), None])
    handler = RecordingHandler(lambda _records: next(responses))
    target = poller(streams, mapping(report_batch_item_failures=True), handler)

    target.poll_once()

    assert handler.pks() == [["L#1", "L#2", "L#3", "L#4"], ["L#2", "L#3", "L#4"]]
    assert target.checkpoints == {"shardId-1": seq[3]}


def test_records_before_a_partial_failure_are_checkpointed_before_the_retry() -> None:
    streams, seq = _stream("L#1", "L#2", "L#3")
    checkpoints_seen: list[dict[str, str]] = []
    targets: list[StreamPoller] = []

    def behaviour(_records: list[dict[str, Any]]) -> dict[str, Any]:
        checkpoints_seen.append(dict(targets[0].checkpoints))
        return _failures(seq[1])

    config = mapping(report_batch_item_failures=True, maximum_retry_attempts=1)
    targets.append(poller(streams, config, RecordingHandler(behaviour)))

    targets[0].poll_once()

    assert checkpoints_seen == [{}, {"shardId-1": seq[0]}]
    assert targets[0].checkpoints == {"shardId-1": seq[2]}  # the rest went to the destination


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifer": "misspelt key"}]},
        {"batchItemFailures": [{"itemIdentifier": "999"}]},
        {"batchItemFailures": "not a list"},
        "a string",
    ],
    ids=["empty-id", "null-id", "bad-key", "unknown-id", "not-a-list", "not-an-object"],
)
def test_a_malformed_partial_response_fails_the_whole_batch(response: object) -> None:
    streams, _ = _stream("L#1", "L#2")
    responses = iter([response, None])
    handler = RecordingHandler(lambda _records: next(responses))

    stats = poller(streams, mapping(report_batch_item_failures=True), handler).poll_once()

    assert handler.pks() == [["L#1", "L#2"], ["L#1", "L#2"]]
    assert stats.failures == 1


@pytest.mark.parametrize(
    "response",
    [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
    ids=["null", "empty-object", "empty-list", "null-list"],
)
def test_responses_lambda_counts_as_complete_success(response: object) -> None:
    streams, _ = _stream("L#1", "L#2")
    handler = RecordingHandler(lambda _records: response)

    stats = poller(streams, mapping(report_batch_item_failures=True), handler).poll_once()

    assert (stats.invoked_batches, stats.failures) == (1, 0)


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    streams, seq = _stream("L#1", "L#2")
    handler = RecordingHandler(lambda _records: _failures(seq[0]))

    stats = poller(streams, mapping(report_batch_item_failures=False), handler).poll_once()

    assert (stats.invoked_batches, stats.failures) == (1, 0)


# ---------------------------------------------------------------- retries, bisection, age


def test_a_failing_batch_is_retried_then_dead_lettered_and_the_next_batch_runs() -> None:
    streams, seq = _stream("L#bad", "L#2", "L#3")
    handler, dlq = _fail_when("L#bad"), MemoryDeadLetterSink()
    config = mapping(batch_size=2, maximum_retry_attempts=2)
    target = poller(streams, config, handler, dlq=dlq)

    first = target.poll_once()
    target.poll_once()

    assert handler.pks() == [["L#bad", "L#2"]] * 3 + [["L#3"]]
    assert (first.invoked_batches, first.failures, first.dead_lettered) == (3, 3, 2)
    [failure] = dlq.records
    parsed = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(failure)
    assert parsed.request_context.condition == "RetryAttemptsExhausted"
    assert parsed.request_context.approximate_invoke_count == 3
    assert parsed.request_context.function_arn == (
        "arn:aws:lambda:us-east-1:123456789012:function:TestConsumer"
    )
    assert parsed.response_context.function_error == "Unhandled"
    assert failure["DDBStreamBatchInfo"] == {
        "shardId": "shardId-1",
        "startSequenceNumber": seq[0],
        "endSequenceNumber": seq[1],
        "approximateArrivalOfFirstRecord": "2026-01-01T00:00:00Z",
        "approximateArrivalOfLastRecord": "2026-01-01T00:00:00Z",
        "batchSize": 2,
        "streamArn": STREAM_ARN,
    }
    assert failure["version"] == "1.0"
    assert target.checkpoints == {"shardId-1": seq[2]}


def test_exhausted_partial_failures_dead_letter_only_the_failing_suffix() -> None:
    streams, seq = _stream("L#1", "L#2", "L#3")
    handler, dlq = RecordingHandler(lambda _records: _failures(seq[1])), MemoryDeadLetterSink()
    config = mapping(report_batch_item_failures=True, maximum_retry_attempts=2)

    poller(streams, config, handler, dlq=dlq).poll_once()

    assert handler.pks() == [["L#1", "L#2", "L#3"], ["L#2", "L#3"], ["L#2", "L#3"]]
    [failure] = dlq.records
    assert failure["requestContext"]["approximateInvokeCount"] == 3
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == seq[1]
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 2
    assert "functionError" not in failure["responseContext"]  # the function did not raise


def test_bisection_isolates_a_poison_record_without_consuming_retries() -> None:
    # Lambda delivers at least once: records sharing a failed batch with the poison record are
    # sent again, but each good record is in exactly one successful invocation.
    streams, seq = _stream("L#1", "L#2", "L#bad", "L#4")
    handler, dlq = _fail_when("L#bad"), MemoryDeadLetterSink()
    config = mapping(bisect_on_error=True, maximum_retry_attempts=1)

    drain(poller(streams, config, handler, dlq=dlq))

    assert handler.pks() == [
        ["L#1", "L#2", "L#bad", "L#4"],
        ["L#1", "L#2"],
        ["L#bad", "L#4"],
        ["L#bad"],
        ["L#bad"],
        ["L#4"],
    ]
    [failure] = dlq.records
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        seq[2],
        seq[2],
        1,
    )
    assert failure["requestContext"]["approximateInvokeCount"] == 4


def test_bisection_with_partial_responses_splits_at_the_reported_record() -> None:
    streams, seq = _stream("L#1", "L#2", "L#3", "L#4")
    responses = iter([_failures(seq[2]), None])
    handler = RecordingHandler(lambda _records: next(responses))
    config = mapping(report_batch_item_failures=True, bisect_on_error=True)

    poller(streams, config, handler).poll_once()

    assert handler.pks() == [["L#1", "L#2", "L#3", "L#4"], ["L#3", "L#4"]]


def test_records_older_than_the_maximum_age_go_to_the_destination_uninvoked() -> None:
    streams = FakeStreams()
    streams.add_shard("shardId-1")
    old = [streams.put("L#old1", created=T0), streams.put("L#old2", created=T0 + 30)]
    streams.put("L#fresh", created=T0 + 90)
    handler, dlq = RecordingHandler(), MemoryDeadLetterSink()
    config = mapping(maximum_record_age_s=60)

    poller(streams, config, handler, dlq=dlq, clock=FakeClock(T0 + 100)).poll_once()

    assert handler.pks() == [["L#fresh"]]
    [failure] = dlq.records
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == 0
    assert "functionError" not in failure["responseContext"]
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (old[0], old[1])
    assert info["approximateArrivalOfLastRecord"] == "2026-01-01T00:00:30Z"


def test_a_batch_that_ages_out_while_being_retried_stops_being_retried() -> None:
    streams, _ = _stream("L#bad")
    clock, handler, dlq = FakeClock(T0), _fail_when("L#bad"), MemoryDeadLetterSink()
    config = mapping(maximum_record_age_s=60)  # retries unbounded

    poller(streams, config, handler, dlq=dlq, clock=clock, sleep=clock.advance).poll_once()

    [failure] = dlq.records
    assert failure["requestContext"]["condition"] == "RecordAgeExceeded"
    assert failure["requestContext"]["approximateInvokeCount"] == len(handler.batches) > 1


def test_without_a_destination_given_up_records_are_discarded_and_processing_continues() -> None:
    streams, _ = _stream("L#bad", "L#2")
    handler, dlq = _fail_when("L#bad"), MemoryDeadLetterSink()
    config = mapping(batch_size=1, maximum_retry_attempts=0, on_failure_destination=None)

    drain(poller(streams, config, handler, dlq=dlq))

    assert handler.pks() == [["L#bad"], ["L#2"]]
    assert dlq.records == []


def test_a_handler_running_past_its_timeout_fails_the_batch() -> None:
    streams, _ = _stream("L#1")
    clock = FakeClock()

    def slow(_event: dict[str, Any], _context: LambdaContextLike) -> None:
        threading.Event().wait(0.02)

    config = mapping(timeout_s=0.001, maximum_retry_attempts=0)
    stats = poller(streams, config, slow, clock=clock).poll_once()

    assert (stats.failures, stats.dead_lettered) == (1, 1)


# ---------------------------------------------------------------- shards


def test_a_parent_shard_is_processed_before_its_child_whatever_the_listing_order() -> None:
    streams = FakeStreams(page_size=1)  # also exercises DescribeStream pagination
    streams.add_shard("shardId-child", parent_id="shardId-parent")
    streams.add_shard("shardId-parent")
    streams.put("L#p1", shard_id="shardId-parent")
    streams.put("L#p2", shard_id="shardId-parent")
    streams.put("L#c1", shard_id="shardId-child")
    streams.close_shard("shardId-parent")
    handler = RecordingHandler()

    drain(poller(streams, mapping(), handler))

    assert handler.pks() == [["L#p1", "L#p2"], ["L#c1"]]
    assert len(streams.calls_to("DescribeStream")) >= 2


def test_a_closed_shard_is_followed_to_the_child_that_appears_after_it() -> None:
    streams = FakeStreams()
    streams.add_shard("shardId-a")
    streams.put("L#a1", shard_id="shardId-a")
    handler = RecordingHandler()
    target = poller(streams, mapping(starting_position="LATEST"), handler)
    target.poll_once()  # LATEST: the history in shard a is skipped

    streams.put("L#a2", shard_id="shardId-a")
    streams.close_shard("shardId-a")
    streams.add_shard("shardId-b", parent_id="shardId-a")
    streams.put("L#b1", shard_id="shardId-b")
    drain(target)

    assert handler.pks() == [["L#a2"], ["L#b1"]]
    iterator_types = [call["ShardIteratorType"] for call in streams.calls_to("GetShardIterator")]
    assert iterator_types == ["LATEST", "TRIM_HORIZON"]


def test_a_restarted_poller_resumes_after_the_last_processed_sequence_number(tmp_path: Any) -> None:
    streams, seq = _stream("L#1", "L#2")
    store = JsonCheckpointStore(tmp_path / "checkpoints.json")
    first = RecordingHandler()
    drain(poller(streams, mapping(), first, checkpoint_store=store))

    streams.put("L#3")
    second = RecordingHandler()
    drain(poller(streams, mapping(), second, checkpoint_store=store))

    assert first.pks() == [["L#1", "L#2"]]
    assert second.pks() == [["L#3"]]
    resume = streams.calls_to("GetShardIterator")[-1]
    assert resume["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert resume["SequenceNumber"] == seq[1]


# ---------------------------------------------------------------- what the function receives


def test_records_arrive_in_lambdas_event_shape() -> None:
    streams = FakeStreams()
    streams.add_shard("shardId-1")
    sequence = streams.put("L#1", event_name="MODIFY")
    handler = RecordingHandler()

    poller(streams, mapping(), handler).poll_once()

    [[record]] = handler.batches
    DynamoDBStreamModel.model_validate({"Records": [record]})
    assert record == {
        "eventID": f"event-{sequence}",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": T0,
            "Keys": {"PK": {"S": "L#1"}, "SK": {"S": "A"}},
            "NewImage": {"PK": {"S": "L#1"}, "SK": {"S": "A"}, "v": {"N": "1"}},
            "OldImage": {"PK": {"S": "L#1"}, "SK": {"S": "A"}, "v": {"N": "0"}},
            "SequenceNumber": sequence,
            "SizeBytes": 64,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }


def test_a_ttl_deletion_carries_user_identity_with_lower_case_keys() -> None:
    streams = FakeStreams()
    streams.add_shard("shardId-1")
    streams.put("AI#1", event_name="REMOVE", ttl_deletion=True)
    handler = RecordingHandler()

    poller(streams, mapping(), handler).poll_once()

    [[record]] = handler.batches
    assert record["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert "NewImage" not in record["dynamodb"]
    DynamoDBStreamModel.model_validate({"Records": [record]})


def test_the_function_runs_with_its_environment_and_a_lambda_context(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HARVEST_ESM_PROBE", raising=False)
    monkeypatch.setenv("TABLE_NAME", "outside")
    streams, _ = _stream("L#1")
    seen: dict[str, Any] = {}

    def handler(_event: dict[str, Any], context: LambdaContextLike) -> None:
        seen["env"] = (os.environ.get("TABLE_NAME"), os.environ.get("HARVEST_ESM_PROBE"))
        seen["context"] = context

    config = mapping(
        environment={"TABLE_NAME": "harvest-local", "HARVEST_ESM_PROBE": "on"},
        function_name="harvest-dev-aggregator",
        memory_mb=256,
        timeout_s=10,
    )
    poller(streams, config, handler, clock=FakeClock()).poll_once()

    assert seen["env"] == ("harvest-local", "on")
    assert (os.environ.get("TABLE_NAME"), os.environ.get("HARVEST_ESM_PROBE")) == ("outside", None)
    context = seen["context"]
    assert context.function_name == "harvest-dev-aggregator"
    assert context.memory_limit_in_mb == 256
    assert context.invoked_function_arn.endswith(":function:harvest-dev-aggregator")
    assert context.aws_request_id
    assert context.get_remaining_time_in_millis() == 10_000


def test_each_function_reads_its_own_settings_though_they_share_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given two functions with different CONSUMER_MIN_REMAINING_MS in one process, the one
    # with the larger value invoked first (issue 12: its value had become everyone's)
    monkeypatch.delenv("CONSUMER_MIN_REMAINING_MS", raising=False)
    seen: list[tuple[str, int]] = []

    def reader(name: str) -> Any:
        def handler(_event: dict[str, Any], _context: LambdaContextLike) -> None:
            seen.append((name, current_settings().consumer_min_remaining_ms))

        return handler

    for name, value in (("advisor", "20000"), ("aggregator", "1000"), ("advisor", "20000")):
        streams, _ = _stream("L#1")
        config = mapping(environment={"CONSUMER_MIN_REMAINING_MS": value}, function_name=name)
        # When each is invoked
        poller(streams, config, reader(name), clock=FakeClock()).poll_once()

    # Then each saw its own value, and the process's settings are its own again afterwards
    assert seen == [("advisor", 20000), ("aggregator", 1000), ("advisor", 20000)]
    assert current_settings().consumer_min_remaining_ms == 2000


# ---------------------------------------------------------------- stopping


def test_stop_lets_the_batch_in_flight_finish_and_starts_no_other() -> None:
    streams, seq = _stream("L#1", "L#2", "L#3")
    stop = threading.Event()
    handler = RecordingHandler(lambda _records: stop.set())
    target = poller(streams, mapping(batch_size=1), handler)
    thread = threading.Thread(target=target.run, args=(stop,))

    thread.start()
    thread.join(timeout=5)

    assert not thread.is_alive()
    assert handler.pks() == [["L#1"]]
    assert target.checkpoints == {"shardId-1": seq[0]}


def test_stop_abandons_retries_so_the_failed_batch_is_redelivered_later() -> None:
    streams, _ = _stream("L#1")
    stop = threading.Event()

    def failing(_records: list[dict[str, Any]]) -> None:
        stop.set()
        raise RuntimeError("boom")

    handler = RecordingHandler(failing)
    target = poller(streams, mapping(), handler)

    target.run(stop)

    assert handler.pks() == [["L#1"]]
    assert target.checkpoints == {}


class CountedStop(threading.Event):
    """A stop event that records each idle wait the poller asks for, runs `between` after
    each, and sets itself after `waits` of them (no real sleeping)."""

    def __init__(self, waits: int, between: Any = None) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.limit = waits
        self.between = between

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if self.between is not None:
            self.between(len(self.waits))
        if len(self.waits) >= self.limit:
            self.set()
        return self.is_set()


def test_a_quiet_stream_is_polled_less_and_less_often_up_to_the_cap() -> None:
    # issue 12: every empty GetRecords costs the engine CPU that the API's reads need
    streams, _ = _stream()
    stop = CountedStop(waits=6)
    target = poller(streams, mapping(), RecordingHandler(), idle_sleep_s=0.1, max_idle_sleep_s=0.5)

    target.run(stop)

    assert stop.waits == [0.1, 0.2, 0.4, 0.5, 0.5, 0.5]


def test_a_record_after_a_quiet_spell_brings_the_poller_back_to_its_fast_pace() -> None:
    streams, _ = _stream()
    handler = RecordingHandler()
    # A write lands after the third idle wait; the poll after it finds it (not idle, no wait),
    # and the next idle wait starts again from the fastest pace.
    stop = CountedStop(waits=5, between=lambda n: n == 3 and streams.put("L#1"))
    target = poller(streams, mapping(), handler, idle_sleep_s=0.1, max_idle_sleep_s=0.5)

    target.run(stop)

    assert handler.pks() == [["L#1"]]
    assert stop.waits == [0.1, 0.2, 0.4, 0.1, 0.2]


def test_without_a_cap_the_idle_pace_stays_fixed() -> None:
    streams, _ = _stream()
    stop = CountedStop(waits=3)
    target = poller(streams, mapping(), RecordingHandler(), idle_sleep_s=0.25)

    target.run(stop)

    assert stop.waits == [0.25, 0.25, 0.25]


# ---------------------------------------------------------------- mappings from the template


def _function(events: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {"Handler": "harvest.consumers.x.handler", "Events": events, **properties},
    }


def _stream_event(**properties: Any) -> dict[str, Any]:
    stream = {"Fn::GetAtt": "HarvestTable.StreamArn"}
    return {"Type": "DynamoDB", "Properties": {"Stream": stream, **properties}}


def test_mappings_take_every_setting_from_the_template() -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Globals": {
            "Function": {
                "Timeout": 30,
                "MemorySize": 512,
                "Environment": {"Variables": {"TABLE_NAME": {"Ref": "HarvestTable"}, "A": "g"}},
            }
        },
        "Resources": {
            "Api": _function({"Get": {"Type": "Api", "Properties": {}}}),
            "Aggregator": _function(
                {
                    "Stream": _stream_event(
                        StartingPosition="TRIM_HORIZON",
                        BatchSize=50,
                        MaximumBatchingWindowInSeconds=2,
                        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
                        FunctionResponseTypes=["ReportBatchItemFailures"],
                        BisectBatchOnFunctionError=True,
                        MaximumRetryAttempts=3,
                        MaximumRecordAgeInSeconds=3600,
                        DestinationConfig={
                            "OnFailure": {
                                "Type": "SQS",
                                "Destination": {"Fn::GetAtt": "AggDlq.Arn"},
                            }
                        },
                    )
                },
                FunctionName={"Fn::Sub": "harvest-${Stage}-aggregator"},
                MemorySize=1024,
                Environment={"Variables": {"A": "own", "SECRET": {"Fn::GetAtt": "X.Y"}}},
            ),
        },
    }

    [config] = mappings_from_template(template, "harvest-local")

    assert config == MappingConfig(
        function_logical_id="Aggregator",
        handler="harvest.consumers.x.handler",
        batch_size=50,
        maximum_batching_window_s=2,
        starting_position="TRIM_HORIZON",
        patterns=config.patterns,
        report_batch_item_failures=True,
        bisect_on_error=True,
        maximum_retry_attempts=3,
        maximum_record_age_s=3600,
        on_failure_destination="AggDlq",
        environment={"TABLE_NAME": "harvest-local", "A": "own"},
        function_name="harvest-dev-aggregator",
        event_name="Stream",
        timeout_s=30,
        memory_mb=1024,
    )
    assert [pattern.source for pattern in config.patterns] == ['{"eventName": ["INSERT"]}']


def test_a_caller_supplied_resolver_fills_intrinsics_the_mapping_cannot_know() -> None:
    function = _function(
        {"Stream": _stream_event()},
        Environment={"Variables": {"BUS": {"Fn::GetAtt": "Bus.Arn"}}},
    )
    template = {"Resources": {"Fn": function}}

    [config] = mappings_from_template(template, "t", resolve=lambda _value: "arn:bus")

    assert config.environment == {"BUS": "arn:bus"}


def test_an_invalid_filter_stops_start_up_naming_the_function() -> None:
    event = _stream_event(FilterCriteria={"Filters": [{"Pattern": "{not json"}]})
    template = {"Resources": {"Publisher": _function({"Stream": event})}}

    with pytest.raises(InvalidFilterPattern, match="Publisher"):
        mappings_from_template(template, "t")


def test_mapping_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="BatchSize"):
        mapping(batch_size=10_001)
    with pytest.raises(ValueError, match="MaximumRecordAgeInSeconds"):
        mapping(maximum_record_age_s=30)


def test_every_stream_mapping_in_template_yaml_loads() -> None:
    configs = mappings_from_template(load_template(), "harvest-local")

    assert all(config.handler.startswith("harvest.") for config in configs)
