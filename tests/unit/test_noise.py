"""The noise on published figures (domain.noise, docs/privacy.md "Noise against sybils"):
deterministic per region and state, fresh on any real change, never negative, consistent
across windows and precisions, and on by default wherever signals are computed."""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from harvest.domain.noise import KeyedNoise, discrete_laplace
from harvest.domain.release import area_signals
from harvest.domain.signals import AreaSignals, DayTotals, SignalPolicy, compute_signals
from harvest.local.mappings import function_settings
from harvest.settings import ApiSettings, DerivationSettings, RefreshSettings, signal_policy
from harvest.tools.template import load_template
from support.exact import NOISE_OFF

AS_OF = date(2026, 6, 30)
CELL = "u33dc"


def noisy(key: bytes = b"key-one") -> SignalPolicy:
    return SignalPolicy(k=3, noise=KeyedNoise(key, Decimal(2), 1.0))


def day(crop: str, ago: int, supply: str, listings: int, users: int, demand: str = "0",
        requests: int = 0) -> DayTotals:  # fmt: skip
    return DayTotals(AS_OF - timedelta(days=ago), crop, Decimal(supply), Decimal(demand),
                     listings, requests, users)  # fmt: skip


# Tomato: three growers in each segment (days 1-7, 8-14, 15-30) and three requesters today.
TOMATO = [
    day("tomato", 1, "12", 3, 6, demand="4", requests=3),
    day("tomato", 9, "7.5", 3, 3),
    day("tomato", 20, "30", 3, 3),
]


def figures(signals: AreaSignals) -> dict[tuple[int, str], tuple[object, ...]]:
    return {
        (window.days, s.crop): (s.supply, s.demand, s.listings, s.requests, s.classification)
        for window in signals.windows
        for s in window.crops
    }


def test_discrete_laplace_is_symmetric_with_the_spread_of_its_scale() -> None:
    scale = 4.0
    draws = [
        discrete_laplace(hashlib.sha256(str(n).encode()).digest(), scale) for n in range(20000)
    ]
    alpha = math.exp(-1 / scale)
    expected_spread = 2 * alpha / (1 - alpha**2)  # E|X| of the discrete Laplace
    assert abs(sum(draws) / len(draws)) < 0.15
    assert abs(sum(map(abs, draws)) / len(draws) - expected_spread) < 0.05 * expected_spread
    assert discrete_laplace(hashlib.sha256(b"x").digest(), 0) == 0


@given(
    value=st.decimals(min_value=0, max_value=10**6, places=3),
    count=st.integers(min_value=1, max_value=10**4),
    message=st.text(max_size=40),
)
def test_noisy_figures_are_never_negative_and_a_present_kind_never_vanishes(
    value: Decimal, count: int, message: str
) -> None:
    noise = KeyedNoise(b"k", Decimal(50), 50.0)
    assert noise.quantity(message, value) >= 0
    assert noise.count(message, count) >= 1


def test_reading_again_gives_the_same_figures_and_another_key_others() -> None:
    first, again = (compute_signals(CELL, AS_OF, TOMATO, noisy()) for _ in range(2))
    assert figures(first) == figures(again)
    assert figures(first) != figures(compute_signals(CELL, AS_OF, TOMATO, noisy(b"key-two")))
    assert figures(first) != figures(compute_signals(CELL, AS_OF, TOMATO, SignalPolicy(k=3)))


def test_windows_are_sums_of_their_segments_and_a_change_redraws_only_its_segment() -> None:
    before = figures(compute_signals(CELL, AS_OF, TOMATO, noisy()))
    assert {w for w, _ in before} == {7, 14, 30}
    # Segments are never negative, so the windows nest
    for part in range(4):
        assert before[(7, "tomato")][part] <= before[(14, "tomato")][part]  # type: ignore[operator]
        assert before[(14, "tomato")][part] <= before[(30, "tomato")][part]  # type: ignore[operator]
    # Days 15-30 change: the 7 and 14 days keep their figures, the 30 days draw afresh
    changed = [*TOMATO[:2], day("tomato", 20, "31", 3, 3)]
    after = figures(compute_signals(CELL, AS_OF, changed, noisy()))
    assert after[(7, "tomato")] == before[(7, "tomato")]
    assert after[(14, "tomato")] == before[(14, "tomato")]
    assert after[(30, "tomato")] != before[(30, "tomato")]


def test_one_more_item_never_moves_the_figures_by_exactly_its_quantity() -> None:
    before = figures(compute_signals(CELL, AS_OF, TOMATO, noisy()))
    for extra in ("1", "2.5", "7"):
        more = [day("tomato", 1, str(Decimal(12) + Decimal(extra)), 4, 7,
                    demand="4", requests=3), *TOMATO[1:]]  # fmt: skip
        after = figures(compute_signals(CELL, AS_OF, more, noisy()))
        for window in (7, 14, 30):
            delta = after[(window, "tomato")][0] - before[(window, "tomato")][0]  # type: ignore[operator]
            assert delta != Decimal(extra)


def test_a_precision_4_area_is_the_sum_of_its_published_cells_noisy_figures() -> None:
    cells = {
        "u33dc": TOMATO,
        "u33dd": [day("tomato", 2, "5", 3, 3), day("kale", 3, "9", 3, 6, demand="2", requests=3)],
        "u33de": [day("tomato", 10, "8", 3, 6, demand="6", requests=3)],
    }
    policy = noisy()
    area = figures(area_signals("u33d", AS_OF, cells, policy))
    per_cell = [figures(area_signals(cell, AS_OF, cells, policy)) for cell in cells]
    assert area
    for key, (supply, demand, listings, requests, _) in area.items():
        shown = [cell[key] for cell in per_cell if key in cell]
        assert supply == sum(f[0] for f in shown)  # type: ignore[misc]
        assert demand == sum(f[1] for f in shown)  # type: ignore[misc]
        assert listings == sum(f[2] for f in shown)  # type: ignore[misc]
        assert requests == sum(f[3] for f in shown)  # type: ignore[misc]


def test_noise_is_on_by_default_for_every_function_that_computes_signals() -> None:
    for cls in (ApiSettings, DerivationSettings, RefreshSettings):
        noise = signal_policy(cls.from_environ({"SIGNAL_NOISE_KEY": "secret"})).noise
        assert noise == KeyedNoise(b"secret", Decimal(2), 1.0)
        assert signal_policy(cls.from_environ(NOISE_OFF)).noise is None


def test_the_template_keys_the_noise_from_ssm_and_a_local_run_from_its_own_key() -> None:
    template = load_template()
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SIGNAL_NOISE_KEY_PARAMETER"] == {"Ref": "SignalNoiseKeyParameterName"}
    assert "SIGNAL_NOISE_QUANTITY" not in variables  # the default scales: noise on
    for function in ("ApiFunction", "AggregatorFunction", "AdvisorFunction", "RefreshFunction"):
        policies = str(template["Resources"][function]["Properties"]["Policies"])
        assert "ReadSignalNoiseKey" in policies
        assert "SignalNoiseKeyParameterName" in policies
        # Locally there is no SSM: the runtime's per-data-dir SIGNAL_NOISE_KEY applies.
        local = function_settings(template, function, "t").environment
        assert "SIGNAL_NOISE_KEY_PARAMETER" not in local
        assert local["SIGNAL_K_ANONYMITY"] == "3"
