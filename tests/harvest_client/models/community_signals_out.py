from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
    from ..models.signal_window_out import SignalWindowOut


T = TypeVar("T", bound="CommunitySignalsOut")


@_attrs_define
class CommunitySignalsOut:
    """
    Attributes:
        geohash (str):
        as_of (str):
        data_updated_at (None | str):
        windows (list[SignalWindowOut]):
    """

    geohash: str
    as_of: str
    data_updated_at: None | str
    windows: list[SignalWindowOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.signal_window_out import SignalWindowOut  # noqa: PLC0415

        geohash = self.geohash

        as_of = self.as_of

        data_updated_at: None | str
        data_updated_at = self.data_updated_at

        windows = []
        for windows_item_data in self.windows:
            windows_item = windows_item_data.to_dict()
            windows.append(windows_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "geohash": geohash,
                "asOf": as_of,
                "dataUpdatedAt": data_updated_at,
                "windows": windows,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.signal_window_out import SignalWindowOut  # noqa: PLC0415

        d = dict(src_dict)
        geohash = d.pop("geohash")

        as_of = d.pop("asOf")

        def _parse_data_updated_at(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        data_updated_at = _parse_data_updated_at(d.pop("dataUpdatedAt"))

        windows = []
        _windows = d.pop("windows")
        for windows_item_data in _windows:
            windows_item = SignalWindowOut.from_dict(windows_item_data)

            windows.append(windows_item)

        community_signals_out = cls(
            geohash=geohash,
            as_of=as_of,
            data_updated_at=data_updated_at,
            windows=windows,
        )

        community_signals_out.additional_properties = d
        return community_signals_out

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
