"""End to end on the local runtime: HTTP in, stream out, through the emulated mapping."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from harvest.tools.template import load_template
from support import payloads, recording_consumer
from support.runtime import running_runtime, wait_for

FILTER = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "LISTING#"}]}}},
}


def _template_with_test_consumer() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    template["Resources"]["TestConsumerDlq"] = {"Type": "AWS::SQS::Queue"}
    template["Resources"]["TestConsumer"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Handler": "support.recording_consumer.handler",
            "Events": {
                "Stream": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": "HarvestTable.StreamArn"},
                        "StartingPosition": "TRIM_HORIZON",
                        "BatchSize": 10,
                        "MaximumBatchingWindowInSeconds": 0,
                        "FilterCriteria": {"Filters": [{"Pattern": json.dumps(FILTER)}]},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "BisectBatchOnFunctionError": True,
                        "MaximumRetryAttempts": 2,
                        "MaximumRecordAgeInSeconds": 3600,
                        "DestinationConfig": {
                            "OnFailure": {
                                "Type": "SQS",
                                "Destination": {"Fn::GetAtt": "TestConsumerDlq.Arn"},
                            }
                        },
                    },
                }
            },
        },
    }
    return template


@pytest.fixture(autouse=True)
def fresh_consumer() -> None:
    recording_consumer.reset()


def _listing_ids(records: list[dict[str, Any]]) -> set[str]:
    return {r["dynamodb"]["Keys"]["PK"]["S"].removeprefix("LISTING#") for r in records}


def test_consumer_gets_exactly_its_filtered_records_and_a_poison_record_ends_in_the_dlq(
    tmp_path: Path,
) -> None:
    with running_runtime(tmp_path / "data", _template_with_test_consumer()) as (runtime, http):
        assert "TestConsumer" in runtime.poller_names
        health = http.call("GET", "/health", user=None)
        assert health.status == 200

        before = [http.call("POST", "/listings", payloads.listing(), user="g") for _ in range(3)]
        poison = http.call("POST", "/listings", payloads.listing(notes="poison"), user="g")
        request = http.call("POST", "/requests", payloads.request(), user="s")
        after = [http.call("POST", "/listings", payloads.listing(), user="g") for _ in range(2)]
        assert all(r.status == 201 for r in [*before, poison, request, *after])
        good = {r.body["listingId"] for r in [*before, *after]}

        dlq = tmp_path / "data" / "dlq" / "TestConsumer.jsonl"
        wait_for(lambda: dlq.exists() and dlq.read_text().strip())
        wait_for(lambda: good <= _listing_ids(recording_consumer.snapshot()))

    records = recording_consumer.snapshot()
    # only listing INSERTs: the request and the idempotency-free writes never match the filter
    assert {r["eventName"] for r in records} == {"INSERT"}
    assert _listing_ids(records) == good | {poison.body["listingId"]}
    assert all(r["eventSource"] == "aws:dynamodb" for r in records)
    assert all(r["eventSourceARN"].startswith("arn:aws:dynamodb:") for r in records)
    # the poison record was delivered at least once plus the configured retries (bisecting
    # adds deliveries without using up retries), then dead-lettered
    poison_deliveries = [
        r
        for r in records
        if r["dynamodb"]["Keys"]["PK"]["S"] == f"LISTING#{poison.body['listingId']}"
    ]
    assert len(poison_deliveries) >= 3
    failures = [json.loads(line) for line in dlq.read_text().splitlines()]
    assert len(failures) == 1
    info = failures[0]["DDBStreamBatchInfo"]
    sequence = poison_deliveries[0]["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequence
    assert failures[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failures[0]["requestContext"]["approximateInvokeCount"] == len(poison_deliveries)


def test_data_survives_a_restart_with_the_same_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running_runtime(data) as (_, http):
        created = http.call("POST", "/listings", payloads.listing(), user="grower")
        assert created.status == 201
    with running_runtime(data) as (_, http):
        again = http.call("GET", f"/listings/{created.body['listingId']}", user="grower")
        assert again.status == 200
        assert again.body == created.body


def test_missing_or_forged_token_is_401_before_the_handler(tmp_path: Path) -> None:
    with running_runtime(tmp_path / "data") as (_, http):
        assert http.call("GET", "/me", user=None).status == 401
        forged = http.call("GET", "/me", user=None, headers={"Authorization": "Bearer a.b.c"})
        assert forged.status == 401
        assert forged.body == {"message": "Unauthorized"}
        assert http.call("GET", "/me", user="ann", tier="pro").body["tier"] == "pro"


def test_a_browser_gets_cors_over_http_preflight_without_a_token_and_on_401(
    tmp_path: Path,
) -> None:
    origin = {"Origin": "https://app.example.org"}
    with running_runtime(tmp_path / "data") as (_, http):
        preflight = http.call(
            "OPTIONS",
            "/listings",
            user=None,
            headers={**origin, "Access-Control-Request-Method": "POST"},
        )
        refused = http.call("GET", "/me", user=None, headers=origin)
        served = http.call("GET", "/crops", user=None, headers=origin)

    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] in {"*", origin["Origin"]}
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"].split(",")
    # API Gateway's own 401 (the emulated authorizer) carries the template's CORS headers.
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert served.status == 200
    assert served.headers["Access-Control-Allow-Origin"] in {"*", origin["Origin"]}
