"""Plain-language summary of one signals window (DESIGN §5 Insight worker).

The text is a pure function of its arguments: no randomness, no clock, no locale, so the same
figures always give byte-identical text and a cache keyed on the figures stays valid. It is
kept apart from ``harvest.domain.signals`` (which decides *what* may be published) and takes
only display-ready lines, so it never sees suppressed figures at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal

from harvest.domain.common import quantity

SHORTAGE = "shortage"
SURPLUS = "surplus"
BALANCED = "balanced"
KINDS = frozenset({SHORTAGE, SURPLUS, BALANCED})

_CTX = Context(prec=34, rounding=ROUND_HALF_EVEN)
# Published figures keep full precision; text shows what a reader can take in at a glance.
_DISPLAY_STEP = Decimal("0.01")
# Abbreviations ("kg", "lb") and "dozen" do not inflect; countable units do.
_PLURALS = {"bunch": "bunches", "box": "boxes", "jar": "jars", "head": "heads", "litre": "litres"}


@dataclass(frozen=True, slots=True)
class SummaryLine:
    """One published crop as the summary shows it: display name, canonical unit, totals."""

    name: str
    unit: str
    supply: Decimal
    demand: Decimal
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"summary kind must be one of {sorted(KINDS)}, not {self.kind!r}")


def format_quantity(value: Decimal, unit: str) -> str:
    """``12 kg``, ``0.5 kg``, ``2 bunches``: two places at most, never trailing zeros."""
    shown = quantity(value.quantize(_DISPLAY_STEP, context=_CTX))
    label = _PLURALS.get(unit, unit) if shown != 1 else unit
    return f"{shown:f} {label}"


def _join_names(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def _clause(line: SummaryLine) -> str:
    supply = format_quantity(line.supply, line.unit)
    demand = format_quantity(line.demand, line.unit)
    if line.kind == SHORTAGE:
        return f"{line.name} scarce (demand {demand} vs supply {supply})"
    return f"{line.name} in surplus ({supply} offered, {demand} asked)"


def render_summary(
    area: str, window_days: int, lines: Sequence[SummaryLine], suppressed: int
) -> str:
    """The window's summary, crops in the order given (the caller sorts by severity).

    Example: ``Last 7 days around u33d: Tomato scarce (demand 12 kg vs supply 3 kg);
    Zucchini in surplus (40 kg offered, 5 kg asked); Carrot and Potato in balance. 2 crops
    have too few contributors to report.`` Sentences avoid verbs that agree with the crop
    name because catalog names are a mix of singular ("Tomato") and plural ("Chives").
    """
    if suppressed < 0:
        raise ValueError("suppressed must be >= 0")
    clauses = [_clause(line) for line in lines if line.kind != BALANCED]
    balanced = [line.name for line in lines if line.kind == BALANCED]
    if balanced:
        clauses.append(f"{_join_names(balanced)} in balance")
    parts = [f"Last {window_days} days around {area}:"]
    if clauses:
        parts.append("; ".join(clauses) + ".")
    if suppressed == 1:
        parts.append("1 crop has too few contributors to report.")
    elif suppressed > 1:
        parts.append(f"{suppressed} crops have too few contributors to report.")
    if not clauses and not suppressed:
        parts.append("no listings or requests.")
    return " ".join(parts)
