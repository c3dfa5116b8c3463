from enum import StrEnum


class ListingStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    EXPIRED = "expired"

    def __str__(self) -> str:
        return str(self.value)
