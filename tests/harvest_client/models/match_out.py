from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.match_out_side import MatchOutSide
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
    from ..models.listing_out import ListingOut
    from ..models.request_out import RequestOut


T = TypeVar("T", bound="MatchOut")


@_attrs_define
class MatchOut:
    """
    Attributes:
        match_id (str): `{requestId}.{listingId}`: POST a claim with it.
        side (MatchOutSide): Which of yours it suggests something for: your request (a listing nearby) or your listing
            (a request nearby).
        request_id (str):
        listing_id (str):
        crop (str):
        cell (str): The other side's published cell (geohash-5), never finer.
        distance_km (float): Between the two published cells' centres, rounded up to 0.5 km.
        listed_at (str): When the other side was created (freshness).
        listing (ListingOut | None | Unset): For side `request`: the listing as a non-owner sees it.
        request (None | RequestOut | Unset): For side `listing`: the request as a non-owner sees it.
    """

    match_id: str
    side: MatchOutSide
    request_id: str
    listing_id: str
    crop: str
    cell: str
    distance_km: float
    listed_at: str
    listing: ListingOut | None | Unset = UNSET
    request: None | RequestOut | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.listing_out import ListingOut  # noqa: PLC0415
        from ..models.request_out import RequestOut  # noqa: PLC0415

        match_id = self.match_id

        side = self.side.value

        request_id = self.request_id

        listing_id = self.listing_id

        crop = self.crop

        cell = self.cell

        distance_km = self.distance_km

        listed_at = self.listed_at

        listing: dict[str, Any] | None | Unset
        if isinstance(self.listing, Unset):
            listing = UNSET
        elif isinstance(self.listing, ListingOut):
            listing = self.listing.to_dict()
        else:
            listing = self.listing

        request: dict[str, Any] | None | Unset
        if isinstance(self.request, Unset):
            request = UNSET
        elif isinstance(self.request, RequestOut):
            request = self.request.to_dict()
        else:
            request = self.request

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "matchId": match_id,
                "side": side,
                "requestId": request_id,
                "listingId": listing_id,
                "crop": crop,
                "cell": cell,
                "distanceKm": distance_km,
                "listedAt": listed_at,
            }
        )
        if listing is not UNSET:
            field_dict["listing"] = listing
        if request is not UNSET:
            field_dict["request"] = request

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.listing_out import ListingOut  # noqa: PLC0415
        from ..models.request_out import RequestOut  # noqa: PLC0415

        d = dict(src_dict)
        match_id = d.pop("matchId")

        side = MatchOutSide(d.pop("side"))

        request_id = d.pop("requestId")

        listing_id = d.pop("listingId")

        crop = d.pop("crop")

        cell = d.pop("cell")

        distance_km = d.pop("distanceKm")

        listed_at = d.pop("listedAt")

        def _parse_listing(data: object) -> ListingOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                listing_type_0 = ListingOut.from_dict(data)

                return listing_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ListingOut | None | Unset, data)

        listing = _parse_listing(d.pop("listing", UNSET))

        def _parse_request(data: object) -> None | RequestOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                request_type_0 = RequestOut.from_dict(data)

                return request_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RequestOut | Unset, data)

        request = _parse_request(d.pop("request", UNSET))

        match_out = cls(
            match_id=match_id,
            side=side,
            request_id=request_id,
            listing_id=listing_id,
            crop=crop,
            cell=cell,
            distance_km=distance_km,
            listed_at=listed_at,
            listing=listing,
            request=request,
        )

        match_out.additional_properties = d
        return match_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
