"""The full listing lifecycle through the real handler: post, read, claim, confirm, complete."""

from __future__ import annotations

from decimal import Decimal

from support import payloads
from support.apigw import Api


def test_listing_lifecycle_from_post_to_claimed_and_completed(api: Api) -> None:
    # Given a grower posts 10 kg of tomatoes
    created = api.post("/listings", payloads.listing(), user="grower")
    assert created.status == 201
    listing_id = created.body["listingId"]
    assert created.header("Location") == f"/listings/{listing_id}"
    assert created.etag == '"1"'
    assert created.body["status"] == "active"
    assert created.body["location"]["exact"] is True

    # When a searcher claims 4 kg and 6 kg
    first = api.post(f"/listings/{listing_id}/claims", {"quantity": 4}, user="searcher")
    second = api.post(f"/listings/{listing_id}/claims", {"quantity": 6}, user="other")
    assert (first.status, second.status) == (201, 201)
    assert first.body["status"] == "pending"
    assert first.body["ownerId"] == "grower"

    # Then pending claims do not touch the remaining quantity
    assert Decimal(str(api.get(f"/listings/{listing_id}").body["quantityRemaining"])) == 10

    # When the grower confirms both
    for claim in (first, second):
        confirmed = api.patch(
            f"/claims/{claim.body['claimId']}",
            {"status": "confirmed"},
            user="grower",
            headers={"If-Match": claim.etag},
        )
        assert confirmed.status == 200, confirmed.body
        assert confirmed.body["status"] == "confirmed"

    # Then nothing remains and the listing is claimed
    listing = api.get(f"/listings/{listing_id}", user="grower").body
    assert Decimal(str(listing["quantityRemaining"])) == 0
    assert listing["status"] == "claimed"
    assert listing["version"] == 3

    # When one claimer does not show up, the quantity comes back and the listing is active
    no_show = api.patch(
        f"/claims/{second.body['claimId']}",
        {"status": "no_show"},
        user="grower",
        headers={"If-Match": '"2"'},
    )
    assert no_show.status == 200
    listing = api.get(f"/listings/{listing_id}").body
    assert Decimal(str(listing["quantityRemaining"])) == 6
    assert listing["status"] == "active"

    # When the first claim is collected and the grower completes the listing
    done = api.patch(
        f"/claims/{first.body['claimId']}",
        {"status": "completed"},
        user="searcher",
        headers={"If-Match": '"2"'},
    )
    assert done.status == 200
    current = api.get(f"/listings/{listing_id}", user="grower")
    completed = api.patch(
        f"/listings/{listing_id}",
        {"status": "completed"},
        user="grower",
        headers={"If-Match": current.etag},
    )
    assert completed.status == 200
    assert completed.body["status"] == "completed"

    # Then a completed listing accepts no more claims and no further transitions
    late = api.post(f"/listings/{listing_id}/claims", {"quantity": 1}, user="late")
    assert late.status == 409
    reopen = api.patch(
        f"/listings/{listing_id}",
        {"status": "cancelled"},
        user="grower",
        headers={"If-Match": completed.etag},
    )
    assert reopen.status == 409
    assert reopen.body["type"].endswith("illegal-transition")

    # And both parties see the claims in /me/claims
    made = api.get("/me/claims?role=made", user="searcher").body["items"]
    received = api.get("/me/claims?role=received", user="grower").body["items"]
    assert [c["claimId"] for c in made] == [first.body["claimId"]]
    assert {c["claimId"] for c in received} == {first.body["claimId"], second.body["claimId"]}


def test_owner_updates_quantity_window_and_notes_with_if_match(api: Api) -> None:
    created = api.post("/listings", payloads.listing(), user="grower")
    listing_id = created.body["listingId"]
    updated = api.patch(
        f"/listings/{listing_id}",
        {"quantity": 12.5, "availableUntil": payloads.at(9), "notes": None},
        user="grower",
        headers={"If-Match": created.etag},
    )
    assert updated.status == 200, updated.body
    assert Decimal(str(updated.body["quantityTotal"])) == Decimal("12.5")
    assert Decimal(str(updated.body["quantityRemaining"])) == Decimal("12.5")
    assert "notes" not in updated.body or updated.body["notes"] is None
    assert updated.etag == '"2"'


def test_cancelled_listing_leaves_the_feed_and_shows_cancelled(api: Api) -> None:
    created = api.post("/listings", payloads.listing(), user="grower")
    listing_id = created.body["listingId"]
    feed = "/feed?lat=52.52&lon=13.405&radiusKm=5"  # in range by its published point (~2.3 km away)
    assert [i["listingId"] for i in api.get(feed, user="x").body["items"]] == [listing_id]
    cancelled = api.delete(f"/listings/{listing_id}", user="grower")
    assert cancelled.status == 200
    assert cancelled.body["status"] == "cancelled"
    assert api.get(feed, user="x").body["items"] == []


def test_request_lifecycle_open_to_closed(api: Api) -> None:
    created = api.post("/requests", payloads.request(), user="family")
    assert created.status == 201, created.body
    request_id = created.body["requestId"]
    matched = api.patch(
        f"/requests/{request_id}",
        {"status": "matched"},
        user="family",
        headers={"If-Match": created.etag},
    )
    assert matched.status == 200
    closed = api.patch(
        f"/requests/{request_id}",
        {"status": "closed"},
        user="family",
        headers={"If-Match": matched.etag},
    )
    assert closed.body["status"] == "closed"
    mine = api.get("/me/requests", user="family").body
    assert [r["requestId"] for r in mine["items"]] == [request_id]
    assert mine["nextCursor"] is None


def test_profile_created_then_updated_with_if_match(api: Api) -> None:
    blank = api.get("/me", user="ana", tier="pro")
    assert blank.status == 200
    assert blank.body["version"] == 0
    assert blank.body["tier"] == "pro"
    saved = api.put(
        "/me",
        {"displayName": "Ana", "homeLocation": {"lat": 41.38, "lon": 2.17}, "shareRadiusKm": 8},
        user="ana",
        tier="pro",
    )
    assert saved.status == 200, saved.body
    assert saved.body["homeLocation"]["geohash"].startswith("sp3e")
    again = api.put("/me", {"displayName": "Ana M"}, user="ana")
    assert again.status == 428
    updated = api.put("/me", {"displayName": "Ana M"}, user="ana", headers={"If-Match": saved.etag})
    assert updated.status == 200
    assert updated.body["displayName"] == "Ana M"
    assert updated.body["version"] == 2
