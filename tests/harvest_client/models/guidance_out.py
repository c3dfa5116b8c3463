from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.guidance_out_status import GuidanceOutStatus
from typing import cast

if TYPE_CHECKING:
    from ..models.advice_out import AdviceOut


T = TypeVar("T", bound="GuidanceOut")


@_attrs_define
class GuidanceOut:
    """
    Attributes:
        guidance_id (str):
        status (GuidanceOutStatus):
        geohash (str):
        area (str): Deprecated: the same as `geohash`.
        crop (None | str):
        created_at (str):
        guidance (AdviceOut | None): Present once status is ready.
    """

    guidance_id: str
    status: GuidanceOutStatus
    geohash: str
    area: str
    crop: None | str
    created_at: str
    guidance: AdviceOut | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.advice_out import AdviceOut  # noqa: PLC0415

        guidance_id = self.guidance_id

        status = self.status.value

        geohash = self.geohash

        area = self.area

        crop: None | str
        crop = self.crop

        created_at = self.created_at

        guidance: dict[str, Any] | None
        if isinstance(self.guidance, AdviceOut):
            guidance = self.guidance.to_dict()
        else:
            guidance = self.guidance

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "guidanceId": guidance_id,
                "status": status,
                "geohash": geohash,
                "area": area,
                "crop": crop,
                "createdAt": created_at,
                "guidance": guidance,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.advice_out import AdviceOut  # noqa: PLC0415

        d = dict(src_dict)
        guidance_id = d.pop("guidanceId")

        status = GuidanceOutStatus(d.pop("status"))

        geohash = d.pop("geohash")

        area = d.pop("area")

        def _parse_crop(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        crop = _parse_crop(d.pop("crop"))

        created_at = d.pop("createdAt")

        def _parse_guidance(data: object) -> AdviceOut | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                guidance_type_0 = AdviceOut.from_dict(data)

                return guidance_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(AdviceOut | None, data)

        guidance = _parse_guidance(d.pop("guidance"))

        guidance_out = cls(
            guidance_id=guidance_id,
            status=status,
            geohash=geohash,
            area=area,
            crop=crop,
            created_at=created_at,
            guidance=guidance,
        )

        guidance_out.additional_properties = d
        return guidance_out

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
