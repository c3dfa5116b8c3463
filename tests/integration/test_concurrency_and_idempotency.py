"""Races and replays: exactly one winner for the last units, replays return the original."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from support import payloads
from support.apigw import Api, ApiResponse


def _race(calls: list[Any]) -> list[ApiResponse]:
    barrier = threading.Barrier(len(calls))
    results: list[ApiResponse | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_two_confirms_racing_for_the_last_units_have_exactly_one_winner(api: Api) -> None:
    # Given 5 kg left and two pending claims of 5 kg each
    listing = api.post("/listings", payloads.listing(quantity=5), user="grower").body
    claims = [
        api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 5}, user=user)
        for user in ("ann", "ben")
    ]
    assert [c.status for c in claims] == [201, 201]

    # When the grower confirms both at the same moment
    outcomes = _race(
        [
            lambda c=claim: api.patch(
                f"/claims/{c.body['claimId']}",
                {"status": "confirmed"},
                user="grower",
                headers={"If-Match": c.etag},
            )
            for claim in claims
        ]
    )

    # Then exactly one is confirmed, the other is refused with 409, nothing is oversold
    assert sorted(o.status for o in outcomes) == [200, 409]
    loser = next(o for o in outcomes if o.status == 409)
    assert loser.body["type"].endswith("insufficient-quantity")
    final = api.get(f"/listings/{listing['listingId']}").body
    assert Decimal(str(final["quantityRemaining"])) == 0
    assert final["status"] == "claimed"
    statuses = sorted(
        api.get(f"/claims/{c.body['claimId']}", user="grower").body["status"] for c in claims
    )
    assert statuses == ["confirmed", "pending"]


def test_many_concurrent_confirms_never_drive_remaining_below_zero(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(quantity=7), user="grower").body
    claims = [
        api.post(f"/listings/{listing['listingId']}/claims", {"quantity": 2}, user=f"u{i}")
        for i in range(6)
    ]
    outcomes = _race(
        [
            lambda c=claim: api.patch(
                f"/claims/{c.body['claimId']}",
                {"status": "confirmed"},
                user="grower",
                headers={"If-Match": c.etag},
            )
            for claim in claims
        ]
    )
    winners = [o for o in outcomes if o.status == 200]
    assert len(winners) == 3  # 3 x 2 kg fit into 7 kg, a fourth would overdraw
    assert all(o.status == 409 for o in outcomes if o.status != 200)
    final = api.get(f"/listings/{listing['listingId']}").body
    assert Decimal(str(final["quantityRemaining"])) == 1


def test_create_replayed_with_the_same_idempotency_key_returns_the_original(
    api: Api, dynamodb: Any, table: str
) -> None:
    body = payloads.listing()
    headers = {"Idempotency-Key": "retry-0001-abcdef"}
    first = api.post("/listings", body, user="grower", headers=headers)
    replay = api.post("/listings", body, user="grower", headers=headers)
    assert (first.status, replay.status) == (201, 201)
    assert replay.body == first.body
    assert replay.header("Idempotent-Replayed") == "true"
    listings = dynamodb.scan(
        TableName=table,
        FilterExpression="#t = :t",
        ExpressionAttributeNames={"#t": "type"},
        ExpressionAttributeValues={":t": {"S": "listing"}},
    )["Items"]
    assert len(listings) == 1


def test_same_idempotency_key_with_a_different_body_is_409(api: Api) -> None:
    headers = {"Idempotency-Key": "retry-0002-abcdef"}
    assert api.post("/listings", payloads.listing(), user="g", headers=headers).status == 201
    other = api.post("/listings", payloads.listing(quantity=99), user="g", headers=headers)
    assert other.status == 409
    assert other.body["type"].endswith("idempotency-key-reused")


def test_client_supplied_id_makes_the_create_idempotent(api: Api) -> None:
    body = payloads.listing(listingId="client-listing-0001")
    first = api.post("/listings", body, user="grower")
    again = api.post("/listings", body, user="grower")
    assert (first.status, again.status) == (201, 201)
    assert again.body["createdAt"] == first.body["createdAt"]
    changed = api.post("/listings", {**body, "quantity": 3}, user="grower")
    assert changed.status == 409
    stolen = api.post("/listings", body, user="someone-else")
    assert stolen.status == 409
    assert stolen.body["type"].endswith("already-exists")


def test_idempotent_claim_replay_does_not_create_a_second_claim(api: Api) -> None:
    listing = api.post("/listings", payloads.listing(), user="grower").body
    url = f"/listings/{listing['listingId']}/claims"
    headers = {"Idempotency-Key": "claim-retry-0001"}
    first = api.post(url, {"quantity": 2}, user="ann", headers=headers)
    second = api.post(url, {"quantity": 2}, user="ann", headers=headers)
    assert first.body["claimId"] == second.body["claimId"]
    assert len(api.get("/me/claims", user="ann").body["items"]) == 1


def test_stale_if_match_is_412_and_names_the_current_version(api: Api) -> None:
    created = api.post("/listings", payloads.listing(), user="grower")
    url = f"/listings/{created.body['listingId']}"
    fresh = api.patch(url, {"notes": "first"}, user="grower", headers={"If-Match": created.etag})
    assert fresh.status == 200
    stale = api.patch(url, {"notes": "second"}, user="grower", headers={"If-Match": created.etag})
    assert stale.status == 412
    assert stale.body["currentVersion"] == 2
    assert stale.etag == '"2"'
    assert api.get(url).body["notes"] == "first"


def test_patch_without_if_match_is_428(api: Api) -> None:
    created = api.post("/listings", payloads.listing(), user="grower")
    response = api.patch(f"/listings/{created.body['listingId']}", {"notes": "x"}, user="grower")
    assert response.status == 428
    assert response.header("Content-Type") == "application/problem+json"
