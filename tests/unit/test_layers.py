"""Lower layers never import upper ones: domain <- store <- services <- api, consumers <- cli."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "harvest"
RANK = {
    "domain": 0,
    "store": 1,
    "services": 2,
    "api": 3,
    "consumers": 3,
    "tools": 4,
    "local": 4,
    "cli": 5,
}
MAX_MODULE_LINES = 400


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "harvest" and parts[1] in RANK else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


MODULES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_module_imports_only_its_own_or_lower_layers(path: Path) -> None:
    own = path.relative_to(SRC).parts[0]
    if own not in RANK:
        return
    upward = [
        module
        for module in _imports(path)
        if (layer := _layer(module)) is not None and RANK[layer] > RANK[own]
    ]
    assert upward == [], f"{path.relative_to(SRC)} imports a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(SRC)) for p in MODULES])
def test_module_stays_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_MODULE_LINES, f"{path.relative_to(SRC)} has {lines} lines"
