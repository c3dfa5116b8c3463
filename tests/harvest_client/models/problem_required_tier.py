from enum import StrEnum


class ProblemRequiredTier(StrEnum):
    FREE = "free"
    PRO = "pro"
    SUPPORTER = "supporter"

    def __str__(self) -> str:
        return str(self.value)
