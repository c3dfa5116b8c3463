"""Lower layers never import upper ones: domain <- store, adapters <- services <- api, consumers
<- tools, local, redrive <- cli; and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "harvest"
RANK = {
    "domain": 0,
    "store": 1,
    "adapters": 1,
    "services": 2,
    "api": 3,
    "consumers": 3,
    "tools": 4,
    "local": 4,
    "redrive": 4,
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


def _module_name(path: Path) -> str:
    parts = ("harvest", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the harvest modules it names in any import (TYPE_CHECKING ones too)."""
    modules = {_module_name(path): path for path in MODULES}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom) and node.module in modules:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    found.add(submodule if submodule in modules else node.module)
        graph[name] = found - {name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph[module]):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = {stack.pop()}
            while module not in component:
                component.add(stack.pop())
            if len(component) > 1:
                circles.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return circles


# Issue 12 rewrites the local runtime's pollers; this circle goes with that rewrite.
KNOWN_CIRCLES: list[set[str]] = []


def test_no_module_imports_itself_back_through_others() -> None:
    circles = [c for c in _circles(_import_graph()) if c not in KNOWN_CIRCLES]
    assert circles == [], f"import circles: {[sorted(c) for c in circles]}"


def test_the_circle_finder_finds_a_circle_through_three_modules() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [{"a", "b", "c"}]
