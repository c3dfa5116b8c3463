"""The insight worker's repository: one current insight per area (derived keys only).

Key (schemas/key-design.md): PK = INSIGHT#{area} (geohash precision 4-6), SK = CURRENT,
type `insight`: `area`, `asOfDay`, `inputVersion`, `windows` (the published signals in
the compact form of harvest.domain.insight; the digests per window are computed from them
on read, no longer stored), `validUntil` (the last day the windows
hold without a new event; never published), plus version/createdAt/updatedAt/
correlationId. `version` counts changes of what is published; it is the entity version of
the `insight.generated` event.

Both writes are one UpdateItem conditioned on the guard (as-of day, input version), so a
computation that read older buckets can never overwrite a newer one, however late it lands.
A precision-5 insight written by the worker is also conditioned on the `version` it read
(`save(..., replaces=)`), so the worker knows exactly which published figures it replaced.

A precision-4 insight is the sum of its cells' precision-5 insights (domain.release) and
also carries `cells`, a map {gh5: "{version}/{validUntil}"} of the cell insights its sum
includes (at most 32 entries), and `revision`, a counter of its writes: `put_area` writes it
conditioned on the revision read (optimistic concurrency between batches of two shards).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, NamedTuple

from harvest.domain.common import iso, utc_now
from harvest.domain.insight import Insight, windows_from_stored, windows_to_stored
from harvest.store.derived import refuse_unless_derived
from harvest.store.table import Key, Table

__all__ = ["INSIGHT_TYPE", "CellShare", "InsightRepository", "StoredInsight", "insight_key"]

INSIGHT_TYPE: Final = "insight"
_NEWER = "attribute_not_exists(PK) OR asOfDay < :day OR (asOfDay = :day AND inputVersion < :input)"


def insight_key(area: str) -> Key:
    return {"PK": f"INSIGHT#{area}", "SK": "CURRENT"}


class CellShare(NamedTuple):
    """Which insight of a cell a precision-4 sum includes: its version, and the last day
    its windows hold (the sum holds as long as all of them do)."""

    version: int
    valid_until: date


@dataclass(frozen=True, slots=True)
class StoredInsight:
    insight: Insight
    digests: dict[str, str]
    version: int
    updated_at: str
    correlation_id: str
    # Precision 4 only: the cell insights summed, None when unknown (rebuilt from buckets,
    # or written before cells were kept: the next refresh sums all cells again).
    cells: dict[str, CellShare] | None = None
    revision: int = 0

    @property
    def guard(self) -> tuple[date, int]:
        return (self.insight.as_of_day, self.insight.input_version)


class InsightRepository:
    def __init__(self, table: Table, clock: Callable[[], datetime] = utc_now) -> None:
        self.table = table
        # What stamps updatedAt when a write is given no `now` (the services' clock).
        self.clock = clock

    def current(self, area: str, *, consistent: bool = True) -> StoredInsight | None:
        """Strongly consistent for the worker (it must see its own last write); the route
        reads eventually consistent (half the read units)."""
        item = self.table.get(insight_key(area), consistent=consistent)
        return None if item is None else stored_insight(item)

    def many(self, areas: Sequence[str]) -> dict[str, StoredInsight]:
        """The insights of up to 100 areas in one BatchGetItem (strongly consistent), by area."""
        items = self.table.get_many([insight_key(area) for area in areas])
        return {str(item["area"]): stored_insight(item) for item in items}

    def save(
        self,
        insight: Insight,
        correlation_id: str,
        *,
        replaces: int | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Write a changed insight (version + 1); False when a newer one is already stored.
        `replaces`: the version read (0: none was stored); then False also when the stored
        one is no longer that version, and the new one is exactly `replaces` + 1."""
        if replaces is None:
            return self._write(insight, correlation_id, now, " ADD #version :one", _NEWER, one=1)
        read = "attribute_not_exists(PK)" if replaces == 0 else "#version = :read"
        return self._write(
            insight, correlation_id, now, ", #version = :version",
            f"({read}) AND ({_NEWER})", version=replaces + 1,
            **({"read": replaces} if replaces else {}),
        )  # fmt: skip

    def put_cell(
        self,
        insight: Insight,
        version: int,
        read: tuple[int, int] | None,
        correlation_id: str,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Write a cell's insight at `version` if the stored one is still the one read:
        `read` is its (version, inputVersion), None when none was (compare-and-swap; every
        write of a cell moves its inputVersion on). False when another write came first."""
        if read is None:
            return self._write(
                insight, correlation_id, now, ", #version = :version",
                "attribute_not_exists(PK)", version=version,
            )  # fmt: skip
        return self._write(
            insight, correlation_id, now, ", #version = :version",
            "#version = :read AND inputVersion = :readInput",
            version=version, read=read[0], readInput=read[1],
        )  # fmt: skip

    def put_area(
        self,
        insight: Insight,
        cells: Mapping[str, CellShare],
        version: int,
        revision: int,
        correlation_id: str,
        *,
        now: datetime | None = None,
    ) -> bool:
        """Write a precision-4 sum with the cells it includes, at `version`, if its revision
        is still `revision` (0: no sum stored, or one without a revision); False otherwise."""
        read = "attribute_not_exists(#revision)" if revision == 0 else "#revision = :revision"
        # One short string per cell (~20 B; a map of two named attributes was twice that,
        # and the sum is rewritten, whole-item billed, on every batch that changes a cell).
        shares = {
            cell: f"{share.version}/{share.valid_until.isoformat()}"
            for cell, share in sorted(cells.items())
        }
        return self._write(
            insight, correlation_id, now,
            ", #version = :version, #cells = :cells, #revision = :next", read,
            version=version, cells=shares, next=revision + 1,
            **({"revision": revision} if revision else {}),
        )  # fmt: skip

    def replace(
        self, insight: Insight, version: int, correlation_id: str, *, now: datetime | None = None
    ) -> None:
        """Write the insight as given, whatever is stored (the rebuild; workers paused). A
        precision-4 sum's cells go: what they described is no longer what is stored."""
        self._write(
            insight, correlation_id, now, ", #version = :version REMOVE #cells, #revision", None,
            version=version,
        )  # fmt: skip

    def _write(
        self,
        insight: Insight,
        correlation_id: str,
        now: datetime | None,
        version_clause: str,
        condition: str | None,
        **version_values: Any,
    ) -> bool:
        """One UpdateItem of the whole insight, its version set by `version_clause` (appended
        to the SET list: `, #version = ...` or ` ADD #version ...`); createdAt is kept."""
        key = insight_key(insight.area)
        refuse_unless_derived(key)
        # The digests are the windows' hashes: rebuilt on read, not stored (an insight is
        # billed whole per write, docs/scaling.md); an item stored before loses them.
        updates, _, removed = version_clause.partition(" REMOVE ")
        expression = (
            "SET #type = :type, area = :area, asOfDay = :day, inputVersion = :input, "
            "windows = :windows, updatedAt = :now, correlationId = :cid, "
            "validUntil = :valid, createdAt = if_not_exists(createdAt, :now)"
            f"{updates} REMOVE digests" + (f", {removed}" if removed else "")
        )
        return self.table.update_if(
            key,
            expression,
            condition,
            {"#type": "type", "#version": "version"} | _named(version_clause + (condition or "")),
            {
                "type": INSIGHT_TYPE,
                "area": insight.area,
                "day": insight.as_of_day.isoformat(),
                "input": insight.input_version,
                "windows": windows_to_stored(insight.windows),
                "valid": _valid_until(insight),
                "now": iso(now or self.clock()),
                "cid": correlation_id,
                **version_values,
            },
        )

    def advance(
        self, area: str, as_of_day: date, input_version: int, valid_until: date | None = None
    ) -> bool:
        """Move the guard of an unchanged insight forward (no new version, nothing published
        changed), so a slower computation of older buckets still loses; False if newer."""
        key = insight_key(area)
        refuse_unless_derived(key)
        moved = Insight(area, as_of_day, input_version, (), valid_until)
        return self.table.update_if(
            key,
            "SET asOfDay = :day, inputVersion = :input, validUntil = :valid",
            f"attribute_exists(PK) AND ({_NEWER})",
            {},
            {"day": as_of_day.isoformat(), "input": input_version, "valid": _valid_until(moved)},
        )


def _named(expression: str) -> dict[str, str]:
    """The attribute-name placeholders of the precision-4 attributes an expression uses."""
    return {f"#{name}": name for name in ("cells", "revision") if f"#{name}" in expression}


def _valid_until(insight: Insight) -> str:
    """As stored: an ISO day; no expiry (no bucket in any window) is 9999-12-31, so that
    the attribute always parses and compares."""
    return (insight.valid_until or date.max).isoformat()


def stored_insight(item: dict[str, Any]) -> StoredInsight:
    """An INSIGHT# item as read from the table or a stream image."""
    insight = Insight(
        area=str(item["area"]),
        as_of_day=date.fromisoformat(str(item["asOfDay"])),
        input_version=int(item["inputVersion"]),
        windows=windows_from_stored(item["windows"], str(item["area"])),
        # Written before validUntil existed: valid on its own as-of day only.
        valid_until=date.fromisoformat(str(item.get("validUntil", item["asOfDay"]))),
    )
    # Stored digests: an item written before they were left out (the windows' hashes).
    stored = item.get("digests")
    return StoredInsight(
        insight=insight,
        digests=(
            {str(k): str(v) for k, v in stored.items()}
            if isinstance(stored, Mapping)
            else insight.digests
        ),
        version=int(item["version"]),
        updated_at=str(item["updatedAt"]),
        correlation_id=str(item.get("correlationId", "")),
        cells=_cells(item.get("cells")),
        revision=int(item.get("revision", 0)),
    )


def _share(text: str) -> CellShare:
    version, _, valid = text.partition("/")
    return CellShare(int(version), date.fromisoformat(valid))


def _cells(raw: object) -> dict[str, CellShare] | None:
    if not isinstance(raw, Mapping):
        return None
    return {str(cell): _share(str(share)) for cell, share in raw.items()}
