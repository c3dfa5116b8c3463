from enum import StrEnum


class CropSignalOutClassification(StrEnum):
    BALANCED = "balanced"
    INSUFFICIENT_DATA = "insufficient_data"
    SHORTAGE = "shortage"
    SURPLUS = "surplus"

    def __str__(self) -> str:
        return str(self.value)
