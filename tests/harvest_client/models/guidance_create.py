from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast


T = TypeVar("T", bound="GuidanceCreate")


@_attrs_define
class GuidanceCreate:
    """Only an area and a crop: no free text, so nothing personal reaches a prompt.

    Attributes:
        guidance_id (None | str | Unset):
        geohash (None | str | Unset): Geohash precision 4-6; default: the profile's home cell.
        area (None | str | Unset): Deprecated: the old name of `geohash` (still accepted).
        crop (None | str | Unset):
    """

    guidance_id: None | str | Unset = UNSET
    geohash: None | str | Unset = UNSET
    area: None | str | Unset = UNSET
    crop: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        guidance_id: None | str | Unset
        if isinstance(self.guidance_id, Unset):
            guidance_id = UNSET
        else:
            guidance_id = self.guidance_id

        geohash: None | str | Unset
        if isinstance(self.geohash, Unset):
            geohash = UNSET
        else:
            geohash = self.geohash

        area: None | str | Unset
        if isinstance(self.area, Unset):
            area = UNSET
        else:
            area = self.area

        crop: None | str | Unset
        if isinstance(self.crop, Unset):
            crop = UNSET
        else:
            crop = self.crop

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if guidance_id is not UNSET:
            field_dict["guidanceId"] = guidance_id
        if geohash is not UNSET:
            field_dict["geohash"] = geohash
        if area is not UNSET:
            field_dict["area"] = area
        if crop is not UNSET:
            field_dict["crop"] = crop

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_guidance_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        guidance_id = _parse_guidance_id(d.pop("guidanceId", UNSET))

        def _parse_geohash(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        geohash = _parse_geohash(d.pop("geohash", UNSET))

        def _parse_area(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        area = _parse_area(d.pop("area", UNSET))

        def _parse_crop(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        crop = _parse_crop(d.pop("crop", UNSET))

        guidance_create = cls(
            guidance_id=guidance_id,
            geohash=geohash,
            area=area,
            crop=crop,
        )

        return guidance_create
