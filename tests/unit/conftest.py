"""Unit tests are pure: any attempt to open a network socket fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import aws_xray_sdk.core  # type: ignore[import-untyped]  # noqa: F401  # see below
import pytest
import pytest_socket

# Importing the X-Ray SDK (Powertools' Tracer does, in harvest.api.app) builds its global
# recorder, whose UDP emitter creates a socket object at import: nothing is sent, but
# pytest-socket refuses the creation. Whichever unit test first imported the API app on a
# worker failed (the schema drift tests, run alone or first). Imported here, before the guard.


@pytest.fixture(autouse=True)
def no_network() -> Iterator[None]:
    pytest_socket.disable_socket(allow_unix_socket=True)
    yield
    pytest_socket.enable_socket()
