"""`harvest schemas [--write | --check]`: the generated part of schemas/.

Generated: entities/<type>.schema.json (from harvest.store.items),
events/<detail-type>.schema.json (from harvest.store.event_models), access-patterns.md/.json
(from the registry), sample-data.jsonl and nosql-workbench.json (from the sample data set),
openapi.json (the API's contract, as /openapi.json serves it).
key-design.md is written by hand and only checked for existence here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harvest.cli import CliError
from harvest.cli.catalogue import access_patterns_json, access_patterns_markdown
from harvest.cli.output import dynamodb_json_line
from harvest.cli.sample import sample_items
from harvest.cli.workbench import workbench_json
from harvest.domain.events import DetailType
from harvest.store.event_models import event_json_schema
from harvest.store.item_schemas import item_json_schema
from harvest.store.items import STORED_ITEM_MODELS
from harvest.tools.template import find_template

if TYPE_CHECKING:
    from harvest.cli.context import Context, Subparsers

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENTITIES = "entities"
EVENTS = "events"
# Generated directories: a schema file there that the code no longer makes is stale.
STALE_WHY = {
    ENTITIES: "no stored item model has this type",
    EVENTS: "no domain event has this detail-type",
}
HAND_WRITTEN = ("key-design.md",)
OPENAPI = "openapi.json"


def _document(schema_id: str, schema: dict[str, object]) -> str:
    # A relative $id: resolved against wherever schemas/ is published or checked out.
    document = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": schema_id,
        "title": schema["title"],
        **{name: value for name, value in schema.items() if name != "title"},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def entity_schema(item_type: str) -> str:
    schema = item_json_schema(STORED_ITEM_MODELS[item_type])
    return _document(f"{ENTITIES}/{item_type}.schema.json", schema)


def event_schema(detail_type: DetailType) -> str:
    """The `Detail` of one EventBridge detail-type (envelope + that entity's data)."""
    return _document(f"{EVENTS}/{detail_type.value}.schema.json", event_json_schema(detail_type))


def openapi_json() -> str:
    """The API's OpenAPI document, as /openapi.json serves it."""
    from harvest.api import contract  # noqa: PLC0415 - builds the API app: only here
    from harvest.api.app import app  # noqa: PLC0415

    return contract.json_text(app)


def generate() -> dict[str, str]:
    """Every generated file of schemas/: relative path -> content."""
    items = sample_items()
    files = {
        f"{ENTITIES}/{item_type}.schema.json": entity_schema(item_type)
        for item_type in STORED_ITEM_MODELS
    }
    files |= {
        f"{EVENTS}/{detail_type.value}.schema.json": event_schema(detail_type)
        for detail_type in DetailType
    }
    files["access-patterns.md"] = access_patterns_markdown()
    files["access-patterns.json"] = access_patterns_json()
    files["sample-data.jsonl"] = "".join(dynamodb_json_line(item) + "\n" for item in items)
    files["nosql-workbench.json"] = workbench_json(items)
    files[OPENAPI] = openapi_json()
    return files


def drift(directory: Path, files: dict[str, str]) -> list[str]:
    """Problems between `files` and `directory`: changed, missing or stale generated files."""
    problems = []
    for relative, content in files.items():
        path = directory / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"{relative}: differs from the code")
    for generated, why in STALE_WHY.items():
        if (directory / generated).is_dir():
            problems += [
                f"{generated}/{path.name}: {why} (stale)"
                for path in sorted((directory / generated).glob("*.schema.json"))
                if f"{generated}/{path.name}" not in files
            ]
    problems += [
        f"{name}: missing (written by hand)"
        for name in HAND_WRITTEN
        if not (directory / name).is_file()
    ]
    return problems


def write(directory: Path, files: dict[str, str]) -> list[str]:
    written = []
    for relative, content in files.items():
        path = directory / relative
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(relative)
    return written


def default_directory() -> Path:
    try:
        return find_template().parent / "schemas"
    except FileNotFoundError:
        return Path.cwd() / "schemas"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "schemas",
        help="generate schemas/ (JSON Schemas, access patterns, sample data, Workbench model)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the generated files")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 listing files that drifted from the code"
    )
    parser.add_argument(
        "--dir", type=Path, help="schemas directory (default: next to template.yaml)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    directory: Path = args.dir or default_directory()
    files = generate()
    if args.write:
        for relative in write(directory, files):
            sys.stdout.write(f"wrote {directory / relative}\n")
        return 0
    problems = drift(directory, files)
    for problem in problems:
        sys.stdout.write(f"{problem}\n")
    if problems and args.check:
        raise CliError(f"{len(problems)} file(s) drifted; run `make schemas`")
    if not problems:
        sys.stdout.write(f"{directory}: up to date ({len(files)} generated files)\n")
    return 0
