"""Pins what dynamodb_json.json_util.loads does (DESIGN §2), and that our exact plain view
does not share its losses. `harvest export-plain` relies on the former, `harvest query --plain`
on the latter."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dynamodb_json import json_util

from harvest.cli import sample
from harvest.cli.main import main
from harvest.cli.output import plain, plain_json_line, plain_number
from harvest.store.dynamo import serialize

SAMPLE_FILE = Path(__file__).resolve().parents[2] / "schemas" / "sample-data.jsonl"


def loads(image: dict[str, Any]) -> Any:
    return json_util.loads(image, as_dict=True)


def test_fractional_numbers_become_floats_and_lose_digits() -> None:
    decoded = loads({"q": {"N": "2.5"}, "long": {"N": "0.12345678901234567890123"}})

    assert decoded["q"] == 2.5
    assert isinstance(decoded["q"], float)
    assert decoded["long"] == 0.12345678901234568  # digits past double precision are gone


def test_integral_numbers_become_exact_ints() -> None:
    decoded = loads({"n": {"N": "10"}, "big": {"N": "12345678901234567890123"}})

    assert decoded == {"n": 10, "big": 12345678901234567890123}


def test_numbers_it_cannot_parse_stay_type_tagged() -> None:
    assert loads({"e": {"N": "1e3"}, "dot": {"N": ".5"}}) == {"e": {"N": "1e3"}, "dot": {"N": ".5"}}


def test_number_sets_come_back_as_sets_of_strings() -> None:
    assert loads({"ns": {"NS": ["1", "2.5"]}}) == {"ns": {"1", "2.5"}}


def test_naive_timestamp_strings_become_datetimes_but_ours_stay_strings() -> None:
    decoded = loads(
        {"naive": {"S": "2026-05-01T08:00:00.000"}, "ours": {"S": "2026-05-01T08:00:00.000Z"}}
    )

    assert decoded["naive"] == datetime(2026, 5, 1, 8, 0)  # naive: no tz info survives
    assert decoded["ours"] == "2026-05-01T08:00:00.000Z"


def test_map_keyed_by_a_type_tag_decodes_wrongly() -> None:
    # A map {"S": "x"} is indistinguishable from a string attribute once its inner value decoded.
    assert loads({"m": {"M": {"S": {"S": "x"}}}}) == {"m": "x"}
    # ... and its other keys are silently dropped.
    assert loads({"m": {"M": {"S": {"S": "x"}, "other": {"S": "y"}}}}) == {"m": "x"}


def test_sample_items_decode_with_floats_for_fractional_quantities() -> None:
    basil = next(i for i in sample.sample_items() if i["PK"] == "LISTING#lst-ben-basil")

    decoded = loads(serialize(basil))

    assert decoded["quantityTotal"] == 12.5
    assert isinstance(decoded["quantityTotal"], float)
    assert decoded["version"] == 1
    assert decoded["createdAt"] == basil["createdAt"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("10"), 10),
        (Decimal("2.50"), 2.5),
        (Decimal("52.3906"), 52.3906),
        (Decimal("1E+2"), 100),
        (Decimal("12345678901234567890123"), 12345678901234567890123),
        (Decimal("0.12345678901234567890123"), "0.12345678901234567890123"),
    ],
)
def test_plain_numbers_keep_every_digit(value: Decimal, expected: int | float | str) -> None:
    converted = plain_number(value)

    assert converted == expected
    assert type(converted) is type(expected)
    assert Decimal(str(converted)) == value


def test_plain_json_line_nests_maps_and_lists() -> None:
    item = {"m": {"lat": Decimal("52.52")}, "l": [Decimal(1), "a"], "s": {"b", "a"}}

    assert json.loads(plain_json_line(item)) == {
        "m": {"lat": 52.52},
        "l": [1, "a"],
        "s": ["a", "b"],
    }
    assert plain("text") == "text"


def test_export_plain_converts_the_sample_file(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export-plain", str(SAMPLE_FILE)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(lines) == len(SAMPLE_FILE.read_text(encoding="utf-8").splitlines())
    first = json.loads(lines[0])
    assert first["PK"] == "USER#grower-ana"
    assert first["homeLocation"] == {"lat": 52.52, "lon": 13.405, "geohash": "u33dc0c"}


def test_export_plain_unwraps_s3_export_lines_and_formats_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export.json"
    lines = [
        json.dumps({"Item": {"PK": {"S": "X#1"}, "at": {"S": "2026-05-01T08:00:00.000"}}}),
        "",
        json.dumps({"PK": {"S": "X#2"}, "n": {"N": "7"}}),
    ]
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = main(["export-plain", str(export)])

    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert out == [{"PK": "X#1", "at": "2026-05-01T08:00:00"}, {"PK": "X#2", "n": 7}]


def test_export_plain_rejects_a_line_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "broken.jsonl"
    export.write_text('{"PK": {"S": "X#1"}}\nnot json\n', encoding="utf-8")

    code = main(["export-plain", str(export)])

    assert code == 1
    assert "line 2 is not JSON" in capsys.readouterr().err


def test_export_plain_help_says_it_is_lossy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-plain", "--help"]) == 0

    assert "LOSSY" in capsys.readouterr().out
