"""Generates the typed Python client of the API from the checked-in contract.

    .venv/bin/python scripts/generate_client.py          # rewrite tests/harvest_client
    .venv/bin/python scripts/generate_client.py --check  # exit 1 when it is out of date

openapi-python-client (a pinned dev dependency) reads schemas/openapi.json and writes the
package `harvest_client` (attrs models, httpx calls, one module per operation, named by its
operationId); the project's ruff then formats it so a contract change reads as a small diff.
The package is checked in under tests/ because the end-to-end suite drives the API through
it: a contract change that the client does not follow fails the drift test
(tests/unit/test_generated_client.py), and one the code does not follow fails the flows.
`make schemas` regenerates the document and then this client; `make client` only the client.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "schemas" / "openapi.json"
PACKAGE = "harvest_client"
TARGET = ROOT / "tests" / PACKAGE
# post_hooks: none of the generator's own (they run whatever ruff is on PATH); ours follow.
CONFIG = f"package_name_override: {PACKAGE}\npost_hooks: []\n"


def generate(into: Path) -> Path:
    """The package as the document generates it today, under `into`."""
    config = into / "config.yaml"
    config.write_text(CONFIG)
    package = into / PACKAGE
    generator = [sys.executable, "-m", "openapi_python_client", "generate"]
    options = ["--path", str(DOCUMENT), "--meta", "none", "--output-path", str(package)]
    subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [*generator, *options, "--config", str(config), "--fail-on-warning"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ruff = [sys.executable, "-m", "ruff", "format", "--quiet", "--isolated"]
    subprocess.run([*ruff, "--line-length", "100", str(package)], check=True)  # noqa: S603
    return package


def files(package: Path) -> set[Path]:
    return {
        path.relative_to(package)
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def differences(fresh: Path, checked_in: Path) -> list[str]:
    """Relative paths that are missing, extra or changed in `checked_in`."""
    expected, present = files(fresh), files(checked_in) if checked_in.exists() else set()
    changed = {
        path
        for path in expected & present
        if not filecmp.cmp(fresh / path, checked_in / path, shallow=False)
    }
    return sorted(str(path) for path in (expected ^ present) | changed)


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    if argv and not check:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="harvest-client-") as scratch:
        fresh = generate(Path(scratch))
        stale = differences(fresh, TARGET)
        if check:
            if stale:
                print(f"{TARGET.relative_to(ROOT)} is not what {DOCUMENT.name} generates:")
                print("\n".join(f"  {path}" for path in stale))
                print("run `make client` (or `make schemas`) and commit the result")
                return 1
            return 0
        if stale:
            shutil.rmtree(TARGET, ignore_errors=True)
            shutil.copytree(fresh, TARGET, ignore=shutil.ignore_patterns("__pycache__"))
        print(f"{TARGET.relative_to(ROOT)}: {len(stale)} file(s) written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
