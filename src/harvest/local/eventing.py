"""The bus side of the local runtime: moto's EventBridge and SQS in a thread of this
process, set up from template.yaml (local.rules), fed by the local event sink, one SQS
poller per SQS event source mapping (local.queues), and one timer per schedule rule
(local.schedules).

Events keep landing in DATA_DIR/events.jsonl first (`harvest events --follow`); the sink
then puts them on moto's bus, whose rules deliver them to the queues. A failure to forward
fails the PutEvents call, so the publisher retries it: nothing is lost between the two.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from harvest.local.engines import free_port, wait_until_listening
from harvest.local.invocation import Invoke
from harvest.local.mappings import FunctionSettings
from harvest.local.queues import SqsPoller
from harvest.local.rules import BusTopology, provision, topology_from_template
from harvest.local.schedules import ScheduleTicker, period_seconds

__all__ = ["RuleBus"]

log = logging.getLogger("harvest.local.eventing")


@dataclass
class RuleBus:
    topology: BusTopology
    region: str
    endpoint_url: str = ""
    queue_urls: dict[str, str] = field(default_factory=dict)
    pollers: list[SqsPoller] = field(default_factory=list)
    tickers: list[ScheduleTicker] = field(default_factory=list)
    _server: Any = None

    @classmethod
    def start(cls, template: dict[str, Any], table_name: str, region: str) -> RuleBus:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy, local-only

        bus = cls(topology_from_template(template, table_name), region)
        port = free_port()
        bus._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        bus._server.start()
        bus.endpoint_url = f"http://127.0.0.1:{port}"
        wait_until_listening(bus.endpoint_url + "/moto-api/")
        bus.queue_urls = provision(bus.topology, bus.client("events"), bus.client("sqs"))
        log.info(
            "bus %s: %d rules, %d queues on %s",
            bus.topology.bus_name,
            len(bus.topology.rules),
            len(bus.queue_urls),
            bus.endpoint_url,
        )
        return bus

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106  # nosec B106
        )

    def forward(self, entries: list[dict[str, Any]]) -> None:
        """Puts the sink's entries on the bus of the template; raises when moto refuses one."""
        events = self.client("events")
        for first in range(0, len(entries), 10):
            chunk = [
                {**entry, "EventBusName": self.topology.bus_name}
                for entry in entries[first : first + 10]
            ]
            response = events.put_events(Entries=chunk)
            if response.get("FailedEntryCount"):
                raise RuntimeError(f"the local bus refused {response['FailedEntryCount']} events")

    def start_pollers(
        self,
        stop: threading.Event,
        invoker: Callable[[FunctionSettings], Invoke | None] = lambda _: None,
        *,
        nice: int = 0,
    ) -> list[threading.Thread]:
        """One thread per SQS mapping; `invoker` gives a function's worker process (None: the
        function runs in this process); `nice`: the pollers' priority below the API's."""
        threads = []
        for mapping in self.topology.mappings:
            invoke = invoker(mapping.function)
            url = self.queue_urls[mapping.queue]
            poller = SqsPoller(
                mapping, self.client("sqs"), url, invoke, isolated=invoke is not None, nice=nice
            )
            self.pollers.append(poller)
            name = f"sqs-{mapping.function.logical_id}"
            thread = threading.Thread(target=poller.run, args=(stop,), name=name, daemon=True)
            thread.start()
            threads.append(thread)
            log.info("sqs poller %s on %s", mapping.function.logical_id, mapping.queue)
        return threads

    def start_schedules(self, stop: threading.Event) -> list[threading.Thread]:
        """One timer per schedule rule (moto never fires them): local.schedules."""
        threads = []
        for schedule in self.topology.schedules:
            ticker = ScheduleTicker(
                schedule,
                self.client("sqs"),
                self.queue_urls,
                self.region,
                period_seconds(schedule.expression),
            )
            self.tickers.append(ticker)
            threads.append(ticker.start(stop))
        return threads

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
