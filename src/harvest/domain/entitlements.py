"""Tiers and what they entitle, as one table instead of ifs scattered over handlers."""

from __future__ import annotations

from enum import StrEnum

from harvest.domain.errors import EntitlementRequired


class Tier(StrEnum):
    FREE = "free"
    SUPPORTER = "supporter"
    PRO = "pro"


class Entitlement(StrEnum):
    CORE = "core"
    SIGNALS = "signals"
    AI_EXPLANATIONS = "ai.explanations"
    AI_GUIDANCE = "ai.guidance"


# Ordered from least to most; each tier includes everything of the tiers before it.
TIER_ENTITLEMENTS: dict[Tier, frozenset[Entitlement]] = {
    Tier.FREE: frozenset({Entitlement.CORE, Entitlement.SIGNALS}),
    Tier.SUPPORTER: frozenset({Entitlement.CORE, Entitlement.SIGNALS, Entitlement.AI_EXPLANATIONS}),
    Tier.PRO: frozenset(
        {
            Entitlement.CORE,
            Entitlement.SIGNALS,
            Entitlement.AI_EXPLANATIONS,
            Entitlement.AI_GUIDANCE,
        }
    ),
}


def parse_tier(value: str | None) -> Tier:
    """Unknown or missing tiers fall back to free: a token can never grant more than it says."""
    try:
        return Tier((value or "").strip().lower())
    except ValueError:
        return Tier.FREE


def lowest_tier_with(entitlement: Entitlement) -> Tier:
    return next(tier for tier in Tier if entitlement in TIER_ENTITLEMENTS[tier])


def require(tier: Tier, entitlement: Entitlement) -> None:
    """Raise EntitlementRequired naming the lowest tier that would be enough."""
    if entitlement not in TIER_ENTITLEMENTS[tier]:
        raise EntitlementRequired(entitlement.value, lowest_tier_with(entitlement).value)
