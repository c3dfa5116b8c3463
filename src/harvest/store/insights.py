"""The insight worker's repository: one current insight per area (derived keys only).

Key (schemas/key-design.md): PK = INSIGHT#{area} (geohash precision 4-6), SK = CURRENT,
type `insight`: `area`, `asOfDay`, `inputVersion`, `windows` (the published signals, see
harvest.domain.insight), `digests` (per window), `validUntil` (the last day the windows
hold without a new event; never published), plus version/createdAt/updatedAt/
correlationId. `version` counts changes of what is published; it is the entity version of
the `insight.generated` event.

Both writes are one UpdateItem conditioned on the guard (as-of day, input version), so a
computation that read older buckets can never overwrite a newer one, however late it lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from harvest.domain.common import iso, utc_now
from harvest.domain.insight import Insight, windows_from_stored, windows_to_stored
from harvest.store.derived import refuse_unless_derived
from harvest.store.table import Key, Table

__all__ = ["INSIGHT_TYPE", "InsightRepository", "StoredInsight", "insight_key"]

INSIGHT_TYPE: Final = "insight"
_NEWER = "attribute_not_exists(PK) OR asOfDay < :day OR (asOfDay = :day AND inputVersion < :input)"


def insight_key(area: str) -> Key:
    return {"PK": f"INSIGHT#{area}", "SK": "CURRENT"}


@dataclass(frozen=True, slots=True)
class StoredInsight:
    insight: Insight
    digests: dict[str, str]
    version: int
    updated_at: str
    correlation_id: str

    @property
    def guard(self) -> tuple[date, int]:
        return (self.insight.as_of_day, self.insight.input_version)


class InsightRepository:
    def __init__(self, table: Table, clock: Callable[[], datetime] = utc_now) -> None:
        self.table = table
        # What stamps updatedAt when a write is given no `now` (the services' clock).
        self.clock = clock

    def current(self, area: str) -> StoredInsight | None:
        item = self.table.get(insight_key(area))
        return None if item is None else stored_insight(item)

    def save(self, insight: Insight, correlation_id: str, *, now: datetime | None = None) -> bool:
        """Write a changed insight (version + 1); False when a newer one is already stored."""
        return self._write(insight, correlation_id, now, " ADD #version :one", _NEWER, one=1)

    def replace(
        self, insight: Insight, version: int, correlation_id: str, *, now: datetime | None = None
    ) -> None:
        """Write the insight as given, whatever is stored (the rebuild; workers paused)."""
        self._write(insight, correlation_id, now, ", #version = :version", None, version=version)

    def _write(
        self,
        insight: Insight,
        correlation_id: str,
        now: datetime | None,
        version_clause: str,
        condition: str | None,
        **version_values: int,
    ) -> bool:
        """One UpdateItem of the whole insight, its version set by `version_clause` (appended
        to the SET list: `, #version = ...` or ` ADD #version ...`); createdAt is kept."""
        key = insight_key(insight.area)
        refuse_unless_derived(key)
        return self.table.update_if(
            key,
            "SET #type = :type, area = :area, asOfDay = :day, inputVersion = :input, "
            "windows = :windows, digests = :digests, updatedAt = :now, correlationId = :cid, "
            "validUntil = :valid, createdAt = if_not_exists(createdAt, :now)" + version_clause,
            condition,
            {"#type": "type", "#version": "version"},
            {
                "type": INSIGHT_TYPE,
                "area": insight.area,
                "day": insight.as_of_day.isoformat(),
                "input": insight.input_version,
                "windows": windows_to_stored(insight.windows),
                "digests": insight.digests,
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


def _valid_until(insight: Insight) -> str:
    """As stored: an ISO day; no expiry (no bucket in any window) is 9999-12-31, so that
    the attribute always parses and compares."""
    return (insight.valid_until or date.max).isoformat()


def stored_insight(item: dict[str, Any]) -> StoredInsight:
    """An INSIGHT# item as read from the table or a stream image."""
    return StoredInsight(
        insight=Insight(
            area=str(item["area"]),
            as_of_day=date.fromisoformat(str(item["asOfDay"])),
            input_version=int(item["inputVersion"]),
            windows=windows_from_stored(item["windows"]),
            # Written before validUntil existed: valid on its own as-of day only.
            valid_until=date.fromisoformat(str(item.get("validUntil", item["asOfDay"]))),
        ),
        digests={str(k): str(v) for k, v in dict(item.get("digests", {})).items()},
        version=int(item["version"]),
        updated_at=str(item["updatedAt"]),
        correlation_id=str(item.get("correlationId", "")),
    )


def bucket_area(pk: object, sk: object) -> str | None:
    """The area (cell) of a day bucket's key `AGG#{cell}#{crop}` / `DAY#...`, else None
    (markers `AGG#SRC#...`, and anything that is not a bucket)."""
    if not isinstance(pk, str) or not isinstance(sk, str) or not sk.startswith("DAY#"):
        return None
    parts = pk.split("#")
    if len(parts) != 3 or parts[0] != "AGG" or parts[1] == "SRC" or not parts[1]:
        return None
    return parts[1]
