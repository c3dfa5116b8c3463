from enum import StrEnum


class FeedKindType0(StrEnum):
    LISTING = "listing"
    LISTINGS = "listings"
    REQUEST = "request"
    REQUESTS = "requests"

    def __str__(self) -> str:
        return str(self.value)
