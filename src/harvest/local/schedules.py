"""Schedule rules of template.yaml, ticked locally: moto keeps a rule with a
ScheduleExpression but never fires it, so the runtime does, one timer per rule, putting the
event EventBridge would deliver (`source: aws.events`, `detail-type: Scheduled Event`) on
the rule's target queues, where the SQS pollers (local.queues) hand it to the function.

`rate(N unit)` is kept as is; a `cron(...)` expression ticks hourly (the local runtime
does not evaluate cron). `HARVEST_LOCAL_SCHEDULE_SECONDS` sets every schedule's period
instead (tests and demos: "a day later" without waiting an hour). The first tick goes out
at start, so a runtime started after a quiet night refreshes at once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from harvest.local.rules import ScheduleSpec

__all__ = ["SCHEDULE_SECONDS_VARIABLE", "ScheduleTicker", "period_seconds", "scheduled_event"]

log = logging.getLogger("harvest.local.schedules")

SCHEDULE_SECONDS_VARIABLE: Final = "HARVEST_LOCAL_SCHEDULE_SECONDS"
CRON_PERIOD_S: Final = 3600.0
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_S: Final = {"minute": 60, "hour": 3600, "day": 86_400}


def period_seconds(expression: str, environ: Mapping[str, str] | None = None) -> float:
    """The local period of a schedule; raises ValueError for what EventBridge refuses too."""
    override = (os.environ if environ is None else environ).get(SCHEDULE_SECONDS_VARIABLE)
    if override:
        seconds = float(override)
        if seconds <= 0:
            raise ValueError(f"{SCHEDULE_SECONDS_VARIABLE} must be positive, not {override!r}")
        return seconds
    match = _RATE.match(expression)
    if match:
        value, unit = int(match.group(1)), match.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{expression!r}: use rate(1 unit) or rate(N units)")
        return float(value * _UNIT_S[unit.rstrip("s")])
    if expression.startswith("cron(") and expression.endswith(")"):
        log.warning("%s: cron is not evaluated locally; ticking hourly", expression)
        return CRON_PERIOD_S
    raise ValueError(f"{expression!r} is not a rate(...) or cron(...) expression")


def scheduled_event(rule_arn: str, region: str, account: str) -> dict[str, Any]:
    """What EventBridge delivers for one tick of a schedule rule."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class ScheduleTicker:
    """One schedule's timer: sends a tick to each target queue every `period_s`."""

    schedule: ScheduleSpec
    sqs: Any  # boto3 SQS client
    queue_urls: Mapping[str, str]
    region: str
    period_s: float
    account: str = "123456789012"
    ticks: int = 0
    _clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @property
    def rule_arn(self) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{self.schedule.name}"

    def tick(self) -> None:
        body = json.dumps(scheduled_event(self.rule_arn, self.region, self.account))
        for queue in self.schedule.queues:
            self.sqs.send_message(QueueUrl=self.queue_urls[queue], MessageBody=body)
        self.ticks += 1

    def run(self, stop: threading.Event) -> None:
        next_at = self._clock()
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # the timer outlives a broken call, as EventBridge's does
                log.exception("%s: tick failed", self.schedule.logical_id)
            next_at += self.period_s
            stop.wait(max(0.0, next_at - self._clock()))

    def start(self, stop: threading.Event) -> threading.Thread:
        name = f"schedule-{self.schedule.logical_id}"
        thread = threading.Thread(target=self.run, args=(stop,), name=name, daemon=True)
        thread.start()
        log.info(
            "schedule %s (%s) every %.1f s -> %s",
            self.schedule.logical_id,
            self.schedule.expression,
            self.period_s,
            ", ".join(self.schedule.queues),
        )
        return thread
