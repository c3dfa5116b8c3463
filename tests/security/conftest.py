"""Security suite fixtures: the real API handler in-process over a moto table built from
template.yaml (identity injected as API Gateway's authorizer would), like tests/integration.

The suite runs on moto only: what it proves (who may call what, what a response or an event
reveals, that bad input writes nothing) does not depend on the DynamoDB engine; the
integration suite's conformance run covers the engine differences. Tests that need the real
token verification start the local runtime themselves (tests/support/runtime.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from harvest.api import dependencies
from harvest.store.dynamo import make_client
from harvest.tools.template import create_table
from support.apigw import Api
from support.exact import exact_figures

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_METRICS_DISABLED": "1",
}


@pytest.fixture(scope="module")
def moto_backend() -> Iterator[None]:
    """One moto mock per module (starting one costs more than most tests here), with the
    same fake environment as tests/conftest.py: module fixtures are set up before it."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            patch.delenv(name, raising=False)
        for name, value in FAKE_AWS.items():
            patch.setenv(name, value)
        with mock_aws():
            yield


def _new_table() -> Iterator[str]:
    name = f"harvest-sec-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TABLE_NAME", name)
        dependencies.services.reset()
        client = make_client("us-east-1")
        create_table(client, name)
        yield name
        client.delete_table(TableName=name)
    dependencies.services.reset()


@pytest.fixture
def table(moto_backend: None) -> Iterator[str]:
    """A fresh, small table per test (moto copies a whole table on every transaction)."""
    yield from _new_table()


@pytest.fixture(scope="module")
def module_table(moto_backend: None) -> Iterator[str]:
    """One table for a module whose tests all read what one costly setup wrote; such a
    module uses only the module_* fixtures."""
    yield from _new_table()


@pytest.fixture
def api(table: str) -> Api:
    return Api()


@pytest.fixture
def dynamodb(table: str) -> Any:
    return make_client("us-east-1")


@pytest.fixture(scope="module")
def module_api(module_table: str) -> Api:
    return Api()


@pytest.fixture(scope="module")
def module_dynamodb(module_table: str) -> Any:
    return make_client("us-east-1")


@pytest.fixture(scope="module")
def module_no_noise() -> Iterator[None]:
    """The signals' noise off (settings) for a module whose subject is an exact figure."""
    with exact_figures():
        yield
