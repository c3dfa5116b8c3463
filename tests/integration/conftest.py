"""Integration fixtures: a table created from template.yaml on the selected engine.

`HARVEST_TEST_ENGINE=moto` (default) runs each test inside moto's mock; `dynamodb-local`
runs the same tests against DynamoDB Local (one JVM per session, a fresh table per test), so
any behaviour that differs between the two shows up as a failing conformance run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from harvest.api import dependencies
from harvest.local.engines import DynamoDbLocalEngine
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table
from support.apigw import Api
from support.engine import ENGINE
from support.exact import exact_figures


def pytest_report_header() -> str:
    return f"integration engine: {ENGINE}"


@pytest.fixture
def serialized_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto applies a write in several unlocked steps; real DynamoDB serialises conflicting
    writes per item. A lock around moto's write operations restores that guarantee so that
    concurrency tests exercise our conditions, not moto's thread safety. Reads take the lock
    too: without it a scan could see an item another thread was half-way through creating
    (only its keys), which DynamoDB never shows (a redrive test failed on exactly that)."""
    lock = threading.RLock()
    operations = (
        "put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item",
        "get_item", "batch_get_item", "transact_get_items", "query", "scan",
    )  # fmt: skip
    for name in operations:
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Callable[..., Any] = original, **kw: Any) -> Any:
            with lock:
                return __original(*args, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str | None]:
    if ENGINE != "dynamodb-local":
        yield None
        return
    engine = DynamoDbLocalEngine()
    engine.start()
    try:
        yield engine.endpoint_url
    finally:
        engine.stop()


@pytest.fixture
def table(
    monkeypatch: pytest.MonkeyPatch, dynamodb_local: str | None, request: pytest.FixtureRequest
) -> Iterator[str]:
    name = f"harvest-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TABLE_NAME", name)
    dependencies.services.reset()
    if dynamodb_local is None:
        request.getfixturevalue("serialized_moto")
        with mock_aws():
            create_table(make_client("us-east-1"), name)
            yield name
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", dynamodb_local)
        client = make_client("us-east-1")
        create_table(client, name)
        try:
            yield name
        finally:
            client.delete_table(TableName=name)
    dependencies.services.reset()


@pytest.fixture
def api(table: str) -> Api:
    return Api()


@pytest.fixture
def dynamodb(table: str) -> Any:
    return make_client("us-east-1")


@pytest.fixture
def no_noise() -> Iterator[None]:
    """The signals' noise off (settings), for a test whose subject is an exact figure."""
    with exact_figures():
        yield
