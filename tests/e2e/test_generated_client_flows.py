"""The listing, claim and feed flows of a client team, through the client generated from the
checked-in contract (tests/harvest_client, `make client`), over HTTP against the local runtime
(API Gateway + Cognito emulation in front of the real handler).

The client parses every answer into the model the document gives for its status and raises on
a status the document does not list, so a route that drifts from schemas/openapi.json (a
renamed or missing field, an undocumented error) fails here, and a document that drifts from
what the client was generated from fails tests/unit/test_generated_client.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harvest_client.api.claims import create_claim, get_claim, my_claims, transition_claim
from harvest_client.api.feed import feed
from harvest_client.api.health import health
from harvest_client.api.listings import (
    cancel_listing,
    create_listing,
    get_listing,
    my_listings,
    update_listing,
)
from harvest_client.api.requests import create_request
from harvest_client.models import (
    ClaimCollection,
    ClaimCreate,
    ClaimOut,
    ClaimRole,
    ClaimStatus,
    ClaimUpdate,
    ClaimUpdateStatus,
    FeedCollection,
    FeedKindType0,
    Health,
    ListingCollection,
    ListingCreate,
    ListingFeedItem,
    ListingOut,
    ListingStatus,
    ListingUpdate,
    PointIn,
    Problem,
    RequestCreate,
    RequestFeedItem,
    RequestOut,
)
from harvest_client.types import UNSET, Unset
from support.generated import Clients, generated_clients, parsed
from support.runtime import running_runtime

BERLIN = PointIn(lat=52.52, lon=13.405)


def _listing(kilos: float, *, crop: str = "tomato", at: PointIn = BERLIN) -> ListingCreate:
    now = datetime.now(UTC)
    return ListingCreate(
        crop=crop,
        quantity=kilos,
        unit="kg",
        available_from=now - timedelta(days=1),
        available_until=now + timedelta(days=7),
        location=PointIn(lat=at.lat, lon=at.lon),
        notes="ripe, pick up at the gate",
    )


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[Clients]:
    with running_runtime(tmp_path / "data") as (_, http), generated_clients(http) as made:
        yield made


def test_a_listing_is_created_read_revalidated_updated_and_cancelled(clients: Clients) -> None:
    grower, neighbour = clients.signed_in("grower"), clients.signed_in("neighbour")
    assert parsed(health.sync_detailed(client=clients.anonymous()), 200, Health).status == "ok"

    # Given a grower posts 10 kg of tomatoes
    created = create_listing.sync_detailed(client=grower, body=_listing(10))
    listing = parsed(created, 201, ListingOut)
    assert (listing.crop, listing.quantity_total, listing.quantity_remaining) == (
        "tomato",
        10,
        10,
    )
    assert listing.status is ListingStatus.ACTIVE
    assert listing.location.exact
    assert (listing.location.lat, listing.location.lon) == (BERLIN.lat, BERLIN.lon)
    assert created.headers["ETag"] == f'"{listing.version}"'

    # When its owner reads it again with the ETag, Then it is a 304; a neighbour gets the cell
    read = get_listing.sync_detailed(listing.listing_id, client=grower)
    assert parsed(read, 200, ListingOut) == listing
    unchanged = get_listing.sync_detailed(
        listing.listing_id, client=grower, if_none_match=read.headers["ETag"]
    )
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    seen = parsed(get_listing.sync_detailed(listing.listing_id, client=neighbour), 200, ListingOut)
    assert not seen.location.exact
    assert (seen.location.lat, seen.location.lon) != (BERLIN.lat, BERLIN.lon)

    # When the owner updates it without If-Match, then with a stale one, then the current one
    stale = f'"{listing.version + 5}"'
    change = ListingUpdate(quantity=12, notes="more came in")
    refused = update_listing.sync_detailed(
        listing.listing_id, client=grower, body=change, if_match=stale
    )
    assert parsed(refused, 412, Problem).current_version == listing.version
    updated = parsed(
        update_listing.sync_detailed(
            listing.listing_id, client=grower, body=change, if_match=read.headers["ETag"]
        ),
        200,
        ListingOut,
    )
    assert (updated.quantity_total, updated.notes, updated.version) == (
        12,
        "more came in",
        listing.version + 1,
    )
    mine = parsed(my_listings.sync_detailed(client=grower), 200, ListingCollection)
    assert [item.listing_id for item in mine.items] == [listing.listing_id]

    # And a neighbour may not cancel it; its owner may
    forbidden = cancel_listing.sync_detailed(
        listing.listing_id, client=neighbour, if_match=f'"{updated.version}"'
    )
    assert parsed(forbidden, 403, Problem).status == 403
    cancelled = cancel_listing.sync_detailed(
        listing.listing_id, client=grower, if_match=f'"{updated.version}"'
    )
    assert parsed(cancelled, 200, ListingOut).status is ListingStatus.CANCELLED


def test_bad_input_comes_back_as_a_typed_problem_and_writes_nothing(clients: Clients) -> None:
    grower = clients.signed_in("grower")

    unknown = create_listing.sync_detailed(client=grower, body=_listing(3, crop="tomatoe"))

    problem = parsed(unknown, 422, Problem)
    assert problem.type_.endswith("/unknown-crop")
    assert "tomato" in (problem.suggestions or [])
    empty = parsed(my_listings.sync_detailed(client=grower), 200, ListingCollection)
    assert empty.items == []


def test_a_claim_is_made_confirmed_and_completed_by_its_two_parties(clients: Clients) -> None:
    grower, searcher = clients.signed_in("grower"), clients.signed_in("searcher")
    listing = parsed(
        create_listing.sync_detailed(client=grower, body=_listing(10)), 201, ListingOut
    )

    # Given a searcher claims 4 of the 10 kg
    made = create_claim.sync_detailed(
        listing.listing_id, client=searcher, body=ClaimCreate(quantity=4, note="after work")
    )
    claim = parsed(made, 201, ClaimOut)
    assert (claim.status, claim.quantity, claim.unit) == (ClaimStatus.PENDING, 4, "kg")
    assert (claim.claimer_id, claim.owner_id) == ("searcher", "grower")
    too_much = create_claim.sync_detailed(
        listing.listing_id, client=searcher, body=ClaimCreate(quantity=11)
    )
    assert parsed(too_much, 409, Problem).status == 409

    # When the searcher tries to confirm it, Then only the owner may
    confirm = ClaimUpdate(status=ClaimUpdateStatus.CONFIRMED)
    by_searcher = transition_claim.sync_detailed(
        claim.claim_id, client=searcher, body=confirm, if_match=made.headers["ETag"]
    )
    assert parsed(by_searcher, 403, Problem).status == 403
    confirmed = parsed(
        transition_claim.sync_detailed(
            claim.claim_id, client=grower, body=confirm, if_match=made.headers["ETag"]
        ),
        200,
        ClaimOut,
    )
    assert confirmed.status is ClaimStatus.CONFIRMED

    # Then the listing has 6 kg left, and both parties see the claim
    after = parsed(get_listing.sync_detailed(listing.listing_id, client=grower), 200, ListingOut)
    assert after.quantity_remaining == 6
    for user, role in ((searcher, ClaimRole.MADE), (grower, ClaimRole.RECEIVED)):
        listed = parsed(my_claims.sync_detailed(client=user, role=role), 200, ClaimCollection)
        assert [item.claim_id for item in listed.items] == [claim.claim_id]

    # When the pickup happened, Then the claim completes and a stale ETag is a 412
    complete = ClaimUpdate(status=ClaimUpdateStatus.COMPLETED)
    current = get_claim.sync_detailed(claim.claim_id, client=searcher)
    done = transition_claim.sync_detailed(
        claim.claim_id, client=grower, body=complete, if_match=current.headers["ETag"]
    )
    assert parsed(done, 200, ClaimOut).status is ClaimStatus.COMPLETED
    again = transition_claim.sync_detailed(
        claim.claim_id, client=grower, body=complete, if_match=current.headers["ETag"]
    )
    assert parsed(again, 412, Problem).current_version == confirmed.version + 1


def test_the_feed_lists_listings_and_requests_nearest_first_by_kind_and_page(
    clients: Clients,
) -> None:
    grower, family, searcher = (clients.signed_in(u) for u in ("grower", "family", "searcher"))
    # Given listings a cell apart going north, a carrot and a request
    tomatoes = [
        parsed(
            create_listing.sync_detailed(
                client=grower, body=_listing(5, at=PointIn(lat=52.52 + 0.05 * i, lon=13.405))
            ),
            201,
            ListingOut,
        ).listing_id
        for i in range(3)
    ]
    carrot = parsed(
        create_listing.sync_detailed(client=grower, body=_listing(2, crop="carrot")),
        201,
        ListingOut,
    ).listing_id
    wanted = RequestCreate(
        crop="tomato",
        quantity=3,
        unit="kg",
        needed_by=datetime.now(UTC) + timedelta(days=5),
        location=PointIn(lat=52.51, lon=13.39),
    )
    request = parsed(create_request.sync_detailed(client=family, body=wanted), 201, RequestOut)

    def page(
        kind: FeedKindType0 | Unset = UNSET,
        crop: str | Unset = UNSET,
        limit: int | Unset = UNSET,
        cursor: str | Unset = UNSET,
    ) -> FeedCollection:
        answer = feed.sync_detailed(
            client=searcher,
            lat=52.52,
            lon=13.405,
            radius_km=30,
            kind=kind,
            crop=crop,
            limit=limit,
            cursor=cursor,
        )
        return parsed(answer, 200, FeedCollection)

    # When a searcher reads the feed, Then every item is typed by its kind, nearest first
    everything = page(limit=100).items
    listings = [item for item in everything if isinstance(item, ListingFeedItem)]
    requests = [item for item in everything if isinstance(item, RequestFeedItem)]
    assert {item.listing_id for item in listings} == {*tomatoes, carrot}
    assert [item.request_id for item in requests] == [request.request_id]
    distances = [item.distance_km for item in everything]
    assert distances == sorted(distances)
    assert not any(item.location.exact for item in everything)

    # And the filters and the cursor are what the document says
    only_requests = page(kind=FeedKindType0.REQUEST).items
    assert [type(item) for item in only_requests] == [RequestFeedItem]
    carrots = page(crop="carrot").items
    assert [item.listing_id for item in carrots if isinstance(item, ListingFeedItem)] == [carrot]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        one = page(kind=FeedKindType0.LISTING, limit=1, cursor=cursor or UNSET)
        seen += [item.listing_id for item in one.items if isinstance(item, ListingFeedItem)]
        cursor = one.next_cursor
        if cursor is None:
            break
    assert seen == [item.listing_id for item in listings]
