"""Which DynamoDB engine the integration suite runs on (HARVEST_TEST_ENGINE)."""

from __future__ import annotations

import os

ENGINE = os.environ.get("HARVEST_TEST_ENGINE", "moto")
if ENGINE not in {"moto", "dynamodb-local"}:
    raise RuntimeError(f"HARVEST_TEST_ENGINE must be moto or dynamodb-local, not {ENGINE!r}")
