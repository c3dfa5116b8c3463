"""The Lambda functions ship the runtime dependencies of pyproject.toml and nothing else
(`uv export --no-dev` without extras, Makefile build-*): every third-party module a handler
imports must come from them, and a package only the CLI or the local runtime uses belongs
in the `cli` extra instead."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from harvest.tools.template import load_template

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "harvest"
# What the functions import from harvest: everything but the command line and its tools.
LAMBDA_LAYERS = ("domain", "store", "adapters", "services", "api", "consumers")
CLI_ONLY = {"dynamodb-json", "pyyaml", "websockets"}
# Imported when installed and done without otherwise: botocore's `try: import certifi` (its
# own CA bundle on Lambda).
OPTIONAL = {"certifi"}

# Run in a fresh interpreter: the third-party top-level modules the import loaded.
LOADED = """
import importlib, json, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
top = {name.split(".")[0] for name in set(sys.modules) - before}
print(json.dumps(sorted(top - set(sys.stdlib_module_names) - {"harvest"})))
"""


def _project() -> dict[str, list[str]]:
    document = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = document["project"]
    return {"runtime": project["dependencies"], **project.get("optional-dependencies", {})}


@cache
def _runtime_closure() -> frozenset[str]:
    """The runtime dependencies and everything they require, by name: a package's
    requirements without extras, plus those of the extras it is required with (as
    `pyjwt[crypto]` brings `cryptography`)."""
    found: set[tuple[str, str]] = set()
    todo = [Requirement(text) for text in _project()["runtime"]]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in found:
                continue
            found.add((name, extra))
            for text in importlib.metadata.requires(name) or []:
                needed = Requirement(text)
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    todo.append(needed)
    return frozenset(name for name, _ in found)


def _distributions(modules: list[str]) -> dict[str, set[str]]:
    """Top-level module -> the distributions that provide it (installed in this venv)."""
    providers = importlib.metadata.packages_distributions()
    return {module: {canonicalize_name(d) for d in providers.get(module, [])} for module in modules}


def _outside_runtime(modules: list[str]) -> dict[str, set[str]]:
    """The modules no runtime dependency provides; an unprovided `_name` is the interpreter's
    own (`__mp_main__`, `_distutils_hack`)."""
    return {
        module: providers
        for module, providers in _distributions(modules).items()
        if not providers & _runtime_closure()
        and module not in OPTIONAL
        and (providers or not module.startswith("_"))
    }


def _handler_modules() -> list[str]:
    resources = load_template()["Resources"].values()
    handlers = {
        str(resource["Properties"]["Handler"]).rsplit(".", 1)[0]
        for resource in resources
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    return sorted(handlers)


@pytest.mark.parametrize("module", _handler_modules())
def test_a_handler_loads_only_packages_of_the_runtime_dependencies(module: str) -> None:
    # Given a fresh interpreter, when it imports the handler's module
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", LOADED, module],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"POWERTOOLS_TRACE_DISABLED": "1", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    loaded: list[str] = json.loads(done.stdout)
    # Then every third-party module it loaded comes from a runtime dependency
    assert loaded, f"{module} loaded no third-party module at all: is the probe broken?"
    assert _outside_runtime(loaded) == {}, f"{module} loads packages the Lambda lacks"


def _third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"harvest", "__future__"}


def test_no_lambda_module_imports_a_package_outside_the_runtime_dependencies() -> None:
    # Function-level imports too (the SSM parameters, imported on first use), which a fresh
    # import of the handler does not reach. TYPE_CHECKING-only stubs are not shipped.
    stubs = {"mypy_boto3_dynamodb", "mypy_boto3_dynamodbstreams", "mypy_boto3_events"}
    imported: dict[str, str] = {}
    for layer in LAMBDA_LAYERS:
        for path in sorted((SRC / layer).rglob("*.py")):
            for module in _third_party_imports(path) - stubs:
                imported.setdefault(module, str(path.relative_to(SRC)))
    outside = _outside_runtime(sorted(imported))
    assert outside == {}, {module: imported[module] for module in outside}


def test_cli_only_packages_are_an_extra_not_a_runtime_dependency() -> None:
    groups = {
        group: {canonicalize_name(Requirement(text).name) for text in requirements}
        for group, requirements in _project().items()
    }
    assert groups["runtime"].isdisjoint(CLI_ONLY)
    assert groups["cli"] >= CLI_ONLY


def test_the_probe_sees_a_package_outside_the_runtime_dependencies() -> None:
    # yaml is what harvest.tools.template (the CLI's template reader) loads.
    assert _outside_runtime(["yaml", "boto3"]) == {"yaml": {"pyyaml"}}
