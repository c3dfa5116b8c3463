"""Algebraic properties of crop unit conversion, checked for every crop in the catalog.

Results are quantized to 6 decimal places, so a round trip through a much smaller unit
(e.g. 0.001 oz -> kg -> oz) cannot always return within 1e-5 relative: the intermediate
rounding of at most half a step gets scaled back up. The round-trip properties therefore
state the exact bound that quantization allows, and separately require the plain 1e-5
relative tolerance wherever both sides of the trip are at least one unit.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvest.domain.crops import Crop, load_catalog

CATALOG = load_catalog()
SLUGS = sorted(crop.slug for crop in CATALOG)
CROP_UNITS = sorted((crop.slug, unit) for crop in CATALOG for unit in crop.units)

REL_TOL = Decimal("1e-5")
HALF_STEP = Decimal("0.0000005")
ONE = Decimal(1)
MILLI = Decimal("0.001")

quantities = st.decimals(
    min_value=Decimal("0.001"),
    max_value=Decimal("100000"),
    places=3,
    allow_nan=False,
    allow_infinity=False,
)
# Every example walks all unit pairs of one crop, so fewer examples still cover a lot.
per_crop = settings(max_examples=40, deadline=None)


def unit_pairs(crop: Crop) -> list[tuple[str, str]]:
    units = crop.allowed_units
    return list(product(units, units))


@pytest.mark.parametrize("slug", SLUGS)
@per_crop
@given(quantity=quantities)
def test_round_trip_stays_within_quantization_bound(slug: str, quantity: Decimal) -> None:
    crop = CATALOG.get(slug)
    for from_unit, to_unit in unit_pairs(crop):
        there = CATALOG.convert(slug, quantity, from_unit, to_unit)
        back = CATALOG.convert(slug, there, to_unit, from_unit)
        # Half a step lost going there, magnified by the size ratio, plus half coming back.
        ratio = crop.units[to_unit] / crop.units[from_unit]
        tolerance = max(REL_TOL * quantity, HALF_STEP * (ONE + ratio))
        assert abs(back - quantity) <= tolerance, (from_unit, to_unit, there, back)


@pytest.mark.parametrize("slug", SLUGS)
@per_crop
@given(quantity=quantities)
def test_round_trip_of_meaningful_amounts_is_within_relative_tolerance(
    slug: str, quantity: Decimal
) -> None:
    crop = CATALOG.get(slug)
    for from_unit, to_unit in unit_pairs(crop):
        ratio = crop.units[to_unit] / crop.units[from_unit]
        # Shift the amount so it is at least one unit on both sides of the trip.
        amount = (quantity + max(ONE, ratio)).quantize(MILLI, rounding=ROUND_CEILING)
        there = CATALOG.convert(slug, amount, from_unit, to_unit)
        back = CATALOG.convert(slug, there, to_unit, from_unit)
        assert abs(back - amount) <= REL_TOL * amount, (from_unit, to_unit, amount, back)


@given(crop_unit=st.sampled_from(CROP_UNITS), a=quantities, b=quantities)
def test_to_canonical_is_monotonic(crop_unit: tuple[str, str], a: Decimal, b: Decimal) -> None:
    slug, unit = crop_unit
    low, high = sorted((a, b))
    assert CATALOG.to_canonical(slug, low, unit) <= CATALOG.to_canonical(slug, high, unit)


@given(crop_unit=st.sampled_from(CROP_UNITS), a=quantities, b=quantities)
def test_to_canonical_is_additive(crop_unit: tuple[str, str], a: Decimal, b: Decimal) -> None:
    slug, unit = crop_unit
    whole = CATALOG.to_canonical(slug, a + b, unit)
    parts = CATALOG.to_canonical(slug, a, unit) + CATALOG.to_canonical(slug, b, unit)
    # Each of the three conversions may be off by half a step.
    assert abs(whole - parts) <= 3 * HALF_STEP


@given(crop_unit=st.sampled_from(CROP_UNITS), quantity=quantities)
def test_to_canonical_agrees_with_convert_to_the_canonical_unit(
    crop_unit: tuple[str, str], quantity: Decimal
) -> None:
    slug, unit = crop_unit
    canonical_unit = CATALOG.get(slug).canonical_unit
    assert CATALOG.to_canonical(slug, quantity, unit) == CATALOG.convert(
        slug, quantity, unit, canonical_unit
    )


@given(crop_unit=st.sampled_from(CROP_UNITS), quantity=quantities)
def test_converting_to_the_same_unit_is_identity(
    crop_unit: tuple[str, str], quantity: Decimal
) -> None:
    slug, unit = crop_unit
    result = CATALOG.convert(slug, quantity, unit, unit)
    assert result == quantity
    assert result.as_tuple().exponent == -6


@given(slug=st.sampled_from(SLUGS), quantity=quantities)
def test_canonical_unit_is_identity_for_to_canonical(slug: str, quantity: Decimal) -> None:
    canonical_unit = CATALOG.get(slug).canonical_unit
    assert CATALOG.to_canonical(slug, quantity, canonical_unit) == quantity
