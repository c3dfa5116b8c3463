"""`harvest serve`'s options: what a user types is checked before anything starts."""

from __future__ import annotations

import pytest

from harvest.cli.main import build_parser
from harvest.local.options import SERVE_API_PROCESSES


def test_serve_runs_four_api_processes_unless_told_otherwise() -> None:
    assert build_parser().parse_args(["serve"]).api_processes == SERVE_API_PROCESSES == 4
    assert build_parser().parse_args(["serve", "--api-processes", "2"]).api_processes == 2


@pytest.mark.parametrize("given", ["0", "-1", "two", "1.5"])
def test_a_process_count_below_one_or_not_a_number_is_refused(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["serve", "--api-processes", given])

    assert refused.value.code == 2
    assert f"expected a whole number of at least 1, got {given!r}" in capsys.readouterr().err
