"""What a Lambda container keeps between invocations: each entry point's object graph, built
by its `bootstrap` on first use (not at import: a cold start that is refused early never pays
for clients) and then reused.

Each handler module holds one `Once` around one bootstrap call. Tests and the local runtime,
which run many "containers" in one process, either give a graph built with fakes
(`override`) or let the next use build afresh from the environment (`reset`);
`Once.reset_all()` forgets every graph of the process (a new entry point needs no line
anywhere for that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ClassVar


class Once[T]:
    _every: ClassVar[list[Once[object]]] = []

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()
        Once._every.append(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
                value = self._value
        return value

    def override(self, value: T) -> None:
        """Use this graph (built by the same bootstrap, with fakes) until reset."""
        with self._lock:
            self._value = value

    def reset(self) -> None:
        with self._lock:
            self._value = None

    @classmethod
    def reset_all(cls) -> None:
        for once in cls._every:
            once.reset()
