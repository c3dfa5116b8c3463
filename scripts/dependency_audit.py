"""pip-audit over exactly what uv.lock pins, with an honest verdict.

    python scripts/dependency_audit.py REQUIREMENTS_FILE

Runs pip-audit (JSON output, hashes required, no pip) and reads its report:
- any known vulnerability: exit 1, each one listed;
- every package checked and clean: exit 0;
- packages that could not be checked (the vulnerability service is unreachable, as on
  machines that only reach a package mirror): listed with the reason, and the run says in
  capitals that it did NOT audit them; exit 0, unless HARVEST_REQUIRE_AUDIT=1 (set it where
  PyPI's or OSV's vulnerability data is reachable), then exit 1.
It never prints "no known vulnerabilities" for packages it could not check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main(requirements: str) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "audit.json"
        command = [
            str(Path(sys.executable).parent / "pip-audit"),
            "--disable-pip",
            "--require-hashes",
            "--progress-spinner", "off",
            "--format", "json",
            "--output", str(report_path),
            "-r", requirements,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not report_path.exists():
            sys.stderr.write(result.stderr)
            sys.stderr.write("pip-audit produced no report\n")
            return 1
        report = json.loads(report_path.read_text(encoding="utf-8"))
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    checked = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixes})"
            )
    print(
        f"pip-audit: {len(dependencies)} pinned packages, {checked} checked, "
        f"{len(vulnerable)} vulnerable, {len(skipped)} could not be checked"
    )
    if vulnerable:
        return 1
    if skipped:
        reasons = sorted({str(d["skip_reason"]).split(":")[0] for d in skipped})
        print(f"NOT AUDITED: {len(skipped)} packages ({'; '.join(reasons)[:300]})")
        if os.environ.get("HARVEST_REQUIRE_AUDIT") == "1":
            return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
