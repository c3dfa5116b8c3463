"""The generated client (tests/harvest_client) is what schemas/openapi.json generates today,
and has a call for every operation of the document: the end-to-end flows that use it
(tests/e2e/test_generated_client_flows.py) then break on any contract drift."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import harvest_client.api as operations_package

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_client.py"
DOCUMENT = json.loads((ROOT / "schemas" / "openapi.json").read_text(encoding="utf-8"))


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_client", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def test_the_checked_in_client_is_what_the_document_generates() -> None:
    result = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_drift_check_names_a_changed_a_missing_and_an_extra_file(tmp_path: Path) -> None:
    generator = _generator()
    fresh = generator.generate(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(fresh, copy)
    assert generator.differences(fresh, copy) == []

    (copy / "client.py").write_text("# edited by hand\n")
    (copy / "models" / "listing_out.py").unlink()
    (copy / "models" / "stale_model.py").write_text("")

    assert generator.differences(fresh, copy) == [
        "client.py",
        "models/listing_out.py",
        "models/stale_model.py",
    ]


def test_every_operation_of_the_document_has_a_call_under_its_tag() -> None:
    expected = {
        (operation["tags"][0], _snake(operation["operationId"]))
        for path_item in DOCUMENT["paths"].values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    package = Path(str(operations_package.__file__)).parent
    modules = {
        (path.parent.name, path.stem) for path in package.glob("*/*.py") if path.stem != "__init__"
    }

    assert len(expected) >= 20
    assert modules == expected
