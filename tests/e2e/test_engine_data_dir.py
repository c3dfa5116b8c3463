"""DynamoDB Local starts on `harvest serve`'s default data dir, a path relative to where the
command runs (the JVM itself runs in the jar's directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.local.engines import DynamoDbLocalEngine
from harvest.store.dynamo import make_client


def test_dynamodb_local_keeps_its_files_under_a_relative_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a working directory and serve's default, relative, data dir
    monkeypatch.chdir(tmp_path)
    engine = DynamoDbLocalEngine(data_dir=Path(".harvest") / "dynamodb-local")
    # When the engine starts (it waits until DynamoDB Local answers, or fails)
    engine.start()
    try:
        # Then it answers, and keeps its table's file under that directory
        client = make_client("us-east-1", engine.endpoint_url)
        client.create_table(
            TableName="probe",
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert client.list_tables()["TableNames"] == ["probe"]
    finally:
        engine.stop()
    assert list((tmp_path / ".harvest" / "dynamodb-local").glob("*.db"))
