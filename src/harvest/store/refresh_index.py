"""The refresher's work list: the insights whose windows a day boundary has moved.

`DueIndex` (template.yaml) is a sparse GSI over the insights' own attributes: hash key SK
(every INSIGHT# item is `CURRENT`, and no other family has a `validUntil`), range key
`validUntil` (the last day the stored windows hold without a new event; 9999-12-31 when no
bucket is in any window). So the index costs no extra write where an insight is written
(store/insights.py writes `validUntil` already, in the same UpdateItem: index and item never
disagree), DynamoDB writes it only when `validUntil` changes (about once per area and day),
and the refresher's Query `SK = CURRENT AND validUntil < today` returns exactly the due
areas, however long ago they became due, and never scans.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

from harvest.store.table import Key, Table

__all__ = ["DUE_INDEX", "DueInsightIndex"]

DUE_INDEX: Final = "DueIndex"
_INSIGHT_SK: Final = "CURRENT"
_INSIGHT_PREFIX: Final = "INSIGHT#"
PAGE_SIZE: Final = 200


class DueInsightIndex:
    def __init__(self, table: Table, page_size: int = PAGE_SIZE) -> None:
        self.table = table
        self.page_size = page_size

    def due_areas(self, today: date) -> Iterator[str]:
        """The areas whose insight's `validUntil` is before `today`, oldest due first, page
        by page (eventually consistent: a GSI; an area refreshed a moment ago may come once
        more, and the refresh is idempotent)."""
        start: Key | None = None
        while True:
            page = self.table.query(
                index=DUE_INDEX,
                key_condition="#sk = :current AND #due < :today",
                names={"#sk": "SK", "#due": "validUntil"},
                bound={"current": _INSIGHT_SK, "today": today.isoformat()},
                limit=self.page_size,
                start_key=start,
                newest_first=False,
            )
            for item in page.items:
                pk = str(item.get("PK", ""))
                if pk.startswith(_INSIGHT_PREFIX):
                    yield pk.removeprefix(_INSIGHT_PREFIX)
            if page.next_key is None:
                return
            start = page.next_key
