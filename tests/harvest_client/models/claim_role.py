from enum import StrEnum


class ClaimRole(StrEnum):
    ALL = "all"
    MADE = "made"
    RECEIVED = "received"

    def __str__(self) -> str:
        return str(self.value)
