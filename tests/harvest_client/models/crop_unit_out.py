from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset


T = TypeVar("T", bound="CropUnitOut")


@_attrs_define
class CropUnitOut:
    """
    Attributes:
        unit (str):
        to_canonical (float): How many of the crop's canonical unit one of this unit is.
        whole_numbers (bool): True for count units: quantities are whole.
    """

    unit: str
    to_canonical: float
    whole_numbers: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        unit = self.unit

        to_canonical = self.to_canonical

        whole_numbers = self.whole_numbers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "unit": unit,
                "toCanonical": to_canonical,
                "wholeNumbers": whole_numbers,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        unit = d.pop("unit")

        to_canonical = d.pop("toCanonical")

        whole_numbers = d.pop("wholeNumbers")

        crop_unit_out = cls(
            unit=unit,
            to_canonical=to_canonical,
            whole_numbers=whole_numbers,
        )

        crop_unit_out.additional_properties = d
        return crop_unit_out

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
