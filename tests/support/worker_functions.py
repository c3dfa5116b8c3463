"""Handlers for the function worker tests (tests/integration/test_function_workers.py): each
one shows one thing a warm worker process must do as Lambda's container does."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from aws_lambda_powertools import Logger

from harvest.local.invocation import LambdaContextLike
from harvest.settings import ConsumerSettings

log = logging.getLogger("worker-test")
INIT_PID = os.getpid()  # set once, at import: the init phase


def report(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    """What this function sees: its settings, environment, process, context."""
    return {
        "event": event,
        "minRemainingMs": ConsumerSettings.from_environ(os.environ).consumer_min_remaining_ms,
        "pid": os.getpid(),
        "initPid": INIT_PID,
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
    }


def sleep(event: dict[str, Any], context: LambdaContextLike) -> dict[str, Any]:
    time.sleep(float(event["seconds"]))
    return {"slept": event["seconds"]}


def fail(event: dict[str, Any], context: LambdaContextLike) -> None:
    raise ValueError(f"refused {event['n']}")


def die(event: dict[str, Any], context: LambdaContextLike) -> None:
    os._exit(3)


def talk(event: dict[str, Any], context: LambdaContextLike) -> str:
    print(f"printed {event['n']}", flush=True)  # Powertools' JSON logs go to stdout too
    log.warning("logged %s", event["n"])
    return "said"


def narrate(event: dict[str, Any], context: LambdaContextLike) -> str:
    """An INFO and a WARNING line through Powertools, as the consumers log."""

    narrator = Logger(service="worker-narrator")
    narrator.info(f"routine {event['n']}")
    narrator.warning(f"trouble {event['n']}")
    return "told"


def shout(event: dict[str, Any], context: LambdaContextLike) -> int:
    """More output than a pipe holds (64 KiB): the runtime must keep reading it."""
    for number in range(int(event["lines"])):
        print(f"{number:06d} " + "x" * 1000, flush=True)
    return int(event["lines"])
