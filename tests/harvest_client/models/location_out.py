from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


T = TypeVar("T", bound="LocationOut")


@_attrs_define
class LocationOut:
    """
    Attributes:
        geohash (str):
        lat (float):
        lon (float):
        exact (bool):
    """

    geohash: str
    lat: float
    lon: float
    exact: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        geohash = self.geohash

        lat = self.lat

        lon = self.lon

        exact = self.exact

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "geohash": geohash,
                "lat": lat,
                "lon": lon,
                "exact": exact,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        geohash = d.pop("geohash")

        lat = d.pop("lat")

        lon = d.pop("lon")

        exact = d.pop("exact")

        location_out = cls(
            geohash=geohash,
            lat=lat,
            lon=lon,
            exact=exact,
        )

        location_out.additional_properties = d
        return location_out

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
