"""Tiers and entitlements: one table, tokens never grant more than they say."""

from __future__ import annotations

import itertools

import pytest

from harvest.domain.entitlements import (
    TIER_ENTITLEMENTS,
    Entitlement,
    Tier,
    lowest_tier_with,
    parse_tier,
    require,
)
from harvest.domain.errors import EntitlementRequired, Forbidden


def test_free_tier_has_core_and_signals_only() -> None:
    assert TIER_ENTITLEMENTS[Tier.FREE] == {Entitlement.CORE, Entitlement.SIGNALS}


def test_supporter_adds_ai_explanations() -> None:
    added = TIER_ENTITLEMENTS[Tier.SUPPORTER] - TIER_ENTITLEMENTS[Tier.FREE]

    assert added == {Entitlement.AI_EXPLANATIONS}


def test_pro_adds_ai_guidance_and_so_has_everything() -> None:
    added = TIER_ENTITLEMENTS[Tier.PRO] - TIER_ENTITLEMENTS[Tier.SUPPORTER]

    assert added == {Entitlement.AI_GUIDANCE}
    assert TIER_ENTITLEMENTS[Tier.PRO] == set(Entitlement)


def test_each_tier_includes_everything_of_the_tiers_before_it() -> None:
    tiers = list(Tier)

    assert tiers == [Tier.FREE, Tier.SUPPORTER, Tier.PRO]
    for lower, higher in itertools.pairwise(tiers):
        assert TIER_ENTITLEMENTS[lower] < TIER_ENTITLEMENTS[higher]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("free", Tier.FREE),
        ("supporter", Tier.SUPPORTER),
        ("pro", Tier.PRO),
        ("PRO", Tier.PRO),
        ("Supporter", Tier.SUPPORTER),
        ("  pRo \n", Tier.PRO),
        (None, Tier.FREE),
        ("", Tier.FREE),
        ("   ", Tier.FREE),
        ("gold", Tier.FREE),
        ("pro+", Tier.FREE),
        ("enterprise", Tier.FREE),
        ("ai.guidance", Tier.FREE),
    ],
)
def test_parse_tier_reads_known_tiers_in_any_case_and_falls_back_to_free(
    raw: str | None, expected: Tier
) -> None:
    assert parse_tier(raw) is expected


@pytest.mark.parametrize(
    ("entitlement", "lowest"),
    [
        (Entitlement.CORE, Tier.FREE),
        (Entitlement.SIGNALS, Tier.FREE),
        (Entitlement.AI_EXPLANATIONS, Tier.SUPPORTER),
        (Entitlement.AI_GUIDANCE, Tier.PRO),
    ],
)
def test_lowest_tier_with_names_the_cheapest_sufficient_tier(
    entitlement: Entitlement, lowest: Tier
) -> None:
    assert lowest_tier_with(entitlement) is lowest


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize("entitlement", list(Entitlement))
def test_require_passes_when_entitled_and_names_lowest_sufficient_tier_otherwise(
    tier: Tier, entitlement: Entitlement
) -> None:
    if entitlement in TIER_ENTITLEMENTS[tier]:
        require(tier, entitlement)
        return
    with pytest.raises(EntitlementRequired) as raised:
        require(tier, entitlement)
    assert raised.value.entitlement == entitlement.value
    assert raised.value.required_tier == lowest_tier_with(entitlement).value
    assert f"'{lowest_tier_with(entitlement).value}' tier" in raised.value.detail
    assert isinstance(raised.value, Forbidden)


def test_free_user_asking_for_guidance_is_told_pro_not_supporter() -> None:
    with pytest.raises(EntitlementRequired) as raised:
        require(parse_tier("free"), Entitlement.AI_GUIDANCE)

    assert raised.value.required_tier == "pro"
    assert raised.value.detail == "'ai.guidance' needs the 'pro' tier or higher"
