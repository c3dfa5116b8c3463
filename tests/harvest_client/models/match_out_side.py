from enum import StrEnum


class MatchOutSide(StrEnum):
    LISTING = "listing"
    REQUEST = "request"

    def __str__(self) -> str:
        return str(self.value)
