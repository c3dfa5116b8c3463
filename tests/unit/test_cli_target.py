"""Which table a CLI command reaches when the user names none, one or another target."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from harvest.cli.main import main
from harvest.local.offline import runtime_noise_key


class ClientRequested(Exception):
    """Raised by the fake factory: the command got as far as building a client."""

    def __init__(self, region: str, endpoint_url: str | None) -> None:
        super().__init__(endpoint_url)
        self.region = region
        self.endpoint_url = endpoint_url


def capture_target(region: str, endpoint_url: str | None) -> NoReturn:
    raise ClientRequested(region, endpoint_url)


def no_client(region: str, endpoint_url: str | None) -> NoReturn:
    raise AssertionError("a usage error must be reported before any client is built")


@pytest.fixture
def inside(tmp_path: Path) -> Iterator[Path]:
    """Run the test with the working directory inside tmp_path/checkout/src/deep."""
    deep = tmp_path / "checkout" / "src" / "deep"
    deep.mkdir(parents=True)
    before = Path.cwd()
    os.chdir(deep)
    try:
        yield tmp_path / "checkout"
    finally:
        os.chdir(before)


def write_runtime(data_dir: Path, endpoint: str, table: str = "harvest-local") -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    document = {"endpointUrl": endpoint, "tableName": table, "engine": "external"}
    (data_dir / "runtime.json").write_text(json.dumps(document), encoding="utf-8")


QUERY = ["query", "claim_by_id", "-p", "claimId=c"]


def test_without_a_target_and_no_runtime_the_command_refuses_before_any_client(
    inside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(QUERY, client_factory=no_client)

    err = capsys.readouterr().err
    assert code == 2
    assert "no local runtime found" in err
    assert "--aws" in err


def test_without_a_target_the_nearest_runtime_of_the_checkout_is_used(inside: Path) -> None:
    write_runtime(inside / ".harvest", "http://127.0.0.1:45123", table="checkout-table")

    with pytest.raises(ClientRequested) as reached:
        main(QUERY, client_factory=capture_target)

    assert reached.value.endpoint_url == "http://127.0.0.1:45123"


def test_aws_flag_reaches_what_boto3_resolves(inside: Path) -> None:
    write_runtime(inside / ".harvest", "http://127.0.0.1:45123")

    with pytest.raises(ClientRequested) as reached:
        main([*QUERY, "--aws", "--region", "eu-west-1"], client_factory=capture_target)

    assert (reached.value.region, reached.value.endpoint_url) == ("eu-west-1", None)


def test_a_table_name_alone_is_an_explicit_remote_target(inside: Path) -> None:
    write_runtime(inside / ".harvest", "http://127.0.0.1:45123")

    with pytest.raises(ClientRequested) as reached:
        main([*QUERY, "--table", "prod-table"], client_factory=capture_target)

    assert reached.value.endpoint_url is None


def test_an_explicit_data_dir_wins_over_the_nearest_runtime(inside: Path, tmp_path: Path) -> None:
    write_runtime(inside / ".harvest", "http://127.0.0.1:45123")
    write_runtime(tmp_path / "other", "http://127.0.0.1:45999")

    with pytest.raises(ClientRequested) as reached:
        main([*QUERY, "--data-dir", str(tmp_path / "other")], client_factory=capture_target)

    assert reached.value.endpoint_url == "http://127.0.0.1:45999"


def test_aws_and_data_dir_together_are_a_usage_error(
    inside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*QUERY, "--aws", "--data-dir", "x"], client_factory=no_client)

    assert code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_events_read_the_nearest_runtime_by_default(
    inside: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_runtime(inside / ".harvest", "http://127.0.0.1:45123")
    (inside / ".harvest" / "events.jsonl").write_text('{"id": "e-1"}\n', encoding="utf-8")

    code = main(["events"], client_factory=no_client)

    assert code == 0
    assert capsys.readouterr().out == '{"id": "e-1"}\n'


def test_a_stopped_runtimes_noise_key_is_used_while_its_data_is_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIGNAL_NOISE_KEY", raising=False)
    (tmp_path / "signal-noise-key").write_text("the-runtimes-key\n", encoding="utf-8")
    # Audit and rebuild must draw the noise the runtime's functions drew.
    with runtime_noise_key(tmp_path):
        assert os.environ["SIGNAL_NOISE_KEY"] == "the-runtimes-key"
    assert "SIGNAL_NOISE_KEY" not in os.environ
    # A key given explicitly wins.
    monkeypatch.setenv("SIGNAL_NOISE_KEY", "explicit")
    with runtime_noise_key(tmp_path):
        assert os.environ["SIGNAL_NOISE_KEY"] == "explicit"
