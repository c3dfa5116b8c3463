"""Integration fixtures: a moto DynamoDB table created from template.yaml."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from harvest.api import dependencies
from harvest.settings import get_settings
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table
from support.apigw import Api

TABLE = "harvest-test"


@pytest.fixture
def serialized_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto applies a write in several unlocked steps; real DynamoDB serialises conflicting
    writes per item. A lock around moto's write operations restores that guarantee so that
    concurrency tests exercise our conditions, not moto's thread safety."""
    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "get_item"):
        original: Callable[..., Any] = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Callable[..., Any] = original, **kw: Any) -> Any:
            with lock:
                return __original(*args, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, serialized_moto: None) -> Iterator[str]:
    monkeypatch.setenv("TABLE_NAME", TABLE)
    get_settings.cache_clear()
    dependencies.services.cache_clear()
    with mock_aws():
        create_table(make_client("us-east-1"), TABLE)
        yield TABLE
    get_settings.cache_clear()
    dependencies.services.cache_clear()


@pytest.fixture
def api(table: str) -> Api:
    return Api()


@pytest.fixture
def dynamodb(table: str) -> Any:
    return make_client("us-east-1")
