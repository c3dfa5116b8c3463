"""Bedrock throttling and timeouts in the AI worker, on the local runtime.

The worker is configured with a model (BEDROCK_MODEL_ID), so it builds its real ConverseModel
and bedrock-runtime client; every Converse attempt is then answered by botocore's
`before-send` hook with a 429 ThrottlingException or a read timeout, alternately, without
any network. The worker must retry, fall back deterministically, record what the calls cost,
and keep the pipeline moving: guidance still turns from 202 into 200.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ReadTimeoutError

from harvest.adapters.language_model import ConverseModel
from harvest.local.runtime import LocalRuntime
from harvest.store.dynamo import deserialize, make_client
from harvest.tools.template import load_template
from support import payloads
from support.faults import SendFaults, answer, audit, dlq_entries, wait_until_drained
from support.runtime import running_runtime, wait_for

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
MODEL_ATTEMPTS: int = inspect.signature(ConverseModel).parameters["max_attempts"].default


class FailingBedrock:
    """Every Converse attempt fails: throttled, timed out, throttled, ..."""

    def __init__(self) -> None:
        self.calls = 0
        self.urls: set[str] = set()

    def __call__(self, request: AWSPreparedRequest) -> AWSResponse | None:
        self.calls += 1
        self.urls.add(str(request.url))
        if self.calls % 2:
            return answer(request, 429, "ThrottlingException", json_version="1.1")
        raise ReadTimeoutError(endpoint_url=str(request.url))


def _template() -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    template["Parameters"]["BedrockModelId"]["Default"] = MODEL
    return template


def _items_of_type(runtime: LocalRuntime, item_type: str) -> list[dict[str, Any]]:
    client = make_client(runtime.options.region, runtime.engine.endpoint_url)
    found: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(
        TableName=runtime.options.table_name,
        FilterExpression="#type = :type",
        ExpressionAttributeNames={"#type": "type"},
        ExpressionAttributeValues={":type": {"S": item_type}},
        ConsistentRead=True,
    ):
        found.extend(deserialize(item) for item in page["Items"])
    return found


def test_a_throttled_and_timing_out_model_gives_fallback_advice_and_records_its_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runtime runs every function in this process and settings are read once per process:
    # the model id must be in the process environment too, not only in the worker's.
    monkeypatch.setenv("BEDROCK_MODEL_ID", MODEL)
    bedrock = FailingBedrock()
    SendFaults.install(monkeypatch).on("bedrock-runtime", "Converse", bedrock)
    data = tmp_path / "data"
    with running_runtime(data, _template()) as (runtime, http):
        # Given an area with supply from k growers (a published crop: the AI worker explains
        # only windows with one), and a pro grower asking for guidance there
        for grower in ("grower-a", "grower-b", "grower-c"):
            listed = http.call("POST", "/listings", payloads.listing(), user=grower)
            assert listed.status == 201, listed.body
        asked = http.call(
            "POST", "/me/guidance", {"area": "u33dc", "crop": "tomato"}, user="pia", tier="pro"
        )
        assert asked.status == 202, asked.body
        location = asked.headers["Location"]

        # When every model call is throttled or times out, the guidance is still answered
        def answered() -> dict[str, Any] | None:
            reply = http.call("GET", location, user="pia", tier="pro")
            assert reply.status in (200, 202), reply.body
            return reply.body if reply.status == 200 else None

        guidance = wait_for(answered, timeout_s=60)
        assert guidance["status"] == "ready"
        assert guidance["guidance"]["source"] == "fallback"
        assert guidance["guidance"]["actions"]
        wait_until_drained(data)

        # Then the configured model was asked, and every call it was asked is on record
        assert bedrock.calls >= MODEL_ATTEMPTS
        assert all(MODEL.replace(":", "%3A") in url for url in bedrock.urls)
        usage = _items_of_type(runtime, "ai-usage")
        assert sum(int(record["attempts"]) for record in usage) == bedrock.calls
        assert {(r["outcome"], int(r["attempts"]), r["modelId"]) for r in usage} == {
            ("unavailable", MODEL_ATTEMPTS, MODEL)
        }
        assert all(int(r["inputTokens"]) == int(r["outputTokens"]) == 0 for r in usage)
        [answer_item] = _items_of_type(runtime, "ai-guidance-answer")
        assert [r["kind"] for r in usage if r["digest"] == answer_item["digest"]] == ["guidance"]
        # ... the explanations of the insights fell back too, and nothing was given up
        explanations = [r for r in usage if r["kind"] == "explanation"]
        assert explanations
        assert dlq_entries(data) == {}

    code, report = audit(data)
    assert code == 0, report
