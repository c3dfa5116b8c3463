from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast


T = TypeVar("T", bound="AllCropsOut")


@_attrs_define
class AllCropsOut:
    """The sums of the crops shown (docs/privacy.md); `contributors` is always null and
    `rounded` false (kept for the v1 contract). No quantities: units differ.

        Attributes:
            listings (int | None):
            requests (int | None):
            contributors (int | None):
            rounded (bool):
    """

    listings: int | None
    requests: int | None
    contributors: int | None
    rounded: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        listings: int | None
        listings = self.listings

        requests: int | None
        requests = self.requests

        contributors: int | None
        contributors = self.contributors

        rounded = self.rounded

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "listings": listings,
                "requests": requests,
                "contributors": contributors,
                "rounded": rounded,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_listings(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        listings = _parse_listings(d.pop("listings"))

        def _parse_requests(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        requests = _parse_requests(d.pop("requests"))

        def _parse_contributors(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        contributors = _parse_contributors(d.pop("contributors"))

        rounded = d.pop("rounded")

        all_crops_out = cls(
            listings=listings,
            requests=requests,
            contributors=contributors,
            rounded=rounded,
        )

        all_crops_out.additional_properties = d
        return all_crops_out

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
