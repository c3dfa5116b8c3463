"""Language models behind one small interface: Bedrock's Converse API, or none at all.

``ConverseModel`` sends a :class:`Prompt` to ``bedrock-runtime`` ``converse`` and returns the
text with its token usage. Transient failures (throttling, service and model timeouts,
connection errors) are retried with exponential backoff and full jitter; the botocore client
should not retry on its own (``BEDROCK_CLIENT_CONFIG``), or attempts multiply and the
backoff here stops meaning anything. Anything else, or the last transient failure, raises
:class:`ModelUnavailable`, on which the caller uses its deterministic fallback.

``DisabledModel`` is the default where no model id is configured (local runs, tests): it
fails at once, so the fallback is served without a network call.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from harvest.domain.advice import Prompt

__all__ = [
    "BEDROCK_CLIENT_CONFIG",
    "RETRYABLE_ERRORS",
    "ConverseModel",
    "DisabledModel",
    "LanguageModel",
    "ModelReply",
    "ModelUnavailable",
    "bedrock_client_factory",
]

RETRYABLE_ERRORS: Final = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelTimeoutException",
        "InternalServerException",
        "ModelNotReadyException",
    }
)
_TRANSPORT_ERRORS = (
    ReadTimeoutError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ConnectionClosedError,
)
# One attempt per call: ConverseModel owns the retries. A generation can take tens of
# seconds, so the read timeout is generous; connecting should never take long.
BEDROCK_CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=3,
    read_timeout=60,
    tcp_keepalive=True,
)


@dataclass(frozen=True, slots=True)
class ModelReply:
    """The model's text, what it cost, and how long it took over every attempt."""

    text: str
    input_tokens: int
    output_tokens: int
    attempts: int
    latency_ms: int
    stop_reason: str = ""


class ModelUnavailable(Exception):
    """No usable reply: the caller falls back. ``attempts`` = calls made (0: none)."""

    def __init__(self, reason: str, *, code: str = "", attempts: int = 0) -> None:
        super().__init__(reason)
        self.code = code
        self.attempts = attempts


class LanguageModel(Protocol):
    @property
    def model_id(self) -> str | None: ...

    def complete(self, prompt: Prompt) -> ModelReply: ...


def bedrock_client_factory(
    region: str | None = None, endpoint_url: str | None = None
) -> Callable[[], Any]:
    """A factory for ConverseModel; the client is only built when the model is first used."""

    def create() -> Any:
        return boto3.client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=endpoint_url,
            config=BEDROCK_CLIENT_CONFIG,
        )

    return create


class DisabledModel:
    """No model configured: every completion is unavailable, without a call."""

    @property
    def model_id(self) -> str | None:
        return None

    def complete(self, prompt: Prompt) -> ModelReply:
        raise ModelUnavailable("no model is configured", code="Disabled", attempts=0)


class ConverseModel:
    def __init__(
        self,
        model_id: str,
        client_factory: Callable[[], Any],
        *,
        max_attempts: int = 4,
        base_delay_s: float = 0.2,
        max_delay_s: float = 3.0,
        max_tokens: int = 800,
        temperature: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not model_id:
            raise ValueError("model_id must not be empty")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._model_id = model_id
        self._client_factory = client_factory
        self._client: Any = None
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.inference = {"maxTokens": max_tokens, "temperature": temperature}
        self._sleep = sleep
        self._random = random
        self._monotonic = monotonic

    @property
    def model_id(self) -> str:
        return self._model_id

    def backoff(self, retry: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**(retry - 1))), retry >= 1."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return self._random() * ceiling

    def complete(self, prompt: Prompt) -> ModelReply:
        started = self._monotonic()
        for attempt in range(1, self.max_attempts + 1):
            if attempt > 1:
                self._sleep(self.backoff(attempt - 1))
            try:
                response = self._converse(prompt)
            except ClientError as error:
                code = str(error.response.get("Error", {}).get("Code", ""))
                if code not in RETRYABLE_ERRORS or attempt == self.max_attempts:
                    raise ModelUnavailable(str(error), code=code, attempts=attempt) from error
            except _TRANSPORT_ERRORS as error:
                if attempt == self.max_attempts:
                    code = type(error).__name__
                    raise ModelUnavailable(str(error), code=code, attempts=attempt) from error
            else:
                elapsed_ms = round((self._monotonic() - started) * 1000)
                return _reply(response, attempt, elapsed_ms)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _converse(self, prompt: Prompt) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client.converse(
            modelId=self._model_id,
            system=[{"text": prompt.system}],
            messages=[{"role": "user", "content": [{"text": prompt.user}]}],
            inferenceConfig=self.inference,
        )


def _reply(response: Any, attempts: int, latency_ms: int) -> ModelReply:
    # Content is a list of blocks; only text blocks matter (no tools are offered).
    blocks = response.get("output", {}).get("message", {}).get("content", [])
    usage = response.get("usage", {})
    return ModelReply(
        text="".join(str(block["text"]) for block in blocks if "text" in block),
        input_tokens=int(usage.get("inputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        attempts=attempts,
        latency_ms=latency_ms,
        stop_reason=str(response.get("stopReason", "")),
    )
