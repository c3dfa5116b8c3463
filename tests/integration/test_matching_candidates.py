"""The matching worker's candidate search on a real index (moto or DynamoDB Local): a crop
buried among many live items of other crops in the same cells is still found, and the
search reads only rows of its crop."""

from __future__ import annotations

from typing import Any

from harvest.domain.matching import Side
from harvest.services.matching import MatchingService
from harvest.store.matches import MatchRepository
from harvest.store.repository import Repository
from harvest.store.table import Table
from support.feed_world import NOW, listing, request, seed

HOME = (52.5200, 13.4050)
OTHER_CROPS = ("apple", "zucchini", "potato", "carrot", "lettuce", "pear", "plum", "bean")


def test_a_rare_crop_among_many_others_in_the_same_cells_is_still_matched(
    dynamodb: Any, table: str
) -> None:
    # 420 live listings of other crops share the request's cell and its neighbours, more
    # than a feed page's row budget: a search that reads them and filters by crop after
    # the read stops before it reaches the few tomatoes.
    others = [
        listing(f"other-{n:04d}", HOME[0] + (n % 30) * 0.0004, HOME[1] + (n // 30) * 0.0004,
                crop=OTHER_CROPS[n % len(OTHER_CROPS)], owner=f"grower-{n % 50}")
        for n in range(420)
    ]  # fmt: skip
    tomatoes = [
        listing(f"tomato-{n}", HOME[0] + 0.011 + n * 0.0005, HOME[1], owner=f"tom-{n}")
        for n in range(3)
    ]
    wanted = request("want-tomato", *HOME)
    seed(dynamodb, table, [*others, *tomatoes, wanted])
    store = Table(dynamodb, table)
    service = MatchingService(Repository(store), MatchRepository(store), lambda: NOW)

    outcome = service.refresh(Side.REQUEST, "want-tomato", "test")

    stored = MatchRepository(store).match_sets(Side.REQUEST, ["want-tomato"])["want-tomato"]
    assert sorted(entry.other_id for entry in stored.entries) == [t.listing_id for t in tomatoes]
    # Exact: only tomato listings were read, not the other crops sharing the cells.
    assert outcome.rows_read == len(tomatoes)


def test_a_new_listing_is_offered_to_the_requests_of_its_crop_only(
    dynamodb: Any, table: str
) -> None:
    crowd = [
        request(f"req-{n:04d}", HOME[0] + (n % 25) * 0.0004, HOME[1] + (n // 25) * 0.0004,
                crop=OTHER_CROPS[n % len(OTHER_CROPS)])
        for n in range(410)
    ]  # fmt: skip
    seed(dynamodb, table, [*crowd, request("want-tomato", HOME[0] + 0.02, HOME[1])])
    seed(dynamodb, table, [listing("new-tomato", *HOME)])
    store = Table(dynamodb, table)
    service = MatchingService(Repository(store), MatchRepository(store), lambda: NOW)

    outcome = service.refresh(Side.LISTING, "new-tomato", "test")

    sets = MatchRepository(store).match_sets(Side.REQUEST, ["want-tomato"])
    assert [e.other_id for e in sets["want-tomato"].entries] == ["new-tomato"]
    assert outcome.rows_read == 1
