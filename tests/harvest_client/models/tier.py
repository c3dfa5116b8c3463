from enum import StrEnum


class Tier(StrEnum):
    FREE = "free"
    PRO = "pro"
    SUPPORTER = "supporter"

    def __str__(self) -> str:
        return str(self.value)
