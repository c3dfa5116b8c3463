from enum import StrEnum


class ListingUpdateStatusType0(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"

    def __str__(self) -> str:
        return str(self.value)
