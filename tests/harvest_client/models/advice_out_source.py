from enum import StrEnum


class AdviceOutSource(StrEnum):
    BEDROCK = "bedrock"
    FALLBACK = "fallback"

    def __str__(self) -> str:
        return str(self.value)
