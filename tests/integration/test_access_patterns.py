"""Every documented access pattern runs against a table seeded with schemas/sample-data.jsonl
and returns exactly the items the sample story says it should."""

from __future__ import annotations

import inspect
import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from harvest.cli import sample
from harvest.cli.main import main
from harvest.store import keys
from harvest.store.access_patterns import ACCESS_PATTERNS, AccessPattern, find
from harvest.store.dynamo import deserialize, make_client, serialize
from harvest.store.item_schemas import pydantic_model
from harvest.store.items import FEED_PROJECTION, IdempotencyItem, ListingItem
from harvest.store.repository import IdempotencyToken, Repository
from harvest.store.table import Item, Table

# What each documented example returns from the sample data set, in the returned order.
EXPECTED: dict[str, list[str]] = {
    "profile_by_user": ["grower-ana"],
    "listing_by_id": ["lst-ana-tomato"],
    # newest first; all statuses (the claimed zucchini listing too)
    "listings_by_owner": ["lst-ana-zucchini", "lst-ana-tomato"],
    # active only, by published cell: Neukoelln (u33d9) before Mitte (u33dc); not Potsdam (u336)
    "live_listings_in_cell": ["lst-ben-apples", "lst-ana-tomato"],
    "request_by_id": ["req-cleo-tomato"],
    "requests_by_owner": ["req-cleo-apples", "req-cleo-tomato"],
    # the matched potato request left the index; the onion request is in Potsdam
    "open_requests_in_cell": ["req-cleo-tomato"],
    "claim_by_id": ["clm-cleo-tomato"],
    "claims_by_claimer": ["clm-cleo-apples", "clm-cleo-tomato"],
    "claims_by_listing_owner": ["clm-dora-zucchini", "clm-dora-tomato", "clm-cleo-tomato"],
    "claims_by_listing": ["clm-dora-tomato", "clm-cleo-tomato"],
    "guidance_by_id": ["gd-ada-tomato"],
    # the partition in key order: published cell (u33d8, u33d9, u33dc), then kind, then id
    "feed_rows": ["req-cleo-tomato", "lst-ben-apples", "lst-ana-tomato"],
    "guidance_by_owner": ["gd-ada-tomato"],
}
# What the FeedIndex projects of an item (store/FEED_PROJECTION plus its keys).
FEED_ROW = {"PK", "SK", "GSI3PK", "GSI3SK", *FEED_PROJECTION}
SAMPLE_BY_PK = {item["PK"]: item for item in sample.sample_items()}
WRITE_PREFIXES = ("create_", "save_")


def item_id(item: Item) -> str:
    # Core PKs are PREFIX#{id}: one rule for every entity type.
    return str(item["PK"]).split("#", 1)[1]


@pytest.fixture
def repository(table: str, dynamodb: Any) -> Repository:
    for item in sample.sample_items():
        dynamodb.put_item(TableName=table, Item=serialize(item))
    return Repository(Table(make_client("us-east-1"), table))


def test_expectations_cover_exactly_the_registry() -> None:
    assert set(EXPECTED) == {pattern.name for pattern in ACCESS_PATTERNS}


@pytest.mark.parametrize("pattern", ACCESS_PATTERNS, ids=lambda pattern: pattern.name)
def test_documented_example_returns_the_expected_items(
    repository: Repository, pattern: AccessPattern
) -> None:
    # Given the sample data set, When the pattern runs with its documented example
    items = pattern.run(repository, **pattern.example_params)

    # Then it returns exactly the expected items, each in its stored shape
    assert [item_id(item) for item in items] == EXPECTED[pattern.name]
    if pattern.index == keys.FEED_INDEX:  # an index row: what the index projects
        stored = [{k: v for k, v in SAMPLE_BY_PK[i["PK"]].items() if k in FEED_ROW} for i in items]
    else:
        stored = [SAMPLE_BY_PK[item["PK"]] for item in items]
    assert items == stored
    assert {item["type"] for item in items} <= set(pattern.returns)


def test_limit_and_before_page_through_received_claims(repository: Repository) -> None:
    pattern = find("claims_by_listing_owner")
    first = pattern.run(repository, ownerId="grower-ana", limit="1")
    assert [item_id(item) for item in first] == ["clm-dora-zucchini"]

    rest = pattern.run(repository, ownerId="grower-ana", before=first[-1]["GSI2SK"])

    assert [item_id(item) for item in rest] == ["clm-dora-tomato", "clm-cleo-tomato"]


def test_documented_before_example_skips_newer_claims(repository: Repository) -> None:
    pattern = find("claims_by_claimer")
    before = next(p.example for p in pattern.params if p.name == "before")

    items = pattern.run(repository, claimerId="searcher-cleo", before=before)

    assert [item_id(item) for item in items] == ["clm-cleo-tomato"]


def test_finer_cell_narrows_the_geo_partition(repository: Repository) -> None:
    items = find("live_listings_in_cell").run(repository, cell="u33dc")

    assert [item_id(item) for item in items] == ["lst-ana-tomato"]


def test_missing_item_is_an_empty_result(repository: Repository) -> None:
    assert find("listing_by_id").run(repository, listingId="lst-nobody-home") == []


def test_registry_names_are_the_repository_read_methods() -> None:
    public = {
        name
        for name, member in inspect.getmembers(Repository, inspect.isfunction)
        if not name.startswith("_")
    }
    reads = {name for name in public if not name.startswith(WRITE_PREFIXES)}

    # A new read method without a documented pattern (or a pattern without a method) fails.
    assert reads == {pattern.name for pattern in ACCESS_PATTERNS}


@pytest.mark.parametrize("pattern", ACCESS_PATTERNS, ids=lambda pattern: pattern.name)
def test_pattern_params_map_onto_the_method_signature(pattern: AccessPattern) -> None:
    signature = inspect.signature(getattr(Repository, pattern.name))
    arguments = {param.argument or param.name: param for param in pattern.params}
    method_params = {name: p for name, p in signature.parameters.items() if name != "self"}

    assert set(arguments) <= set(method_params)
    for name, parameter in method_params.items():
        if parameter.default is inspect.Parameter.empty:
            assert name in arguments, name
            assert arguments[name].required, name


def test_idempotent_create_stores_the_documented_record(table: str, dynamodb: Any) -> None:
    # Given a create with an idempotency token (the record's shape lives in the repository)
    repository = Repository(Table(make_client("us-east-1"), table))
    listing = replace(sample.LISTINGS[0], listing_id="lst-idempotent", version=1)
    token = IdempotencyToken(
        user_id=listing.owner_id,
        key="key-0001",
        request_hash="hash-0001",
        expires_at=int((listing.created_at + timedelta(hours=24)).timestamp()),
        correlation_id="corr-test",
        now=listing.created_at,
    )

    repository.create_listing(listing, token)

    # Then both stored items validate against the published models
    def stored(pk: str, sk: str) -> dict[str, Any]:
        key = serialize({"PK": pk, "SK": sk})
        return deserialize(dynamodb.get_item(TableName=table, Key=key)["Item"])

    record = pydantic_model(IdempotencyItem).model_validate(
        stored("IDEMPOTENCY#grower-ana#key-0001", "IDEMPOTENCY")
    )
    dumped = record.model_dump()
    assert (dumped["entity_type"], dumped["entity_id"]) == ("listing", "lst-idempotent")
    pydantic_model(ListingItem).model_validate(stored("LISTING#lst-idempotent", "LISTING"))


# ---------------------------------------------------------------- the CLI


def _ids_from_dynamodb_json(output: str) -> list[str]:
    deserializer = TypeDeserializer()
    return [
        item_id({name: deserializer.deserialize(value) for name, value in json.loads(line).items()})
        for line in output.splitlines()
    ]


def test_query_prints_dynamodb_json_lines(
    repository: Repository, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["query", "listings_by_owner", "--param", "ownerId=grower-ana", "--table", table])

    out = capsys.readouterr().out
    assert code == 0
    assert _ids_from_dynamodb_json(out) == EXPECTED["listings_by_owner"]
    assert json.loads(out.splitlines()[0])["quantityTotal"] == {"N": "3"}


def test_query_plain_prints_exact_numbers(
    repository: Repository, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["query", "live_listings_in_cell", "-p", "cell=u336", "--table", table, "--plain"])

    [line] = capsys.readouterr().out.splitlines()
    assert code == 0
    basil = json.loads(line)
    assert basil["listingId"] == "lst-ben-basil"
    assert basil["quantityTotal"] == 12.5
    assert basil["lat"] == 52.3906


def test_query_endpoint_url_goes_to_the_client_factory(
    repository: Repository, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, str | None]] = []

    def factory(region: str, endpoint_url: str | None) -> Any:
        calls.append((region, endpoint_url))
        return make_client("us-east-1")  # moto only intercepts AWS hosts

    argv = ["query", "claims_by_listing", "-p", "ownerId=grower-ana", "-p"]
    argv += ["listingId=lst-ana-tomato", "--endpoint-url", "http://127.0.0.1:1"]
    argv += ["--table", table, "--region", "eu-central-1"]
    code = main(argv, client_factory=factory)

    assert code == 0
    assert calls == [("eu-central-1", "http://127.0.0.1:1")]
    assert _ids_from_dynamodb_json(capsys.readouterr().out) == EXPECTED["claims_by_listing"]


def test_query_data_dir_reads_the_runtime_file(
    repository: Repository, table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = {
        "endpointUrl": "http://127.0.0.1:8000",
        "tableName": table,
        "region": "eu-west-1",
        "engine": "moto",
        "state": "running",
        "pid": os.getpid(),
    }
    (tmp_path / "runtime.json").write_text(json.dumps(runtime), encoding="utf-8")
    calls: list[tuple[str, str | None]] = []

    def factory(region: str, endpoint_url: str | None) -> Any:
        calls.append((region, endpoint_url))
        return make_client("us-east-1")

    argv = ["query", "claim_by_id", "-p", "claimId=clm-cleo-apples", "--data-dir", str(tmp_path)]
    code = main(argv, client_factory=factory)

    assert code == 0
    assert calls == [("eu-west-1", "http://127.0.0.1:8000")]
    assert _ids_from_dynamodb_json(capsys.readouterr().out) == ["clm-cleo-apples"]


def test_query_against_a_missing_table_fails_with_exit_1(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["query", "claim_by_id", "-p", "claimId=clm-cleo-apples", "--table", "absent"])

    assert code == 1
    assert "claim_by_id failed on table absent" in capsys.readouterr().err
