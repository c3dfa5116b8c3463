from enum import StrEnum


class ClaimUpdateStatus(StrEnum):
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    NO_SHOW = "no_show"

    def __str__(self) -> str:
        return str(self.value)
