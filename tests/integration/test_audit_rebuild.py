"""`harvest audit` and `harvest rebuild` on the real table: buckets written by the real
aggregator from items made through the API audit clean; a tampered bucket is reported and a
rebuild (resumable, idempotent) restores it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harvest.cli.main import main
from harvest.consumers import derivation
from harvest.domain.errors import ServiceUnavailable
from harvest.store.buckets import bucket_key, slot
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import deserialize, make_client, serialize
from harvest.store.table import Item
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record

ENDPOINT = "http://127.0.0.1:1"  # ignored: the factory returns the fixture's client


@pytest.fixture(autouse=True)
def fresh_aggregator(table: str) -> Iterator[None]:
    derivation.derivation.reset()
    yield
    derivation.derivation.reset()


def _harvest(command: str, table: str, *extra: str) -> int:
    argv = [command, "--endpoint-url", ENDPOINT, "--table", table, "--segments", "3", *extra]
    return main(argv, client_factory=lambda region, url: make_client("us-east-1"))


def _seed(api: Api, dynamodb: Any, table: str) -> str:
    """Two tomato listings (one fully claimed), a zucchini listing and a request; every
    state delivered to the derivation consumer. Returns the first listing's geohash."""
    pks: list[str] = []
    for user, crop in (("grower-a", "tomato"), ("grower-b", "tomato"), ("grower-a", "zucchini")):
        made = api.post("/listings", payloads.listing(crop=crop, quantity=10), user=user)
        assert made.status == 201, made.body
        pks.append(f"LISTING#{made.body['listingId']}")
    asked = api.post("/requests", payloads.request(quantity=3000, unit="g"), user="searcher")
    assert asked.status == 201, asked.body
    pks.append(f"REQUEST#{asked.body['requestId']}")
    records = [stored_item_record(dynamodb, table, pk, n) for n, pk in enumerate(pks, start=1)]
    claim = api.post(f"/listings/{pks[1].split('#')[1]}/claims", {"quantity": 10}, user="eve")
    assert claim.status == 201, claim.body
    confirmed = api.patch(
        f"/claims/{claim.body['claimId']}",
        {"status": "confirmed"},
        user="grower-b",
        headers={"If-Match": claim.etag},
    )
    assert confirmed.status == 200, confirmed.body
    records.append(stored_item_record(dynamodb, table, pks[1], len(records) + 1))
    assert derivation.handler({"Records": records}, LongContext()) == {"batchItemFailures": []}
    return str(records[0]["dynamodb"]["NewImage"]["geohash"]["S"])


def _derived(dynamodb: Any, table: str) -> dict[tuple[str, str], Item]:
    items = [deserialize(raw) for raw in dynamodb.scan(TableName=table)["Items"]]
    return {(str(i["PK"]), str(i["SK"])): i for i in items if str(i["PK"]).startswith("AGG#")}


def _tamper(dynamodb: Any, table: str, geohash: str) -> str:
    today = datetime.now(UTC).date()
    key = bucket_key(geohash[:5], "tomato", today)
    supply = slot("supply", today)
    dynamodb.update_item(
        TableName=table,
        Key=serialize(key),
        UpdateExpression="SET #supply = :q",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={"#supply": supply},
        ExpressionAttributeValues={":q": {"N": "99"}},
    )
    return f"{key['PK']} {key['SK']}  {supply}  expected=10  actual=99"


def test_audit_finds_a_tampered_bucket_and_rebuild_repairs_it_idempotently(
    api: Api, dynamodb: Any, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    geohash = _seed(api, dynamodb, table)
    assert _harvest("audit", table) == 0, capsys.readouterr()
    clean = capsys.readouterr().out
    assert "compared 4 markers, " in clean
    assert "compared 4 markers, 5 buckets, 4 presences and 3 insights: 0 drifts" in clean
    assert ": 0 drifts" in clean
    before = _derived(dynamodb, table)

    line = _tamper(dynamodb, table, geohash)
    assert _harvest("audit", table) == 1
    assert line in capsys.readouterr().out.splitlines()

    assert _harvest("rebuild", table) == 0
    assert _harvest("audit", table) == 0
    once = _derived(dynamodb, table)
    assert _harvest("rebuild", table) == 0
    twice = _derived(dynamodb, table)
    assert once.keys() == twice.keys() == before.keys()

    def content(items: dict[tuple[str, str], Item]) -> dict[tuple[str, str], Item]:
        skip = {"updatedAt", "correlationId", "createdAt"}
        return {
            key: {
                name: value
                for name, value in item.items()
                if name not in skip and not (name == "version" and key[1] != "MARKER")
            }
            for key, item in items.items()
        }

    assert content(once) == content(twice)
    # Every item is the rebuild's, but an empty presence (absent, left to its TTL).
    kept = [item for item in twice.values() if item.get("live") == {}]
    assert [item["expiresAt"] for item in kept]
    rebuilt = [item for item in twice.values() if item.get("live") != {}]
    assert {item["correlationId"] for item in rebuilt} == {"rebuild"}
    assert all(twice[key]["createdAt"] == before[key]["createdAt"] for key in before)


def test_rebuild_deletes_stray_items_and_resumes_from_its_state_file(
    api: Api,
    dynamodb: Any,
    table: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(api, dynamodb, table)
    # A day bucket as stored before buckets held a week: the rebuild deletes it.
    stray = {"PK": {"S": "AGG#u33dbf#egg"}, "SK": {"S": "DAY#2020-01-01"}, "supply": {"N": "1"}}
    dynamodb.put_item(TableName=table, Item=stray)
    assert _harvest("audit", table) == 1
    state = tmp_path / "rebuild.json"
    monkeypatch.setattr("harvest.tools.rebuild.BATCH", 2)
    calls: list[int] = []
    replace = DerivedRepository.replace

    def interrupted(self: DerivedRepository, items: Any, *args: Any, **kw: Any) -> None:
        calls.append(len(items))
        if len(calls) > 2:
            raise ServiceUnavailable("the table is busy; retry shortly", retry_after_seconds=1)
        replace(self, items, *args, **kw)

    monkeypatch.setattr(DerivedRepository, "replace", interrupted)
    assert _harvest("rebuild", table, "--state", str(state)) == 1
    assert state.exists()
    capsys.readouterr()

    monkeypatch.setattr(DerivedRepository, "replace", replace)
    assert _harvest("rebuild", table, "--state", str(state)) == 0
    captured = capsys.readouterr()
    # The 4 items written before the interruption, plus the insights found already right.
    skipped = re.search(r"skipped (\d+) written before", captured.out)
    assert skipped is not None, captured.out
    assert int(skipped.group(1)) >= 4
    assert "deleted 1" in captured.out
    assert "scanned core" not in captured.err  # every core segment came from the state file
    assert not state.exists()
    assert _harvest("audit", table) == 0
    assert ("AGG#u33dbf#egg", "DAY#2020-01-01") not in _derived(dynamodb, table)


def test_audit_finds_a_stale_insight_and_rebuild_recomputes_it(
    api: Api, dynamodb: Any, table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    geohash = _seed(api, dynamodb, table)
    key = {"PK": {"S": f"INSIGHT#{geohash[:5]}"}, "SK": {"S": "CURRENT"}}
    before = dynamodb.get_item(TableName=table, Key=key)["Item"]
    # A stale computation's figures, as if a guard had failed to stop it.
    dynamodb.update_item(
        TableName=table,
        Key=key,
        # (windows are [[7, 14, 30], row per crop], a row [slug, *w7, *w14, *w30] with each
        # part in STORED_ROW_FIELDS order; the digests are computed from the rows)
        UpdateExpression="SET windows[1] = :stale",
        ExpressionAttributeValues={
            ":stale": {"L": [{"S": "tomato"}] + [{"N": "999"}] * 4 + [{"NULL": True}] * 2}
        },
    )
    capsys.readouterr()
    assert _harvest("audit", table) == 1
    out = capsys.readouterr().out
    assert f"INSIGHT#{geohash[:5]} CURRENT  window 7 as of" in out

    assert _harvest("rebuild", table) == 0
    assert "insights" in capsys.readouterr().out
    assert _harvest("audit", table) == 0
    after = dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert after["windows"] == before["windows"]
    assert int(after["version"]["N"]) == int(before["version"]["N"]) + 1
    assert after["correlationId"]["S"] == "rebuild"
