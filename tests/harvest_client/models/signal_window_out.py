from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.signal_window_out_days import SignalWindowOutDays
from typing import cast

if TYPE_CHECKING:
    from ..models.all_crops_out import AllCropsOut
    from ..models.crop_signal_out import CropSignalOut


T = TypeVar("T", bound="SignalWindowOut")


@_attrs_define
class SignalWindowOut:
    """
    Attributes:
        days (SignalWindowOutDays):
        crops (list[CropSignalOut]):
        summary (str):
        all_crops (AllCropsOut): The sums of the crops shown (docs/privacy.md); `contributors` is always null and
            `rounded` false (kept for the v1 contract). No quantities: units differ.
    """

    days: SignalWindowOutDays
    crops: list[CropSignalOut]
    summary: str
    all_crops: AllCropsOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.all_crops_out import AllCropsOut  # noqa: PLC0415
        from ..models.crop_signal_out import CropSignalOut  # noqa: PLC0415

        days = self.days.value

        crops = []
        for crops_item_data in self.crops:
            crops_item = crops_item_data.to_dict()
            crops.append(crops_item)

        summary = self.summary

        all_crops = self.all_crops.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "days": days,
                "crops": crops,
                "summary": summary,
                "allCrops": all_crops,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.all_crops_out import AllCropsOut  # noqa: PLC0415
        from ..models.crop_signal_out import CropSignalOut  # noqa: PLC0415

        d = dict(src_dict)
        days = SignalWindowOutDays(d.pop("days"))

        crops = []
        _crops = d.pop("crops")
        for crops_item_data in _crops:
            crops_item = CropSignalOut.from_dict(crops_item_data)

            crops.append(crops_item)

        summary = d.pop("summary")

        all_crops = AllCropsOut.from_dict(d.pop("allCrops"))

        signal_window_out = cls(
            days=days,
            crops=crops,
            summary=summary,
            all_crops=all_crops,
        )

        signal_window_out.additional_properties = d
        return signal_window_out

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
