"""The built-in crop catalog: which crops exist and how their units convert.

Aggregates are always expressed in a crop's canonical unit, so every quantity entering the
system goes through ``CropCatalog.to_canonical``. Arithmetic is Decimal-only because
binary floats cannot hold factors such as 0.45359237 exactly, so stored totals would drift
from what people actually entered.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any

from harvest.domain.errors import FieldError, UnitNotAllowed, UnknownCrop, ValidationFailed

CATEGORIES = frozenset({"vegetable", "fruit", "herb", "nut", "grain", "legume", "animal-product"})
UNITS = frozenset({"kg", "g", "lb", "oz", "each", "bunch", "dozen", "litre", "jar", "head", "box"})
# Units that count whole things: half a jar or 0.001 of an apple cannot change hands.
COUNT_UNITS = frozenset({"each", "bunch", "dozen", "jar", "head", "box"})
SLUG_PATTERN = re.compile(r"^[a-z]+(-[a-z]+)*$")

# A private context keeps results independent of whatever precision or rounding the
# caller's thread-local decimal context happens to carry.
_CTX = Context(prec=34, rounding=ROUND_HALF_EVEN)
_STEP = Decimal("0.000001")
# Above difflib's 0.6 default: short slugs ("oat", "pea") otherwise match half the catalog.
_CUTOFF = 0.7
_PARTIAL_SCORE = 0.8
_SPREAD = 0.2


@dataclass(frozen=True, slots=True)
class Crop:
    slug: str
    name: str
    category: str
    canonical_unit: str
    # Excluded from the hash because a mapping is unhashable; slug already identifies a crop.
    units: Mapping[str, Decimal] = field(hash=False)

    def __post_init__(self) -> None:
        # Freeze a private copy so a catalog entry cannot be mutated through the caller's dict.
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))

    @property
    def allowed_units(self) -> list[str]:
        return sorted(self.units)


def _normalise(text: str) -> str:
    return re.sub(r"[\s_-]+", "-", text.strip().lower()).strip("-")


def _singular_forms(key: str) -> set[str]:
    # Crude English de-pluralisation of the last word; only ever used to rank suggestions.
    forms = {key}
    if key.endswith("ies"):
        forms.add(key[:-3] + "y")
    if key.endswith("es"):
        forms.add(key[:-2])
    if key.endswith("s"):
        forms.add(key[:-1])
    return forms


def _score(variant: str, key: str) -> float:
    matcher = difflib.SequenceMatcher(None, variant, key)
    # Partial names ("chard", "straw") rate low on edit similarity but are clearly meant.
    if len(variant) >= 3 and (key.startswith(variant) or variant in key.split("-")):
        return max(matcher.ratio(), _PARTIAL_SCORE)
    # The cheap upper bounds skip the full comparison for most of the catalog.
    if matcher.real_quick_ratio() < _CUTOFF or matcher.quick_ratio() < _CUTOFF:
        return 0.0
    return matcher.ratio()


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(_STEP, context=_CTX)


def _validate(crop: Crop) -> None:
    if not SLUG_PATTERN.fullmatch(crop.slug):
        raise ValueError(f"crop slug {crop.slug!r} is not lowercase-hyphenated ascii")
    if crop.category not in CATEGORIES:
        raise ValueError(f"crop {crop.slug!r} has unknown category {crop.category!r}")
    if crop.units.get(crop.canonical_unit) != 1:
        raise ValueError(f"crop {crop.slug!r}: canonical unit factor must be 1")
    for unit, factor in crop.units.items():
        if unit not in UNITS:
            raise ValueError(f"crop {crop.slug!r} uses unknown unit {unit!r}")
        if not factor.is_finite() or factor <= 0:
            raise ValueError(f"crop {crop.slug!r}: factor for {unit!r} must be > 0")


class CropCatalog:
    """An immutable, validated set of crops with lookup, suggestions and conversion."""

    def __init__(self, crops: Iterable[Crop]) -> None:
        self._by_slug: dict[str, Crop] = {}
        for crop in crops:
            _validate(crop)
            if crop.slug in self._by_slug:
                raise ValueError(f"duplicate crop slug {crop.slug!r}")
            self._by_slug[crop.slug] = crop
        # Display names resolve too ("Brussels Sprouts"), but never shadow a real slug.
        self._lookup = {_normalise(c.name): c.slug for c in self._by_slug.values()}
        self._lookup.update({slug: slug for slug in self._by_slug})

    def __len__(self) -> int:
        return len(self._by_slug)

    def __iter__(self) -> Iterator[Crop]:
        return iter(self._by_slug.values())

    def __contains__(self, slug: object) -> bool:
        return isinstance(slug, str) and slug in self._by_slug

    def get(self, slug: str) -> Crop:
        crop = self._by_slug.get(slug)
        if crop is None:
            raise UnknownCrop(slug, self.suggest(slug))
        return crop

    def suggest(self, text: str, limit: int = 3) -> list[str]:
        variants = _singular_forms(_normalise(text))
        scored: list[tuple[float, str]] = []
        for crop in self._by_slug.values():
            keys = (crop.slug, _normalise(crop.name))
            score = max(_score(variant, key) for variant in variants for key in keys)
            if score >= _CUTOFF:
                scored.append((score, crop.slug))
        scored.sort(key=lambda item: (-item[0], item[1]))
        # Once something matches well, far weaker candidates only distract from it.
        floor = scored[0][0] - _SPREAD if scored else 0.0
        return [slug for score, slug in scored[:limit] if score >= floor]

    def resolve_slug(self, text: str) -> str | None:
        return self._lookup.get(_normalise(text))

    def check_quantity(self, slug: str, quantity: Decimal, unit: str) -> Crop:
        """The crop, once the unit is one of its units and the quantity fits the unit."""
        crop = self.get(slug)
        _factor(crop, unit)
        require_whole(_finite(quantity), unit)
        return crop

    def to_canonical(self, slug: str, quantity: Decimal, unit: str) -> Decimal:
        crop = self.get(slug)
        return _quantize(_CTX.multiply(_finite(quantity), _factor(crop, unit)))

    def convert(self, slug: str, quantity: Decimal, from_unit: str, to_unit: str) -> Decimal:
        crop = self.get(slug)
        from_factor, to_factor = _factor(crop, from_unit), _factor(crop, to_unit)
        if from_unit == to_unit:
            return _quantize(_finite(quantity))
        canonical = _CTX.multiply(_finite(quantity), from_factor)
        # One rounding at the end: quantizing the intermediate would compound the error.
        return _quantize(_CTX.divide(canonical, to_factor))


def require_whole(amount: Decimal, unit: str) -> None:
    """A quantity in a count unit must be a whole number (measured units take decimals)."""
    if unit in COUNT_UNITS and amount.is_finite() and amount != amount.to_integral_value():
        raise ValidationFailed(
            f"quantity {amount} is not a whole number of {unit}",
            [FieldError("quantity", f"'{unit}' counts whole items", "whole_number_required")],
        )


def _factor(crop: Crop, unit: str) -> Decimal:
    factor = crop.units.get(unit)
    if factor is None:
        raise UnitNotAllowed(crop.slug, unit, crop.allowed_units)
    return factor


def _finite(quantity: Decimal) -> Decimal:
    if not quantity.is_finite():
        raise ValidationFailed(
            f"quantity {quantity} is not a finite number",
            [FieldError("quantity", "must be a finite number")],
        )
    return quantity


def _crop_from_json(entry: Mapping[str, Any]) -> Crop:
    units: dict[str, Decimal] = {}
    for unit, factor in entry["units"].items():
        # Strings only: a JSON number would already have been through a float.
        if not isinstance(factor, str):
            raise ValueError(f"crop {entry['slug']!r}: factor for {unit!r} must be a string")
        units[unit] = Decimal(factor)
    return Crop(
        slug=entry["slug"],
        name=entry["name"],
        category=entry["category"],
        canonical_unit=entry["canonicalUnit"],
        units=units,
    )


@cache
def load_catalog() -> CropCatalog:
    raw = files("harvest.domain.data").joinpath("crops.json").read_text(encoding="utf-8")
    return CropCatalog(_crop_from_json(entry) for entry in json.loads(raw))
