"""`harvest query` argument handling and the registry's lookups: nothing here reaches a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest

from harvest.cli.main import main
from harvest.store.access_patterns import ACCESS_PATTERNS, ParamError, find


def no_client(region: str, endpoint_url: str | None) -> NoReturn:
    raise AssertionError("a usage error must be reported before any client is built")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv, client_factory=no_client)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_prints_every_pattern_with_its_index(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["query", "--list"], capsys)

    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [p.name for p in ACCESS_PATTERNS]
    assert "GeoIndex" in next(line for line in lines if line.startswith("claims_by_listing "))


def test_unknown_pattern_exits_2_and_suggests_a_close_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(["query", "listing_by_owner", "-p", "ownerId=x"], capsys)

    assert (code, out) == (2, "")
    assert "unknown access pattern 'listing_by_owner'" in err
    assert "listings_by_owner" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "claim_by_id"], "missing parameter claimId"),
        (["query", "claim_by_id", "-p", "claimId=c", "-p", "colour=red"], "unknown parameter"),
        (["query", "listings_by_owner", "-p", "ownerId=a", "-p", "limit=many"], "integer"),
        (["query", "listings_by_owner", "-p", "ownerId=a", "-p", "limit=0"], "at least 1"),
        (["query", "claim_by_id", "-p", "claimId"], "NAME=VALUE"),
        (["query", "claim_by_id", "-p", "claimId=a", "-p", "claimId=b"], "given twice"),
        (["query"], "give a PATTERN"),
    ],
)
def test_bad_parameters_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)

    assert (code, out) == (2, "")
    assert message in err


def test_data_dir_without_runtime_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["query", "claim_by_id", "-p", "claimId=c", "--data-dir", str(tmp_path)]

    code, _, err = run(argv, capsys)

    assert code == 2
    assert f"{tmp_path / 'runtime.json'} does not exist" in err


def test_data_dir_with_an_incomplete_runtime_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "runtime.json").write_text('{"endpointUrl": "http://x"}', encoding="utf-8")
    argv = ["query", "claim_by_id", "-p", "claimId=c", "--data-dir", str(tmp_path)]

    code, _, err = run(argv, capsys)

    assert code == 2
    assert "tableName" in err


def test_endpoint_url_and_data_dir_are_exclusive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["query", "claim_by_id", "-p", "claimId=c", "--endpoint-url", "http://x"]

    code, _, err = run([*argv, "--data-dir", str(tmp_path)], capsys)

    assert code == 2
    assert "not allowed with" in err


def test_find_returns_the_named_pattern() -> None:
    assert find("claims_by_listing").index == "GeoIndex"


def test_find_raises_key_error_with_close_matches() -> None:
    with pytest.raises(KeyError, match="did you mean claims_by_claimer"):
        find("claims_by_claimr")


def test_bind_names_every_problem_at_once() -> None:
    with pytest.raises(ParamError) as raised:
        find("claims_by_listing").bind({"listing": "x"})

    message = str(raised.value)
    assert "unknown parameter listing" in message
    assert "missing parameter ownerId" in message
    assert "missing parameter listingId" in message


def test_bind_parses_integers() -> None:
    bound: dict[str, Any] = find("listings_by_owner").bind({"ownerId": "a", "limit": " 5 "})

    assert bound == {"ownerId": "a", "limit": 5}


def test_every_pattern_documents_examples_for_all_params() -> None:
    for pattern in ACCESS_PATTERNS:
        assert pattern.description, pattern.name
        assert pattern.key_condition, pattern.name
        assert all(param.example and param.description for param in pattern.params)
        assert pattern.example_params, pattern.name
