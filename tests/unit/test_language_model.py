"""ConverseModel against a real bedrock-runtime client with botocore's Stubber (no network)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from harvest.adapters.language_model import (
    ConverseModel,
    DisabledModel,
    ModelUnavailable,
    bedrock_client_factory,
)
from harvest.domain.advice import Prompt
from support.bedrock import converse_response

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = Prompt(system="You explain signals.", user="Data: {}")


EXPECTED_REQUEST = {
    "modelId": MODEL,
    "system": [{"text": PROMPT.system}],
    "messages": [{"role": "user", "content": [{"text": PROMPT.user}]}],
    "inferenceConfig": {"maxTokens": 800, "temperature": 0.2},
}


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Ticks:
    """A monotonic clock that moves 0.25 s per reading."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.25
        return self.now


@pytest.fixture
def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def model(
    client: Any,
    sleeps: Sleeps,
    *,
    jitter: Callable[[], float] = lambda: 0.5,
    max_attempts: int = 4,
    base_delay_s: float = 0.2,
    max_delay_s: float = 3.0,
) -> ConverseModel:
    return ConverseModel(
        MODEL,
        lambda: client,
        max_attempts=max_attempts,
        base_delay_s=base_delay_s,
        max_delay_s=max_delay_s,
        sleep=sleeps,
        random=jitter,
        monotonic=Ticks(),
    )


def test_reply_carries_the_text_and_token_usage(client: Any, stubber: Stubber) -> None:
    # Given Bedrock answers in two text blocks
    stubber.add_response("converse", converse_response('{"headline": ', '"h"}'), EXPECTED_REQUEST)
    sleeps = Sleeps()
    # When the model completes the prompt
    reply = model(client, sleeps).complete(PROMPT)
    # Then the request had the Converse shape, and the reply joins the text and counts usage
    assert reply.text == '{"headline": "h"}'
    assert (reply.input_tokens, reply.output_tokens, reply.attempts) == (120, 45, 1)
    assert reply.latency_ms == 250
    assert reply.stop_reason == "end_turn"
    assert sleeps.delays == []


def test_throttling_is_retried_after_a_jittered_backoff(client: Any, stubber: Stubber) -> None:
    # Given Bedrock throttles once, then answers
    stubber.add_client_error("converse", "ThrottlingException", http_status_code=429)
    stubber.add_response("converse", converse_response("ok"), EXPECTED_REQUEST)
    sleeps = Sleeps()
    # When the model completes the prompt with a jitter draw of 0.5
    reply = model(client, sleeps, jitter=lambda: 0.5).complete(PROMPT)
    # Then it waited half of the first backoff ceiling (0.2 s) and answered on attempt 2
    assert sleeps.delays == [pytest.approx(0.1)]
    assert (reply.text, reply.attempts) == ("ok", 2)


def test_persistent_throttling_gives_up_after_max_attempts_with_bounded_delays(
    client: Any, stubber: Stubber
) -> None:
    # Given Bedrock throttles every call
    for _ in range(4):
        stubber.add_client_error("converse", "ThrottlingException", http_status_code=429)
    draws = iter([0.999, 0.25, 0.999])
    sleeps = Sleeps()
    # When the model tries with a 1 s base and a 3 s cap
    subject = model(client, sleeps, jitter=lambda: next(draws), base_delay_s=1.0)
    with pytest.raises(ModelUnavailable) as raised:
        subject.complete(PROMPT)
    # Then it made exactly 4 calls, each delay = draw * min(cap, base * 2**n), never above cap
    assert (raised.value.attempts, raised.value.code) == (4, "ThrottlingException")
    assert sleeps.delays == [pytest.approx(0.999), pytest.approx(0.5), pytest.approx(2.997)]
    assert all(0 <= delay <= 3.0 for delay in sleeps.delays)


@pytest.mark.parametrize(
    "code",
    [
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "InternalServerException",
        "ModelNotReadyException",
    ],
)
def test_transient_service_errors_are_retried(client: Any, stubber: Stubber, code: str) -> None:
    stubber.add_client_error("converse", code, http_status_code=503)
    stubber.add_response("converse", converse_response("ok"), EXPECTED_REQUEST)
    sleeps = Sleeps()
    assert model(client, sleeps).complete(PROMPT).attempts == 2
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    "code", ["ValidationException", "AccessDeniedException", "ResourceNotFoundException"]
)
def test_non_retryable_errors_fail_at_once(client: Any, stubber: Stubber, code: str) -> None:
    # Given Bedrock refuses the request for good
    stubber.add_client_error("converse", code, http_status_code=400)
    sleeps = Sleeps()
    # When the model completes the prompt
    with pytest.raises(ModelUnavailable) as raised:
        model(client, sleeps).complete(PROMPT)
    # Then it made one call and did not wait (the stubber would fail on a second call)
    assert (raised.value.code, raised.value.attempts) == (code, 1)
    assert sleeps.delays == []


class FlakyTransport:
    """Raises the given connection errors first, then hands over to the stubbed client."""

    def __init__(self, client: Any, errors: list[Exception]) -> None:
        self.client = client
        self.errors = errors

    def converse(self, **request: Any) -> Any:
        if self.errors:
            raise self.errors.pop(0)
        return self.client.converse(**request)


def test_read_timeout_is_retried(client: Any, stubber: Stubber) -> None:
    stubber.add_response("converse", converse_response("ok"), EXPECTED_REQUEST)
    flaky = FlakyTransport(client, [ReadTimeoutError(endpoint_url="https://bedrock")])
    sleeps = Sleeps()
    reply = model(flaky, sleeps).complete(PROMPT)
    assert (reply.text, reply.attempts, len(sleeps.delays)) == ("ok", 2, 1)


def test_unreachable_endpoint_gives_up_after_max_attempts(client: Any) -> None:
    errors: list[Exception] = [
        EndpointConnectionError(endpoint_url="https://bedrock") for _ in range(3)
    ]
    sleeps = Sleeps()
    with pytest.raises(ModelUnavailable) as raised:
        model(FlakyTransport(client, errors), sleeps, max_attempts=3).complete(PROMPT)
    assert (raised.value.code, raised.value.attempts) == ("EndpointConnectionError", 3)
    assert len(sleeps.delays) == 2


def test_client_is_created_on_first_completion_and_only_once(client: Any, stubber: Stubber) -> None:
    # Given a model whose client factory counts its calls
    created: list[Any] = []

    def factory() -> Any:
        created.append(client)
        return client

    subject = ConverseModel(MODEL, factory, sleep=Sleeps())
    # Then constructing it builds no client (a cold start without Bedrock stays cheap)
    assert created == []
    # When it completes twice
    for _ in range(2):
        stubber.add_response("converse", converse_response("ok"), EXPECTED_REQUEST)
        subject.complete(PROMPT)
    # Then one client served both
    assert len(created) == 1


def test_disabled_model_is_unavailable_without_any_attempt() -> None:
    disabled = DisabledModel()
    with pytest.raises(ModelUnavailable) as raised:
        disabled.complete(PROMPT)
    assert disabled.model_id is None
    assert raised.value.attempts == 0


def test_client_factory_leaves_retries_to_the_model() -> None:
    client = bedrock_client_factory("us-east-1")()
    assert client.meta.service_model.service_name == "bedrock-runtime"
    assert client.meta.config.retries["total_max_attempts"] == 1
    assert client.meta.config.read_timeout == 60


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        ConverseModel(MODEL, lambda: None, max_attempts=0)
    with pytest.raises(ValueError, match="model_id"):
        ConverseModel("", lambda: None)
