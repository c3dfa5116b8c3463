"""Consistent noise on every published figure (docs/privacy.md, "Noise against sybils").

Counting rules (domain.disclosure) keep every published combination attributable to k
contributors, but k counts accounts: an attacker with k - 1 accounts of its own in a region
learns the one real grower's exact figure. Noise stops that, and it must not be averaged
away, so it is:

- **per released region**: a published cell x crop x window segment (the days between two
  shown windows, ``noisy_windows``). Each region's true figures get their own draw; a window
  is the sum of its segments' noisy figures and a coarser area the sum of its cells'
  (domain.release), so every published figure is a sum of noisy regions and the sums stay
  consistent (precision 4 = sum of precision 5, 30 days = its segments);
- **deterministic**: the draw is an HMAC of a secret key, the region's identity and the
  region's whole true state (supply, demand, listings, requests, contributors). Reading again,
  and recomputing an unchanged region (any day, any worker), gives the same figure: nothing to
  average by repetition. Any real change of the region draws afresh, so a version delta is
  never exactly one grower's item;
- **discrete Laplace** (two-sided geometric), on a grid of ``QUANTITY_STEP`` canonical units
  for quantities and of 1 for counts, with a scale per kind of figure (settings); never
  negative: a quantity is floored at 0, a count of a kind present in the region at 1 (that a
  kind is present is already public: the region passed the k gate, and the feed shows live
  items).

The uniform draws come from 53 bits of HMAC-SHA256 each; the inverse-CDF geometric uses
floating point logarithms (enough here: an attacker sees one draw per distinct state, not a
stream it could fingerprint). No differential-privacy library is imported: OpenDP's wheel
is tens of MB and its noise is random per call, which would have to be made deterministic
around it anyway (docs/privacy.md, options weighed).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Final, Protocol

from harvest.domain.common import quantity
from harvest.domain.disclosure import WindowCounts

__all__ = ["QUANTITY_STEP", "KeyedNoise", "Noise", "discrete_laplace", "noisy_windows"]

# The grid of quantity noise, in a crop's canonical unit (kg, bunch, each ...).
QUANTITY_STEP: Final = Decimal("0.01")
_BITS: Final = 53


class Noise(Protocol):
    """One deterministic draw per message (a region's identity and true state)."""

    def quantity(self, message: str, value: Decimal) -> Decimal:
        """`value` plus noise, >= 0."""
        ...

    def count(self, message: str, value: int) -> int:
        """`value` (> 0: a kind present in the region) plus noise, >= 1."""
        ...


def _uniform(digest: bytes, part: int) -> float:
    """A uniform in (0, 1] from 53 bits of `digest` (part 0 or 1)."""
    bits = int.from_bytes(digest[8 * part : 8 * part + 8], "big") >> (64 - _BITS)
    return math.ldexp(bits + 1, -_BITS)


def discrete_laplace(digest: bytes, scale: float) -> int:
    """A draw of the discrete Laplace distribution, P(x) proportional to exp(-|x| / scale),
    from 16 bytes of `digest`: the difference of two geometric draws of parameter
    1 - exp(-1 / scale) (inverse CDF). Scale 0: 0."""
    if scale <= 0:
        return 0
    log_alpha = -1.0 / scale
    first, second = (math.floor(math.log(_uniform(digest, part)) / log_alpha) for part in (0, 1))
    return first - second


@dataclass(frozen=True, slots=True)
class KeyedNoise:
    """Noise keyed by HMAC-SHA256 of a secret: `quantity_scale` in canonical units,
    `count_scale` in items (the Laplace scales; 0 switches a kind of figure off)."""

    key: bytes
    quantity_scale: Decimal
    count_scale: float

    def _draw(self, message: str, scale: float) -> int:
        digest = hmac.new(self.key, message.encode(), hashlib.sha256).digest()
        return discrete_laplace(digest, scale)

    def quantity(self, message: str, value: Decimal) -> Decimal:
        steps = self._draw(message, float(self.quantity_scale / QUANTITY_STEP))
        return quantity(max(Decimal(0), value + steps * QUANTITY_STEP))

    def count(self, message: str, value: int) -> int:
        return max(1, value + self._draw(message, self.count_scale))


class RegionFigures(WindowCounts, Protocol):
    """What noise needs of one crop's totals in one window (domain.signals.CropFigures)."""

    @property
    def supply(self) -> Decimal: ...
    @property
    def demand(self) -> Decimal: ...


def noisy_windows[F: RegionFigures](
    cell: str, crop: str, per_window: Mapping[int, F], shown: frozenset[int], noise: Noise | None
) -> dict[int, F]:
    """The figures of the `shown` windows of one crop in one published cell, each the sum of
    its segments' noisy figures (shortest window first: days 1-7, 8-14, 15-30 when all three
    are shown). `contributors` stay true: they are never published, only the k gate reads
    them. Without `noise`, the true figures."""
    if noise is None:
        return {w: per_window[w] for w in shown}
    result: dict[int, F] = {}
    low: F | None = None
    low_days = 0
    supply_sum, demand_sum, listings_sum, requests_sum = Decimal(0), Decimal(0), 0, 0
    for window in sorted(shown):
        high = per_window[window]
        supply = high.supply - (low.supply if low else 0)
        demand = high.demand - (low.demand if low else 0)
        listings = high.listings - (low.listings if low else 0)
        requests = high.requests - (low.requests if low else 0)
        users = high.contributors - (low.contributors if low else 0)
        # The region's identity and its whole true state: any real change draws afresh.
        region = (
            f"{cell}|{crop}|{low_days}-{window}|"
            f"{quantity(supply)}|{quantity(demand)}|{listings}|{requests}|{users}"
        )
        if listings > 0:
            supply_sum += noise.quantity(f"{region}|supply", supply)
            listings_sum += noise.count(f"{region}|listings", listings)
        if requests > 0:
            demand_sum += noise.quantity(f"{region}|demand", demand)
            requests_sum += noise.count(f"{region}|requests", requests)
        result[window] = replace(  # type: ignore[type-var]
            high,
            supply=quantity(supply_sum),
            demand=quantity(demand_sum),
            listings=listings_sum,
            requests=requests_sum,
        )
        low, low_days = high, window
    return result
