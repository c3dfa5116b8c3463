"""Community imbalance signals (DESIGN §5 Insight worker) as pure functions of day buckets.

A window (7, 14 or 30 days) sums the Aggregator's day buckets inside it, so it is right "as
of" any date, also for an area without new events; a user active on several days counts once
per window (domain.disclosure); each released region is noisy (domain.noise). Per crop: scarcity,
abundance, a classification, a confidence. domain.disclosure decides what may be published: a
crop that may not be shown in a window is left out of it (it looks like a crop nobody listed);
the all-crops counts sum the published crops. ``compute_signals``: one published cell."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from typing import Any

from harvest.domain.common import quantity
from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.disclosure import meets_k, released_windows
from harvest.domain.geo import validate_geohash
from harvest.domain.noise import Noise, noisy_windows
from harvest.domain.summary import SummaryLine, render_summary

WINDOWS: tuple[int, ...] = (7, 14, 30)
# Bumped whenever the digest payload changes shape, so old AI cache entries stop matching.
DIGEST_VERSION = "signals-v2"

# Private: results must not depend on the caller's thread-local decimal settings.
_CTX = Context(prec=34, rounding=ROUND_HALF_EVEN)
_RATIO_STEP = Decimal("0.001")
_CONFIDENCE_STEP, _ONE = Decimal("0.01"), Decimal(1)
_FIGURES = ("supply", "demand", "listings", "requests", "scarcity", "abundance", "confidence")
_ALL_CROPS_FIGURES = ("listings", "requests", "contributors", "rounded")


class Classification(StrEnum):
    SHORTAGE = "shortage"
    SURPLUS = "surplus"
    BALANCED = "balanced"
    INSUFFICIENT_DATA = "insufficient_data"


# Declaration order is the order of crops in output and summary: what needs action first.
SEVERITY: tuple[Classification, ...] = tuple(Classification)


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    """Thresholds of classification and publication.

    ``k``: distinct contributors (listing owners, requesters) a crop needs in a window before
    any figure of it is published; also the rounding step of the all-crops counts.
    ``min_observations``: listings + requests a crop needs besides, since k requesters and
    nothing else still say little. ``shortage_at`` / ``surplus_at``: the scarcity / abundance
    from which a crop is in shortage / surplus (shortage wins should both hold).
    ``confidence_half_at``: the observations at which confidence reaches 0.5.
    ``noise``: drawn on every released region (domain.noise); None: the true figures.
    """

    k: int = 3
    min_observations: int = 2
    shortage_at: Decimal = Decimal("1.5")
    surplus_at: Decimal = Decimal("1.5")
    confidence_half_at: int = 5
    noise: Noise | None = None

    def __post_init__(self) -> None:
        if self.k < 1 or self.confidence_half_at < 1 or self.min_observations < 0:
            raise ValueError("k and confidence_half_at must be >= 1, min_observations >= 0")
        for name in ("shortage_at", "surplus_at"):
            threshold: Decimal = getattr(self, name)
            if not threshold.is_finite() or threshold <= 0:
                raise ValueError(f"{name} must be a finite number > 0")


@dataclass(frozen=True, slots=True)
class DayTotals:
    """One Aggregator bucket: a crop's totals on one day, quantities in its canonical unit.
    ``contributors``: the users whose latest live day of this crop and cell is this day, so
    that a window's distinct users are the sum over its days (domain.disclosure)."""

    day: date
    crop: str
    supply: Decimal
    demand: Decimal
    listings: int
    requests: int
    contributors: int = 0

    def __post_init__(self) -> None:
        # Negative buckets would break the nesting of windows and make ratios meaningless.
        for name, value in (("supply", self.supply), ("demand", self.demand)):
            if not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, not {value}")
        if self.listings < 0 or self.requests < 0 or self.contributors < 0:
            raise ValueError("listings, requests and contributors must be >= 0")


@dataclass(frozen=True, slots=True)
class CropFigures:
    """A crop's window totals; ``contributors`` counts distinct users over the window."""

    crop: str
    unit: str
    supply: Decimal
    demand: Decimal
    listings: int
    requests: int
    contributors: int

    @property
    def observations(self) -> int:
        return self.listings + self.requests


@dataclass(frozen=True, slots=True)
class CropSignal:
    """A crop as published: every figure is None exactly when it is ``insufficient_data``."""

    crop: str
    unit: str
    supply: Decimal | None
    demand: Decimal | None
    listings: int | None
    requests: int | None
    scarcity: Decimal | None
    abundance: Decimal | None
    classification: Classification
    confidence: Decimal | None

    def __post_init__(self) -> None:
        # Enforced here, not only in crop_signal, so no code path can publish a hidden figure.
        if any((getattr(self, name) is not None) != self.published for name in _FIGURES):
            raise ValueError(f"{self.crop}: figures must be None iff insufficient_data")

    @property
    def published(self) -> bool:
        return self.classification is not Classification.INSUFFICIENT_DATA


@dataclass(frozen=True, slots=True)
class AllCrops:
    """All-crops counts of a window: the sums of its published crops (domain.disclosure,
    rule 3). No quantities, as units differ; ``contributors`` is never published (None) and
    ``rounded`` is always False: both stay for the v1 contract."""

    listings: int | None
    requests: int | None
    contributors: int | None
    rounded: bool
    supply: None = None
    demand: None = None


@dataclass(frozen=True, slots=True)
class WindowSignals:
    days: int
    crops: tuple[CropSignal, ...]
    summary: str
    all_crops: AllCrops


@dataclass(frozen=True, slots=True)
class AreaSignals:
    geohash: str
    as_of: date
    windows: tuple[WindowSignals, ...]


@dataclass(slots=True)
class _Sums:
    supply: Decimal = Decimal(0)
    demand: Decimal = Decimal(0)
    listings: int = 0
    requests: int = 0
    contributors: int = 0


def in_window(day: date, as_of: date, window_days: int) -> bool:
    """True for ``day`` in ``(as_of - window_days, as_of]``: today in, window_days ago out."""
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    return as_of - timedelta(days=window_days) < day <= as_of


def _sum_window(days: Iterable[DayTotals], as_of: date, window_days: int) -> dict[str, _Sums]:
    per_crop: dict[str, _Sums] = {}
    for bucket in days:
        if not in_window(bucket.day, as_of, window_days):
            continue
        sums = per_crop.setdefault(bucket.crop, _Sums())
        # Decimal addition at 34 digits is exact for bucket values, so order cannot matter.
        sums.supply = _CTX.add(sums.supply, bucket.supply)
        sums.demand = _CTX.add(sums.demand, bucket.demand)
        sums.listings += bucket.listings
        sums.requests += bucket.requests
        sums.contributors += bucket.contributors
    return per_crop


def window_totals(
    days: Iterable[DayTotals], as_of: date, window_days: int, *, catalog: CropCatalog | None = None
) -> dict[str, CropFigures]:
    """Per-crop totals of the buckets in the window, by slug; raises UnknownCrop."""
    crops = catalog if catalog is not None else load_catalog()
    per_crop = _sum_window(days, as_of, window_days)
    return {
        slug: CropFigures(
            crop=slug,
            unit=crops.get(slug).canonical_unit,
            supply=quantity(sums.supply),
            demand=quantity(sums.demand),
            listings=sums.listings,
            requests=sums.requests,
            contributors=sums.contributors,
        )
        for slug, sums in sorted(per_crop.items())
    }


def _ratio(numerator: Decimal, other: Decimal) -> Decimal:
    return _CTX.divide(numerator, _CTX.add(other, _ONE)).quantize(_RATIO_STEP, context=_CTX)


def scarcity(supply: Decimal, demand: Decimal) -> Decimal:
    """``demand / (supply + 1)`` to 3 places, half-even; the + 1 keeps "nothing offered" finite."""
    return _ratio(demand, supply)


def abundance(supply: Decimal, demand: Decimal) -> Decimal:
    """``supply / (demand + 1)`` to 3 places, half-even."""
    return _ratio(supply, demand)


def confidence(observations: int, policy: SignalPolicy | None = None) -> Decimal:
    """``1 - 1 / (1 + n / h)`` = ``n / (n + h)``, half-even to 2 places, within [0, 1].

    ``n`` is listings + requests, ``h`` is ``policy.confidence_half_at`` (5): 0 at n = 0, 0.5
    at h, approaching 1; non-decreasing in n. Contributors are left to the k-anonymity gate.
    """
    if observations < 0:
        raise ValueError("observations must be >= 0")
    half_at = (policy or SignalPolicy()).confidence_half_at
    value = _CTX.divide(Decimal(observations), Decimal(observations + half_at))
    return value.quantize(_CONFIDENCE_STEP, context=_CTX)


def classify(figures: CropFigures, policy: SignalPolicy | None = None) -> Classification:
    """Classify on the rounded ratios, so a published 1.500 and its label always agree."""
    policy = policy or SignalPolicy()
    if (
        not meets_k(figures.contributors, policy.k)
        or figures.observations < policy.min_observations
    ):
        return Classification.INSUFFICIENT_DATA
    if scarcity(figures.supply, figures.demand) >= policy.shortage_at:
        return Classification.SHORTAGE
    if abundance(figures.supply, figures.demand) >= policy.surplus_at:
        return Classification.SURPLUS
    return Classification.BALANCED


def crop_signal(figures: CropFigures, policy: SignalPolicy | None = None) -> CropSignal:
    classification = classify(figures, policy)
    if classification is Classification.INSUFFICIENT_DATA:
        return CropSignal(figures.crop, figures.unit, *(None,) * 6, classification, None)
    return CropSignal(
        crop=figures.crop,
        unit=figures.unit,
        supply=figures.supply,
        demand=figures.demand,
        listings=figures.listings,
        requests=figures.requests,
        scarcity=scarcity(figures.supply, figures.demand),
        abundance=abundance(figures.supply, figures.demand),
        classification=classification,
        confidence=confidence(figures.observations, policy),
    )


def published_window(
    area: str,
    window_days: int,
    figures: Iterable[CropFigures],
    policy: SignalPolicy | None = None,
    *,
    catalog: CropCatalog | None = None,
) -> WindowSignals:
    """Crops released on true counts (domain.disclosure): their signals (classes of the noisy
    figures, no observations gate), the summary and the all-crops sums; under k: left out."""
    gate = replace(policy or SignalPolicy(), min_observations=0)
    crops = catalog if catalog is not None else load_catalog()
    signals = [crop_signal(f, gate) for f in figures]
    shown = sorted(
        (s for s in signals if s.published),
        key=lambda s: (SEVERITY.index(s.classification), crops.get(s.crop).name, s.crop),
    )
    return shown_window(area, window_days, tuple(shown), catalog=crops)


def shown_window(
    area: str, window_days: int, shown: tuple[CropSignal, ...], *, catalog: CropCatalog
) -> WindowSignals:
    """A window of crops already shown, in the order given: its summary and all-crops sums
    are functions of them (so a stored insight keeps only the crops, domain.insight)."""
    lines = [
        SummaryLine(catalog.get(s.crop).name, s.unit, s.supply, s.demand, s.classification.value)
        for s in shown
        if s.supply is not None and s.demand is not None
    ]
    listings, requests = sum(s.listings or 0 for s in shown), sum(s.requests or 0 for s in shown)
    return WindowSignals(
        days=window_days,
        crops=shown,
        summary=render_summary(area, window_days, lines, 0),
        all_crops=AllCrops(listings=listings, requests=requests, contributors=None, rounded=False),
    )


def released_figures(
    as_of: date,
    days: Iterable[DayTotals],
    policy: SignalPolicy | None = None,
    *,
    windows: tuple[int, ...] = WINDOWS,
    catalog: CropCatalog | None = None,
    cell: str = "",
) -> dict[int, list[CropFigures]]:
    """Per window, the figures of published `cell` that may be shown, noisy (domain.noise)."""
    policy = policy or SignalPolicy()
    buckets = tuple(days)
    totals = {w: window_totals(buckets, as_of, w, catalog=catalog) for w in windows}
    released: dict[int, list[CropFigures]] = {w: [] for w in windows}
    for crop in sorted({slug for per_crop in totals.values() for slug in per_crop}):
        per_window = {w: totals[w][crop] for w in windows if crop in totals[w]}
        eligible = [
            w
            for w, figures in per_window.items()
            if classify(figures, policy) is not Classification.INSUFFICIENT_DATA
        ]
        shown = released_windows(per_window, eligible, policy.k)
        for w, figures in noisy_windows(cell, crop, per_window, shown, policy.noise).items():
            released[w].append(figures)
    return released


def window_signals(
    area: str, as_of: date, days: Iterable[DayTotals], window_days: int,
    policy: SignalPolicy | None = None, *, catalog: CropCatalog | None = None,
) -> WindowSignals:  # fmt: skip
    """One window of a cell as compute_signals shows it; ``area`` is used as given."""
    windows = tuple(sorted({*WINDOWS, window_days}))
    released = released_figures(as_of, days, policy, windows=windows, catalog=catalog, cell=area)
    return published_window(area, window_days, released[window_days], policy, catalog=catalog)


def compute_signals(
    area: str, as_of: date, days: Iterable[DayTotals],
    policy: SignalPolicy | None = None, *, catalog: CropCatalog | None = None,
) -> AreaSignals:  # fmt: skip
    """The 7, 14 and 30 days up to ``as_of`` of one cell from its own buckets, as a
    published cell shows them (domain.release decides which cells publish).

    Raises InvalidGeohash for a bad area and UnknownCrop for a bucket of an unknown crop.
    """
    geohash = validate_geohash(area, min_precision=4, max_precision=6)
    released = released_figures(as_of, days, policy, catalog=catalog, cell=geohash)
    windows = tuple(
        published_window(geohash, w, released[w], policy, catalog=catalog) for w in WINDOWS
    )
    return AreaSignals(geohash=geohash, as_of=as_of, windows=windows)


def _digest_entry(signal: CropSignal) -> dict[str, Any]:
    if not signal.published:
        return {"crop": signal.crop}
    entry = {name: getattr(signal, name) for name in ("crop", "unit", "classification", *_FIGURES)}
    # Equal amounts must hash equal whatever their exponent (2.5 vs 2.50).
    return {k: f"{quantity(v):f}" if isinstance(v, Decimal) else v for k, v in entry.items()}


def inputs_digest(window: WindowSignals) -> str:
    """sha256 (hex) of a window's published figures as canonical JSON, for AI cache keys.

    Hidden crops contribute their slug only. The summary (derived from the same figures) and
    the area are left out: the caller keys its cache on area and window plus this digest.
    """
    payload = {
        "version": DIGEST_VERSION,
        "days": window.days,
        "crops": [_digest_entry(s) for s in sorted(window.crops, key=lambda s: s.crop)],
        "allCrops": [getattr(window.all_crops, name) for name in _ALL_CROPS_FIGURES],
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
