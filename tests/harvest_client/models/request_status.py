from enum import StrEnum


class RequestStatus(StrEnum):
    CANCELLED = "cancelled"
    CLOSED = "closed"
    MATCHED = "matched"
    OPEN = "open"

    def __str__(self) -> str:
        return str(self.value)
