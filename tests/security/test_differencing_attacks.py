"""An attacker with nothing but ordinary requests, and up to k - 1 accounts of its own
posting and cancelling their own listings and requests, must never turn the published
signals back into a figure attributable to fewer than k REAL contributors (issue 11;
docs/privacy.md, threat model).

The attacker reads every area at precision 4, 5 and 6, every window, crop and all-crops
count, before and after its own items and in every version as it adds and cancels them one
at a time, and a solver (support.signal_world) tries every rational linear combination.
Every published quantity is a sum of items and of the noise of the released regions
(domain.noise), each draw an unknown of its own (the same region in the same true state:
the same unknown, since the real noise is an HMAC of exactly that). A leak is a combination
that cancels every noise unknown and depends on fewer than k real contributors: the
attacker's own accounts are known to it and never count among the k.

Without noise the counting rules alone leak to sybils (the k - 1 accounts make a region of
one real grower publishable): `test_without_noise_...` keeps that attack, which the
release before the noise lost to.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from harvest.api import views
from support.signal_world import Item, isolated_groups, publish, read_everything, read_versions

K = 3
AREA4 = "u05k"
CELLS6 = ("u05kq5", "u05kqk", "u05kqm", "u05kr0", "u05kr1")
CROPS = ("leek", "kale", "tomato")
ATTACKER = "attacker"  # every owner whose name starts with it is one of its accounts
ACCOUNTS = tuple(f"{ATTACKER}{n}" for n in range(K - 1))  # up to k - 1 sybils


def every_area(items: Sequence[Item]) -> list[str]:
    """All precisions of every cell anyone used, plus empty neighbours at 5 and 6."""
    cells = {cell for item in items for cell in item.cells} | {"u05kz", "u05kzz", "u05kqz"}
    return sorted(cells | {AREA4})


def assert_nothing_isolated(items: Sequence[Item]) -> None:
    published = read_everything(items, every_area(items), K, noise=True)
    assert not published.all_crops_off_span, published.all_crops_off_span
    leaks = isolated_groups(items, published.rows, attacker=ATTACKER, smaller_than=K)
    assert not leaks, f"isolated {sorted(map(sorted, leaks))} among {items}"


items_strategy = st.lists(
    st.builds(
        Item,
        owner=st.sampled_from([f"g{n}" for n in range(7)]),
        cell=st.sampled_from(CELLS6),
        crop=st.sampled_from(CROPS),
        ago=st.sampled_from((0, 3, 6, 9, 13, 20, 29)),
        kind=st.sampled_from(("listing", "listing", "request")),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150)
@given(items=items_strategy)
def test_given_any_growers_when_every_figure_is_combined_then_no_group_under_k_is_isolated(
    items: list[Item],
) -> None:
    # Given growers across nested cells, crops and days; When a passive attacker reads
    # every published figure of every precision and window; Then no combination of them
    # depends on fewer than k real contributors.
    assert_nothing_isolated(items)


@settings(max_examples=100)
@given(
    items=items_strategy,
    own=st.lists(
        st.builds(
            Item,
            owner=st.sampled_from(ACCOUNTS),
            cell=st.sampled_from(CELLS6),
            crop=st.sampled_from(CROPS),
            ago=st.sampled_from((0, 6, 9, 20)),
            kind=st.sampled_from(("listing", "request")),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_given_an_attacker_posting_own_listings_when_it_reads_again_then_it_learns_no_one(
    items: list[Item], own: list[Item]
) -> None:
    # Given growers; When the attacker's k - 1 accounts post their own listings and
    # requests (in cells, crops and days it chooses, to push figures over k or make windows
    # show) and it reads everything before and after; Then no combination cancels the noise
    # and isolates fewer than k real contributors.
    world = [*items, *own]
    everything = read_versions(world, [range(len(items)), range(len(world))], every_area(world),
                               K, noise=True)  # fmt: skip
    assert not everything.all_crops_off_span
    leaks = isolated_groups(world, everything.rows, attacker=ATTACKER, smaller_than=K)
    assert not leaks, f"isolated {sorted(map(sorted, leaks))} among {world}"


# Versions around own items: one published cell (two of its precision-6 cells) and a day
# in each window segment, so that the attacker's items often share a crop and segment
# with real growers.
VERSION_CELLS = ("u05kq5", "u05kqk")
VERSION_DAYS = (0, 9, 20)
version_items_strategy = st.lists(
    st.builds(
        Item,
        owner=st.sampled_from([f"g{n}" for n in range(5)]),
        cell=st.sampled_from(VERSION_CELLS),
        crop=st.sampled_from(CROPS[:2]),
        ago=st.sampled_from(VERSION_DAYS),
        kind=st.sampled_from(("listing", "listing", "request")),
    ),
    min_size=1,
    max_size=10,
)
own_items_strategy = st.lists(
    st.builds(
        Item,
        owner=st.sampled_from(ACCOUNTS),
        cell=st.sampled_from(VERSION_CELLS),
        crop=st.sampled_from(CROPS[:2]),
        ago=st.sampled_from(VERSION_DAYS),
        kind=st.sampled_from(("listing", "request")),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60)
@example(  # the previous release's leak: its lone request hid 30 and 14 days, 7 showed
    items=[Item("g0", "u05kq5", "kale", 9), Item("g1", "u05kqk", "kale", 0),
           Item("g2", "u05kq5", "kale", 0)],
    own=[Item(ACCOUNTS[0], "u05kqk", "kale", 0),
         Item(ACCOUNTS[0], "u05kq5", "kale", 9, "request")],
    toggles=[0, 1],
)  # fmt: skip
@given(
    items=version_items_strategy,
    own=own_items_strategy,
    toggles=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=4),
)
def test_given_an_attacker_adding_and_cancelling_own_items_when_it_reads_every_version_then_it_learns_no_one(  # noqa: E501
    items: list[Item], own: list[Item], toggles: list[int]
) -> None:
    # Given growers, and an attacker with its own listings and requests in cells, crops
    # and days it chooses
    world = [*items, *own]
    live = set(range(len(items)))
    versions = [frozenset(live)]
    # When it posts or cancels one of its own items at a time and reads everything after
    # each change (consecutive versions of every area, window and crop)
    for toggle in toggles:
        live ^= {len(items) + toggle % len(own)}
        versions.append(frozenset(live))
    published = read_versions(world, versions, every_area(world), K, noise=True)
    # Then no combination of all the versions cancels the noise and isolates fewer than k
    # real contributors
    assert not published.all_crops_off_span
    leaks = isolated_groups(world, published.rows, attacker=ATTACKER, smaller_than=K)
    assert not leaks, f"isolated {sorted(map(sorted, leaks))} among {world} over {versions}"


def test_versions_before_and_after_own_listings_do_not_combine_into_one_grower() -> None:
    # Given three kale growers, g0 nine days ago, g1 and g2 today: 14 and 30 days shown
    items = [Item("g0", "u05kr0", "kale", 9), Item("g1", "u05kr0", "kale", 0),
             Item("g2", "u05kr0", "kale", 0)]  # fmt: skip
    own = [Item(ACCOUNTS[0], "u05kr0", "kale", 0),
           Item(ACCOUNTS[0], "u05kr0", "kale", 9, "request")]  # fmt: skip
    world = [*items, *own]
    # When the attacker lists today and requests nine days ago: 7 days reach k, while the
    # lone request makes 14 and 30 days unsafe per kind (the previous release then showed
    # 7 days alone: 14 days before minus 7 days after, minus its own, was g0's alone)
    # Then the versions together isolate no one, even without noise: a cell shows a
    # prefix of 30, 14, 7 days, so after the request fails 30 days nothing of kale in
    # u05kr0 is shown (the attacker's one account is one of the k there: k - 1 real)
    for noise in (False, True):
        both = read_versions(world, [range(3), range(5)], every_area(world), K, noise=noise)
        assert not isolated_groups(
            world, both.rows, attacker=ATTACKER, smaller_than=K if noise else K - 1
        )


def test_without_noise_sybils_learn_one_growers_exact_figure_and_with_noise_they_do_not() -> None:
    # Given one real kale grower (g0, 5 kg) in u05kr0 this week
    items = [Item("g0", "u05kr0", "kale", 2, quantity=Decimal(5))]
    # When the attacker's k - 1 accounts list kale in the same cell and week: the region
    # has k contributors, so its figures show
    world = [*items, *(Item(account, "u05kr0", "kale", 1) for account in ACCOUNTS)]
    exact = read_everything(world, every_area(world), K)
    noisy = read_everything(world, every_area(world), K, noise=True)
    # Then the counting rules alone give g0 away (the published supply minus its own);
    # with noise no combination cancels the region's draw
    assert isolated_groups(world, exact.rows, attacker=ATTACKER, smaller_than=K) == [
        frozenset({"g0"})
    ]
    assert noisy.rows, "the region must still be published"
    assert not isolated_groups(world, noisy.rows, attacker=ATTACKER, smaller_than=K)


# ------------------------------------------------------------ the three attacks
def leek(owner: str, cell: str, kg: int, ago: int = 1) -> Item:
    return Item(owner, cell, "leek", ago, quantity=Decimal(kg))


def test_nested_cells_do_not_subtract_to_a_lone_grower() -> None:
    # Given one leek grower alone in u05kq5 (7 kg) and three in u05kqk (2 + 3 + 4 kg)
    items = [leek("g1", "u05kq5", 7), leek("g2", "u05kqk", 2), leek("g3", "u05kqk", 3),
             leek("g4", "u05kqk", 4)]  # fmt: skip
    # When every area around them is read
    supplies = {
        area: {s.crop: s.supply for w in publish(items, area).signals.windows for s in w.crops}
        for area in ("u05k", "u05kq", "u05kq5", "u05kqk")
    }
    # Then no two published leek figures differ by the lone grower's 7 kg, and the solver
    # isolates no one
    figures = {v["leek"] or 0 for v in supplies.values() if "leek" in v}
    assert not any(a - b == 7 for a in figures for b in figures), supplies
    for noise in (False, True):
        published = read_everything(items, every_area(items), noise=noise)
        assert not isolated_groups(items, published.rows, attacker=ATTACKER, smaller_than=K)


def shown(items: Sequence[Item], area: str) -> dict[str, object]:
    """The route's JSON body, minus what names the area asked for."""
    body = views.signals(publish(items, area)).model_dump(by_alias=True, mode="json")
    body.pop("geohash")
    for window in body["windows"]:
        window["summary"] = window["summary"].replace(area, "AREA")
    return dict(body)


def test_a_cell_with_one_grower_looks_exactly_like_an_empty_cell() -> None:
    # Given one kale grower in u05kqk and nobody in its neighbour u05kqm (nor in u05kr)
    items = [Item("g1", "u05kqk", "kale", 2)]
    # When both are read at precision 6, and their parents at precision 5
    # Then the answers are identical: no crop name, no timestamp, same shape
    assert shown(items, "u05kqk") == shown(items, "u05kqm")
    assert shown(items, "u05kq") == shown(items, "u05kr")
    assert shown(items, "u05kq")["dataUpdatedAt"] is None


def test_the_attackers_own_listing_does_not_undo_the_all_crops_rounding() -> None:
    # Given three tomato growers and one hidden kale grower with 1 or 2 listings
    tomatoes = [Item(f"t{n}", "u05kqk", "tomato", 1) for n in range(3)]
    own = Item(ATTACKER, "u05kqk", "tomato", 0)
    worlds = [[*tomatoes, *[Item("kale", "u05kq5", "kale", 2)] * listings] for listings in (1, 2)]
    # When the attacker reads the area before and after posting its own tomato listing
    # Then nothing it reads depends on how many listings the kale grower has
    for area in ("u05k", "u05kq"):
        assert shown(worlds[0], area) == shown(worlds[1], area)
        assert shown([*worlds[0], own], area) == shown([*worlds[1], own], area)


def test_the_14_day_window_minus_the_7_day_one_isolates_no_one() -> None:
    # Given three leek growers this week and a fourth, alone, ten days ago in one cell
    items = [leek(f"g{n}", "u05kqk", n + 1) for n in range(3)] + [leek("g9", "u05kqk", 7, 10)]
    # When every window of every area is combined; Then no one is isolated
    assert_nothing_isolated(items)
