"""An area's published signals as the insight worker stores them (DESIGN §5 Insight worker).

An insight is the published part of AreaSignals for one area as of one day, plus the
guard that orders computations: (as-of day, input version). A computation is newer than the
stored insight when its day is later, or the day is the same and it read newer buckets (a
larger sum of bucket write counters, see SignalService). Only what may be published is kept:
hidden crops carry their slug and ``insufficient_data``, never a figure, so the item, the
`insight.generated` event and any prompt built from it are k-anonymous by construction.

The stored form is a plain dict of str, int, Decimal, list and dict (DynamoDB's types), and
``windows_from_stored`` rebuilds equal WindowSignals from it, so the AI worker explains
exactly what was published. An insight is billed whole (1 KB write, 4 KB read units) every
time a batch rewrites or rereads it (docs/scaling.md), so only what cannot be derived is
stored, each crop once for all windows: ``[[7, 14, 30], row, row, ...]``, a row per crop
``[slug, *w7, *w14, *w30]`` where each window's part is its figures in ``STORED_ROW_FIELDS``
order after the slug (supply, demand, listings, requests) when the crop is published there,
``None`` when that window does not list it (``False``: listed without figures). Rows follow
the windows' own order of crops (one order, by crop name, for all of them); windows that
would not share one are stored in the previous form, a pair ``[days, rows]`` per window with
a ``STORED_ROW_FIELDS`` row per crop. (The previous form repeated each slug per window: ten
busy crops made a cell's insight ~1,035 B, just over the 1 KB write unit, and ~830 B now.)
The rest is rebuilt
on read from those figures: the unit (the catalog's canonical unit), scarcity and abundance
(functions of supply and demand), the classification and the confidence (functions of
those and of the thresholds of ``SignalPolicy``, which are constants; k and the minimum of
observations only decide whether a crop is stored at all), the all-crops counts (sums of the
published crops), the summary (domain.summary, a pure function of the crops, the area and
the catalog) and the digests. The forms stored before (crops as maps, then as ten-field
rows with unit, ratios and summary, "crops"; then ``[days, rows]`` per window) are still
read. The `insight.generated` event keeps the named form (``windows_to_public``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from harvest.domain.crops import CropCatalog, load_catalog
from harvest.domain.signals import (
    AllCrops,
    AreaSignals,
    Classification,
    CropFigures,
    CropSignal,
    SignalPolicy,
    WindowSignals,
    crop_signal,
    inputs_digest,
    shown_window,
)

__all__ = [
    "STORED_CROP_FIELDS",
    "STORED_ROW_FIELDS",
    "Insight",
    "insight_of",
    "is_newer",
    "window_shape",
    "windows_from_stored",
    "windows_to_public",
    "windows_to_stored",
]

_CROP_FIGURES = ("supply", "demand", "scarcity", "abundance", "confidence")
_CROP_COUNTS = ("listings", "requests")
_ALL_COUNTS = ("listings", "requests", "contributors")
# The row stored before (still read): the first three always, the figures when published.
STORED_CROP_FIELDS = ("crop", "unit", "classification", "supply", "demand", "listings",
                      "requests", "scarcity", "abundance", "confidence")  # fmt: skip
# A stored row now: what cannot be derived (a window stores published crops only).
STORED_ROW_FIELDS = ("crop", "supply", "demand", "listings", "requests")
# Classification thresholds and confidence as published (constants: SignalPolicy's k and
# minimum of observations gate publication, which the stored rows already passed).
_POLICY = SignalPolicy(min_observations=0)

# What an insight.generated event carries in `data` (public_view publishes by inclusion).
PUBLISHED_INSIGHT_ATTRIBUTES = frozenset({
    "area", "asOfDay", "windows", "digests", "version", "createdAt", "updatedAt",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Insight:
    """What one computation of an area produced; ``digests`` per window (7, 14, 30) are the
    published figures' hashes: equal digests mean nothing published changed."""

    area: str
    as_of_day: date
    input_version: int
    windows: tuple[WindowSignals, ...]
    # The last day the windows stay as they are without a new event (a bucket leaves a
    # window the day after): the route serves the stored insight until then.
    valid_until: date | None = None

    @property
    def digests(self) -> dict[str, str]:
        return {str(window.days): inputs_digest(window) for window in self.windows}


def insight_of(
    signals: AreaSignals, input_version: int, valid_until: date | None = None
) -> Insight:
    return Insight(signals.geohash, signals.as_of, input_version, signals.windows, valid_until)


def is_newer(candidate: tuple[date, int], stored: tuple[date, int] | None) -> bool:
    """The insight guard: later day, or same day and newer buckets read."""
    return stored is None or candidate > stored


def windows_to_stored(windows: Sequence[WindowSignals]) -> list[list[Any]]:
    """The stored form (module doc): a row per crop across the windows, or per window
    [days, rows] when the windows do not list their crops in one order."""
    order = _one_order(windows)
    if order is None:
        return [[window.days, [_crop_row(s) for s in window.crops]] for window in windows]
    listed = [{signal.crop: signal for signal in window.crops} for window in windows]
    rows = [
        [crop, *(part for shown in listed for part in _part(shown.get(crop)))] for crop in order
    ]
    return [[window.days for window in windows], *rows]


def _one_order(windows: Sequence[WindowSignals]) -> list[str] | None:
    """Every crop listed, in an order that keeps each window's own; None if there is none."""
    order: list[str] = []
    for window in sorted(windows, key=lambda window: -len(window.crops)):
        order += [signal.crop for signal in window.crops if signal.crop not in order]
    for window in windows:
        shown = {signal.crop for signal in window.crops}
        if [crop for crop in order if crop in shown] != [s.crop for s in window.crops]:
            return None
    return order


def _part(signal: CropSignal | None) -> list[Any]:
    """A crop's part of a row for one window."""
    if signal is None:
        return [None]
    if not signal.published:
        return [False]
    return [signal.supply, signal.demand, signal.listings, signal.requests]


def _is_crop_major(stored: Sequence[Any]) -> bool:
    """The current form: its first element lists the windows' days (numbers only)."""
    first = stored[0] if stored else None
    return isinstance(first, Sequence) and all(
        isinstance(days, (int, Decimal)) and not isinstance(days, bool) for days in first
    )


def _crop_major_windows(
    stored: Sequence[Any], area: str, catalog: CropCatalog
) -> tuple[WindowSignals, ...]:
    days, *rows = stored
    shown: list[list[CropSignal]] = [[] for _ in days]
    for crop, *parts in rows:
        at = 0
        for listed in shown:
            if at >= len(parts):
                raise ValueError(f"stored row of {crop} does not fit {len(days)} windows")
            part = parts[at]
            if part is None:
                at += 1
            elif part is False:
                listed.append(_crop_from_row([crop], catalog))
                at += 1
            else:
                listed.append(_crop_from_row([crop, *parts[at : at + 4]], catalog))
                at += 4
        if at != len(parts):
            raise ValueError(f"stored row of {crop} does not fit {len(days)} windows")
    return tuple(
        shown_window(area, int(window), tuple(listed), catalog=catalog)
        for window, listed in zip(days, shown, strict=True)
    )


def windows_to_public(
    stored: Sequence[Any], area: str, *, catalog: CropCatalog | None = None
) -> list[dict[str, Any]]:
    """Stored windows (any form) of ``area`` in the named form the `insight.generated`
    event publishes (store.event_models.InsightWindowData): each crop a map of its figures."""
    return [
        {
            "days": window.days,
            "summary": window.summary,
            "crops": [_crop_to_stored(signal) for signal in window.crops],
            "allCrops": _all_crops_to_stored(window.all_crops),
        }
        for window in windows_from_stored(stored, area, catalog=catalog)
    ]


def windows_from_stored(
    stored: Sequence[Any], area: str, *, catalog: CropCatalog | None = None
) -> tuple[WindowSignals, ...]:
    """The windows of ``area`` as stored; what the compact form leaves out is rebuilt from
    its rows (see the module doc). Raises KeyError/ValueError on a malformed insight."""
    crops = catalog if catalog is not None else load_catalog()
    if _is_crop_major(stored):
        return _crop_major_windows(stored, area, crops)
    windows: list[WindowSignals] = []
    for window in stored:
        if not isinstance(window, Mapping):
            days, rows = window
            signals = tuple(_crop_from_row(row, crops) for row in rows)
            windows.append(shown_window(area, int(days), signals, catalog=crops))
            continue
        windows.append(
            WindowSignals(
                days=int(window["days"]),
                crops=tuple(_crop_from_stored(entry) for entry in window["crops"]),
                summary=str(window["summary"]),
                all_crops=_all_crops_from_stored(window["allCrops"]),
            )
        )
    return tuple(windows)


def _crop_to_stored(signal: CropSignal) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "crop": signal.crop,
        "unit": signal.unit,
        "classification": signal.classification.value,
    }
    if signal.published:
        entry |= {name: getattr(signal, name) for name in (*_CROP_FIGURES, *_CROP_COUNTS)}
    return entry


def _crop_row(signal: CropSignal) -> list[Any]:
    if not signal.published:
        return [signal.crop]
    return [signal.crop, signal.supply, signal.demand, signal.listings, signal.requests]


def _crop_from_row(row: Sequence[Any], catalog: CropCatalog) -> CropSignal:
    unit = catalog.get(str(row[0])).canonical_unit
    if len(row) < len(STORED_ROW_FIELDS):
        return CropSignal(str(row[0]), unit, *(None,) * 6, Classification.INSUFFICIENT_DATA, None)
    crop, supply, demand, listings, requests = row
    figures = CropFigures(
        crop=str(crop),
        unit=unit,
        supply=Decimal(str(supply)),
        demand=Decimal(str(demand)),
        listings=int(listings),
        requests=int(requests),
        contributors=_POLICY.k,  # published: it had at least k
    )
    signal = crop_signal(figures, _POLICY)
    if not signal.published:
        raise ValueError(f"stored row of {crop} is not publishable: {row!r}")
    return signal


def _crop_from_stored(stored: Mapping[str, Any] | Sequence[Any]) -> CropSignal:
    entry = (
        stored
        if isinstance(stored, Mapping)
        else dict(zip(STORED_CROP_FIELDS, stored, strict=False))
    )
    classification = Classification(str(entry["classification"]))
    published = classification is not Classification.INSUFFICIENT_DATA

    def figure(name: str) -> Decimal | None:
        return Decimal(str(entry[name])) if published else None

    def count(name: str) -> int | None:
        return int(entry[name]) if published else None

    return CropSignal(
        crop=str(entry["crop"]),
        unit=str(entry["unit"]),
        supply=figure("supply"),
        demand=figure("demand"),
        listings=count("listings"),
        requests=count("requests"),
        scarcity=figure("scarcity"),
        abundance=figure("abundance"),
        classification=classification,
        confidence=figure("confidence"),
    )


def _all_crops_to_stored(all_crops: AllCrops) -> dict[str, Any]:
    entry: dict[str, Any] = {"rounded": all_crops.rounded}
    for name in _ALL_COUNTS:
        value = getattr(all_crops, name)
        if value is not None:
            entry[name] = value
    return entry


def _all_crops_from_stored(entry: Mapping[str, Any]) -> AllCrops:
    def count(name: str) -> int | None:
        return int(entry[name]) if name in entry else None

    return AllCrops(
        listings=count("listings"),
        requests=count("requests"),
        contributors=count("contributors"),
        rounded=bool(entry.get("rounded", False)),
    )


def window_shape(window: WindowSignals) -> str:
    """What an explanation of a window is about: each crop's classification, in published
    order (most urgent first, so the ranking too), as a sha256. Figures moving inside one
    shape need no new explanation (the AI worker's debounce)."""
    payload = [[signal.crop, signal.classification.value] for signal in window.crops]
    return hashlib.sha256(json.dumps(payload, separators=(",", ":")).encode()).hexdigest()
