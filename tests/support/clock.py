"""The one fake clock for services, handlers and workers that take a `clock` (a callable
returning an aware datetime): it stands still until a test moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
