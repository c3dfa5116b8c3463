"""Behaviour of the built-in crop catalog: data integrity, lookup, suggestions, conversion."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, MutableMapping
from decimal import ROUND_DOWN, Decimal, localcontext
from importlib.resources import files
from typing import Any, cast

import pytest

from harvest.domain.crops import (
    CATEGORIES,
    COUNT_UNITS,
    UNITS,
    Crop,
    CropCatalog,
    load_catalog,
    require_whole,
)
from harvest.domain.errors import UnitNotAllowed, UnknownCrop, ValidationFailed

SLUG_RE = re.compile(r"^[a-z]+(-[a-z]+)*$")
WEIGHTS = {"kg": "1", "g": "0.001", "lb": "0.45359237", "oz": "0.028349523125"}


def make_crop(
    slug: str = "tomato",
    *,
    category: str = "vegetable",
    canonical_unit: str = "kg",
    units: Mapping[str, str] | None = None,
) -> Crop:
    raw = WEIGHTS if units is None else units
    return Crop(
        slug=slug,
        name=slug.replace("-", " ").title(),
        category=category,
        canonical_unit=canonical_unit,
        units={unit: Decimal(factor) for unit, factor in raw.items()},
    )


@pytest.fixture(scope="module")
def catalog() -> CropCatalog:
    return load_catalog()


# --- the packaged data -------------------------------------------------------------------


def test_builtin_catalog_has_at_least_sixty_crops(catalog: CropCatalog) -> None:
    assert len(catalog) >= 60
    assert len(list(catalog)) == len(catalog)


def test_load_catalog_reads_the_file_only_once() -> None:
    assert load_catalog() is load_catalog()


def test_every_crop_maps_its_canonical_unit_to_one(catalog: CropCatalog) -> None:
    for crop in catalog:
        assert crop.units[crop.canonical_unit] == Decimal(1), crop.slug
        assert crop.canonical_unit in crop.allowed_units


def test_every_slug_is_lowercase_hyphenated_ascii(catalog: CropCatalog) -> None:
    bad = [crop.slug for crop in catalog if not SLUG_RE.fullmatch(crop.slug)]
    assert bad == []


def test_every_crop_uses_known_category_units_and_positive_factors(
    catalog: CropCatalog,
) -> None:
    for crop in catalog:
        assert crop.category in CATEGORIES, crop.slug
        assert set(crop.units) <= UNITS, crop.slug
        assert all(factor > 0 for factor in crop.units.values()), crop.slug


def test_catalog_covers_every_category(catalog: CropCatalog) -> None:
    assert {crop.category for crop in catalog} == CATEGORIES


def test_factors_in_the_json_file_are_strings_not_floats() -> None:
    raw: list[dict[str, Any]] = json.loads(
        files("harvest.domain.data").joinpath("crops.json").read_text(encoding="utf-8")
    )
    non_strings = [
        (entry["slug"], unit)
        for entry in raw
        for unit, factor in entry["units"].items()
        if not isinstance(factor, str)
    ]
    assert non_strings == []


def test_weight_units_use_the_exact_international_definitions(catalog: CropCatalog) -> None:
    for crop in catalog:
        if crop.canonical_unit == "kg":
            for unit, factor in WEIGHTS.items():
                assert crop.units[unit] == Decimal(factor), (crop.slug, unit)


def test_allowed_units_are_sorted(catalog: CropCatalog) -> None:
    crop = catalog.get("tomato")
    assert crop.allowed_units == sorted(crop.units)
    assert crop.allowed_units == ["each", "g", "kg", "lb", "oz"]


# --- lookup, resolution and suggestions ---------------------------------------------------


def test_catalog_membership_is_by_exact_slug(catalog: CropCatalog) -> None:
    assert "tomato" in catalog
    assert "Tomato" not in catalog
    assert "tomatoe" not in catalog
    assert 42 not in catalog


def test_get_returns_the_crop_for_a_known_slug(catalog: CropCatalog) -> None:
    crop = catalog.get("swiss-chard")
    assert crop.name == "Swiss Chard"
    assert crop.category == "vegetable"


def test_unknown_crop_suggests_close_matches(catalog: CropCatalog) -> None:
    with pytest.raises(UnknownCrop) as excinfo:
        catalog.get("tomatoe")
    assert excinfo.value.slug == "tomatoe"
    assert excinfo.value.suggestions[0] == "tomato"
    assert len(excinfo.value.suggestions) <= 3
    assert "did you mean tomato" in excinfo.value.detail


def test_unknown_crop_without_any_close_match_has_no_suggestions(catalog: CropCatalog) -> None:
    with pytest.raises(UnknownCrop) as excinfo:
        catalog.get("xylophone")
    assert excinfo.value.suggestions == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tomatoe", "tomato"),
        ("tomatoes", "tomato"),
        ("potatos", "potato"),
        ("Green Beans", "green-bean"),
        ("green_beans", "green-bean"),
        ("strawberries", "strawberry"),
        ("peaches", "peach"),
        ("zuchini", "zucchini"),
        ("brocoli", "broccoli"),
        ("chard", "swiss-chard"),
    ],
)
def test_suggest_ranks_the_intended_crop_first_for_typos_and_plurals(
    catalog: CropCatalog, typed: str, expected: str
) -> None:
    assert catalog.suggest(typed)[0] == expected


def test_suggest_respects_the_limit(catalog: CropCatalog) -> None:
    assert len(catalog.suggest("bean")) == 3
    assert len(catalog.suggest("bean", limit=1)) == 1
    assert catalog.suggest("bean", limit=0) == []


def test_every_crop_is_its_own_top_suggestion(catalog: CropCatalog) -> None:
    for crop in catalog:
        assert catalog.suggest(crop.slug)[0] == crop.slug
        assert catalog.suggest(crop.name)[0] == crop.slug


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tomato", "tomato"),
        ("  Tomato ", "tomato"),
        ("SWISS CHARD", "swiss-chard"),
        ("swiss_chard", "swiss-chard"),
        ("green   bean", "green-bean"),
        ("Brussels Sprouts", "brussels-sprout"),
    ],
)
def test_resolve_slug_normalises_case_whitespace_and_underscores(
    catalog: CropCatalog, typed: str, expected: str
) -> None:
    assert catalog.resolve_slug(typed) == expected


@pytest.mark.parametrize("typed", ["tomatoes", "tomatoe", "potatos", "green beans", ""])
def test_resolve_slug_does_not_autocorrect(catalog: CropCatalog, typed: str) -> None:
    assert catalog.resolve_slug(typed) is None


def test_every_crop_resolves_from_its_slug_and_display_name(catalog: CropCatalog) -> None:
    for crop in catalog:
        assert catalog.resolve_slug(crop.slug) == crop.slug
        assert catalog.resolve_slug(crop.name) == crop.slug


# --- conversion ---------------------------------------------------------------------------


def test_pounds_of_tomato_convert_to_kilograms(catalog: CropCatalog) -> None:
    assert catalog.to_canonical("tomato", Decimal("2"), "lb") == Decimal("0.907185")
    assert catalog.convert("tomato", Decimal("2"), "lb", "kg") == Decimal("0.907185")


def test_results_are_quantized_to_six_places_half_even(catalog: CropCatalog) -> None:
    result = catalog.to_canonical("tomato", Decimal("1"), "lb")
    assert result == Decimal("0.453592")
    assert result.as_tuple().exponent == -6
    # 0.0000025 kg sits exactly between two steps; half-even keeps the even digit.
    assert catalog.to_canonical("tomato", Decimal("0.0025"), "g") == Decimal("0.000002")


def test_counted_produce_converts_with_its_average_weight(catalog: CropCatalog) -> None:
    assert catalog.to_canonical("tomato", Decimal("4"), "each") == Decimal("0.6")
    assert catalog.convert("tomato", Decimal("0.6"), "kg", "each") == Decimal("4")


def test_conversion_between_two_non_canonical_units(catalog: CropCatalog) -> None:
    assert catalog.convert("potato", Decimal("16"), "oz", "lb") == Decimal("1")
    assert catalog.convert("potato", Decimal("1"), "lb", "g") == Decimal("453.59237")


def test_twelve_eggs_make_one_dozen(catalog: CropCatalog) -> None:
    assert catalog.to_canonical("egg", Decimal("12"), "each") == Decimal("1")
    assert catalog.convert("egg", Decimal("1"), "dozen", "each") == Decimal("12")


def test_herbs_are_counted_in_bunches(catalog: CropCatalog) -> None:
    basil = catalog.get("basil")
    assert basil.canonical_unit == "bunch"
    assert catalog.to_canonical("basil", Decimal("50"), "g") == Decimal("2")


def test_unit_not_allowed_carries_allowed_units(catalog: CropCatalog) -> None:
    with pytest.raises(UnitNotAllowed) as excinfo:
        catalog.to_canonical("tomato", Decimal("1"), "bunch")
    assert excinfo.value.allowed == ["each", "g", "kg", "lb", "oz"]
    assert [error.loc for error in excinfo.value.errors] == ["unit"]


@pytest.mark.parametrize(("from_unit", "to_unit"), [("dozen", "kg"), ("kg", "dozen")])
def test_convert_rejects_a_unit_on_either_side(
    catalog: CropCatalog, from_unit: str, to_unit: str
) -> None:
    with pytest.raises(UnitNotAllowed) as excinfo:
        catalog.convert("tomato", Decimal("1"), from_unit, to_unit)
    assert excinfo.value.allowed == catalog.get("tomato").allowed_units


def test_converting_an_unknown_crop_raises_unknown_crop(catalog: CropCatalog) -> None:
    with pytest.raises(UnknownCrop) as excinfo:
        catalog.to_canonical("potatos", Decimal("1"), "kg")
    assert "potato" in excinfo.value.suggestions


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_quantities_are_rejected(catalog: CropCatalog, quantity: str) -> None:
    with pytest.raises(ValidationFailed):
        catalog.to_canonical("tomato", Decimal(quantity), "kg")
    with pytest.raises(ValidationFailed):
        catalog.convert("tomato", Decimal(quantity), "lb", "kg")


def test_results_ignore_the_callers_decimal_context(catalog: CropCatalog) -> None:
    with localcontext(prec=3, rounding=ROUND_DOWN):
        assert catalog.to_canonical("tomato", Decimal("3"), "lb") == Decimal("1.360777")


# --- constructor validation ---------------------------------------------------------------


def test_valid_crops_build_a_catalog() -> None:
    built = CropCatalog([make_crop("tomato"), make_crop("green-bean")])
    assert len(built) == 2
    assert [crop.slug for crop in built] == ["tomato", "green-bean"]


def test_duplicate_slug_is_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        CropCatalog([make_crop("tomato"), make_crop("tomato")])


@pytest.mark.parametrize("factor", ["0.5", "2", "0"])
def test_canonical_factor_other_than_one_is_rejected(factor: str) -> None:
    with pytest.raises(ValueError, match="canonical"):
        CropCatalog([make_crop(units={**WEIGHTS, "kg": factor})])


def test_missing_canonical_unit_is_rejected() -> None:
    with pytest.raises(ValueError, match="canonical"):
        CropCatalog([make_crop(canonical_unit="each")])


@pytest.mark.parametrize("factor", ["0", "-0.15", "NaN", "Infinity"])
def test_non_positive_or_non_finite_factor_is_rejected(factor: str) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        CropCatalog([make_crop(units={**WEIGHTS, "each": factor})])


@pytest.mark.parametrize("slug", ["Tomato", "green_bean", "tomato-", "-tomato", "tomato2", ""])
def test_malformed_slug_is_rejected(slug: str) -> None:
    with pytest.raises(ValueError, match="slug"):
        CropCatalog([make_crop(slug)])


def test_unknown_category_is_rejected() -> None:
    with pytest.raises(ValueError, match="category"):
        CropCatalog([make_crop(category="mineral")])


def test_unit_outside_the_vocabulary_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown unit"):
        CropCatalog([make_crop(units={**WEIGHTS, "bushel": "25"})])


def test_crop_units_cannot_be_changed_after_construction() -> None:
    source = {"kg": Decimal(1)}
    crop = Crop("tomato", "Tomato", "vegetable", "kg", source)
    source["g"] = Decimal("0.001")
    assert dict(crop.units) == {"kg": Decimal(1)}
    with pytest.raises(TypeError):
        cast(MutableMapping[str, Decimal], crop.units)["kg"] = Decimal(2)


def test_crops_are_hashable_and_compare_by_value() -> None:
    assert make_crop() == make_crop()
    assert len({make_crop(), make_crop()}) == 1


@pytest.mark.parametrize("unit", sorted(COUNT_UNITS))
def test_count_units_refuse_fractions_and_take_whole_numbers(unit: str) -> None:
    with pytest.raises(ValidationFailed, match="whole number"):
        require_whole(Decimal("0.001"), unit)
    require_whole(Decimal("3"), unit)
    require_whole(Decimal("3.000"), unit)


@pytest.mark.parametrize("unit", sorted(UNITS - COUNT_UNITS))
def test_measured_units_take_decimals(unit: str) -> None:
    require_whole(Decimal("0.125"), unit)


def test_check_quantity_checks_the_unit_of_the_crop_and_whole_counts() -> None:
    catalog = load_catalog()

    assert catalog.check_quantity("apple", Decimal("12"), "each").slug == "apple"
    with pytest.raises(ValidationFailed, match="whole number"):
        catalog.check_quantity("apple", Decimal("0.5"), "each")
    with pytest.raises(UnitNotAllowed):
        catalog.check_quantity("apple", Decimal("1"), "litre")
