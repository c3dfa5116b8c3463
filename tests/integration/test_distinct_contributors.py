"""k-anonymity on the real table: listings made through the API, aggregated by the real
consumer (delivered as the stream would, twice), signals read back by SignalService. Buckets
hold no user ids (domain.disclosure): these check that the count stays exact at k-1, k and
k+1 users, for one user with many listings, and when a user cancels or leaves the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from harvest.consumers import derivation
from harvest.domain.signals import SignalPolicy, WindowSignals
from harvest.services.signals import SignalService
from harvest.settings import current_settings
from harvest.store.derived import DerivedRepository
from harvest.store.dynamo import make_client
from harvest.store.insights import InsightRepository
from harvest.store.table import Item, Table
from support import payloads
from support.apigw import Api
from support.stored_records import LongContext, stored_item_record

AREA = "u33d"  # payloads.BERLIN is u33dc...
K = 3


# Noise off (settings): its subject: exact counts of distinct users.
pytestmark = pytest.mark.usefixtures("no_noise")


@pytest.fixture(autouse=True)
def fresh_aggregator(table: str) -> Iterator[None]:
    derivation.derivation.reset()
    yield
    derivation.derivation.reset()


class Area:
    """Listings of one area, each delivered to the aggregator as its stream records."""

    def __init__(self, api: Api, dynamodb: Any, table: str) -> None:
        self.api, self.dynamodb, self.table = api, dynamodb, table
        self.sequence = 0
        self.etags: dict[str, str] = {}

    def _deliver(self, pk: str, version: int) -> None:
        self.sequence += 1
        record = stored_item_record(self.dynamodb, self.table, pk, self.sequence)
        assert int(record["dynamodb"]["NewImage"]["version"]["N"]) == version
        # Twice: the effect must be exactly once.
        response = derivation.handler({"Records": [record, record]}, LongContext())
        assert response == {"batchItemFailures": []}

    def list(self, user: str, crop: str = "tomato") -> str:
        made = self.api.post("/listings", payloads.listing(crop=crop), user=user)
        assert made.status == 201, made.body
        location = made.header("Location") or ""
        self.etags[location] = made.etag or ""
        self._deliver(f"LISTING#{made.body['listingId']}", 1)
        return location

    def cancel(self, location: str, user: str) -> None:
        current = self.api.get(location, user=user)
        done = self.api.patch(
            location, {"status": "cancelled"}, user=user, headers={"If-Match": current.etag}
        )
        assert done.status == 200, done.body
        self._deliver(f"LISTING#{done.body['listingId']}", int(done.body["version"]))

    def window(self, days: int, *, later: timedelta = timedelta(0)) -> WindowSignals:
        derived = DerivedRepository(Table(make_client("us-east-1"), current_settings().table_name))
        moment = datetime.now(UTC) + later
        service = SignalService(derived, clock=lambda: moment, policy=SignalPolicy(k=K))
        [found] = [w for w in service.for_area(AREA).signals.windows if w.days == days]
        if not later:
            # What the route serves today: the insight the consumer keeps incrementally (the
            # cell from the crops its records touched, the area as a sum of its cells') says
            # exactly what the buckets say, under k too.
            stored = InsightRepository(derived.table).current(AREA)
            assert stored is not None
            assert current_settings().signal_k == K
            assert [w for w in stored.insight.windows if w.days == days] == [found]
        return found


def _tomato(window: WindowSignals) -> Any:
    """Tomato's signal, or None: a crop under k is not even named (issue 11)."""
    return next((c for c in window.crops if c.crop == "tomato"), None)


@pytest.fixture
def area(api: Api, dynamodb: Any, table: str) -> Area:
    return Area(api, dynamodb, table)


@pytest.mark.parametrize(("users", "published"), [(K - 1, False), (K, True), (K + 1, True)])
def test_a_crop_is_published_from_exactly_k_distinct_users(
    area: Area, users: int, published: bool
) -> None:
    for index in range(users):
        area.list(f"grower-{index}")

    tomato = _tomato(area.window(7))

    assert (tomato is not None) is published
    assert (tomato.listings if tomato else None) == (users if published else None)


def test_one_user_with_many_listings_counts_once(area: Area) -> None:
    for _ in range(6):
        area.list("food-bank")
    area.list("grower-a")

    week = area.window(7)

    assert _tomato(week) is None  # 2 users, 7 listings
    assert week.all_crops.listings == 0  # the sums of the crops shown
    area.list("grower-b")
    assert _tomato(area.window(7)).listings == 8


def test_a_user_who_cancels_their_only_listing_stops_counting(area: Area) -> None:
    area.list("grower-a")
    area.list("grower-b")
    leaving = area.list("grower-c")
    assert _tomato(area.window(7)) is not None

    area.cancel(leaving, "grower-c")

    assert _tomato(area.window(7)) is None


def test_a_user_who_cancels_one_of_two_listings_still_counts(area: Area) -> None:
    area.list("grower-a")
    area.list("grower-b")
    first = area.list("grower-c")
    area.list("grower-c")

    area.cancel(first, "grower-c")

    assert _tomato(area.window(7)).listings == 3


def test_users_leave_a_window_when_their_day_moves_out_of_it(area: Area) -> None:
    for user in ("grower-a", "grower-b", "grower-c"):
        area.list(user)

    # Eight days on, with no new event: out of the 7-day window, still in the 14-day one.
    assert [c.crop for c in area.window(7, later=timedelta(days=8)).crops] == []
    assert _tomato(area.window(14, later=timedelta(days=8))).listings == 3


def test_buckets_and_presences_hold_no_per_user_attributes(
    area: Area, dynamodb: Any, table: str
) -> None:
    for index in range(K + 1):
        area.list(f"grower-{index}")

    items: list[Item] = dynamodb.scan(TableName=table)["Items"]
    buckets = [i for i in items if i["SK"]["S"].startswith("WEEK#")]
    presences = [i for i in items if i["PK"]["S"].startswith("AGG#WHO#")]

    assert buckets
    assert all(not any("grower" in name for name in item) for item in buckets)
    assert len(presences) == K + 1  # one per user, area and crop
    assert all(len(item["live"]["M"]) == 1 for item in presences)
