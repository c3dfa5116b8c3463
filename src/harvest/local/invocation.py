"""How the local pollers call a function: the Lambda-like context, the handler resolved as
Lambda's init phase does, and the function's environment around an in-process call.

Two ways to run a function share this plumbing: in the runtime's process (tests that patch
a consumer in-process, `RuntimeOptions.function_processes` off), where os.environ is shared
and each call sets its function's variables under a lock; and in a warm worker process of its
own (local.workers, what `harvest serve` runs), which has its environment from the start, so
the call needs no lock (`isolated`).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol, cast

__all__ = [
    "Invoke",
    "LambdaContextLike",
    "LocalLambdaContext",
    "call_environment",
    "function_environment",
    "resolve_handler",
]

# os.environ is process-wide: one invocation at a time may have its function's variables set.
_ENVIRONMENT_LOCK = threading.Lock()


class LambdaContextLike(Protocol):
    @property
    def function_name(self) -> str: ...
    @property
    def aws_request_id(self) -> str: ...
    @property
    def invoked_function_arn(self) -> str: ...
    @property
    def memory_limit_in_mb(self) -> int: ...
    def get_remaining_time_in_millis(self) -> int: ...


Invoke = Callable[[dict[str, Any], LambdaContextLike], Any]


@dataclass(frozen=True)
class LocalLambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools use."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    deadline: float
    clock: Callable[[], float]
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: None = None
    client_context: None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()) * 1000))


@contextmanager
def function_environment(variables: Mapping[str, str]) -> Iterator[None]:
    with _ENVIRONMENT_LOCK:
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        # Each handler module builds its graph from its own settings class the first time it
        # runs, inside its own environment (issue 12: the AI worker's
        # CONSUMER_MIN_REMAINING_MS had become every consumer's while settings were shared).
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def call_environment(variables: Mapping[str, str], isolated: bool) -> AbstractContextManager[None]:
    """The function's variables around one call: nothing to do (and no lock to hold, which
    would serialise every function) when it runs in a process of its own."""
    return nullcontext() if isolated else function_environment(variables)


def resolve_handler(dotted: str, environment: Mapping[str, str] | None = None) -> Invoke:
    """Imports "package.module.function" with the function's environment set, as Lambda's init
    phase does, so module-level configuration sees the same variables as the handler."""
    module_name, _, attribute = dotted.rpartition(".")
    try:
        with function_environment(environment or {}):
            module = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"handler {dotted!r} cannot be imported: {error}") from error
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ValueError(f"handler {dotted!r}: {module_name} has no callable {attribute!r}")
    return cast("Invoke", handler)
