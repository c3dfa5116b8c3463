from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
    from ..models.crop_unit_out import CropUnitOut


T = TypeVar("T", bound="CropOut")


@_attrs_define
class CropOut:
    """
    Attributes:
        crop (str): The slug that bodies and queries take as `crop`.
        name (str):
        category (str):
        canonical_unit (str): The unit signals and aggregates are counted in.
        units (list[CropUnitOut]):
    """

    crop: str
    name: str
    category: str
    canonical_unit: str
    units: list[CropUnitOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.crop_unit_out import CropUnitOut  # noqa: PLC0415

        crop = self.crop

        name = self.name

        category = self.category

        canonical_unit = self.canonical_unit

        units = []
        for units_item_data in self.units:
            units_item = units_item_data.to_dict()
            units.append(units_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "crop": crop,
                "name": name,
                "category": category,
                "canonicalUnit": canonical_unit,
                "units": units,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.crop_unit_out import CropUnitOut  # noqa: PLC0415

        d = dict(src_dict)
        crop = d.pop("crop")

        name = d.pop("name")

        category = d.pop("category")

        canonical_unit = d.pop("canonicalUnit")

        units = []
        _units = d.pop("units")
        for units_item_data in _units:
            units_item = CropUnitOut.from_dict(units_item_data)

            units.append(units_item)

        crop_out = cls(
            crop=crop,
            name=name,
            category=category,
            canonical_unit=canonical_unit,
            units=units,
        )

        crop_out.additional_properties = d
        return crop_out

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
