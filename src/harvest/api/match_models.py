"""Response shapes of GET /me/matches (apart from models.py to keep each module small)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harvest.api.models import ListingOut, Outbound, RequestOut


class MatchOut(Outbound):
    match_id: str = Field(description="`{requestId}.{listingId}`: POST a claim with it.")
    side: Literal["request", "listing"] = Field(
        description="Which of yours it suggests something for: your request (a listing "
        "nearby) or your listing (a request nearby)."
    )
    request_id: str
    listing_id: str
    crop: str
    cell: str = Field(description="The other side's published cell (geohash-5), never finer.")
    distance_km: float = Field(
        description="Between the two published cells' centres, rounded up to 0.5 km."
    )
    listed_at: str = Field(description="When the other side was created (freshness).")
    listing: ListingOut | None = Field(
        default=None, description="For side `request`: the listing as a non-owner sees it."
    )
    request: RequestOut | None = Field(
        default=None, description="For side `listing`: the request as a non-owner sees it."
    )


class MatchCollection(Outbound):
    items: list[MatchOut]
    next_cursor: str | None = None
