"""Shared fixtures: fake AWS credentials everywhere, a moto table built from template.yaml,
and a client that drives the real Lambda handler with API Gateway REST proxy events."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import botocore.loaders
import botocore.session
import pytest
from hypothesis import HealthCheck, settings

from harvest.local import moto_json

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# moto's mock_aws() drops boto3's default session on every start, so each test's first client
# built a new botocore session that parsed the service and endpoint JSON again: 0.25 s per
# test table, 0.11 s with one loader (and its cache of those read-only files) per process.
botocore.session.create_loader = functools.cache(botocore.loaders.create_loader)

# moto answers item calls as the local runtime's engine does (harvest.local.moto_json: the
# same answers, without a third of the suite's time spent walking response shapes).
moto_json.install()


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in the suite may reach real AWS, whatever the developer's shell holds.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "1")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "1")
