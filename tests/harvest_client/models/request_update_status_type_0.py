from enum import StrEnum


class RequestUpdateStatusType0(StrEnum):
    CANCELLED = "cancelled"
    CLOSED = "closed"
    MATCHED = "matched"

    def __str__(self) -> str:
        return str(self.value)
