from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
    from ..models.point_in import PointIn


T = TypeVar("T", bound="ProfilePut")


@_attrs_define
class ProfilePut:
    """
    Attributes:
        display_name (str):
        home_location (None | PointIn | Unset):
        share_radius_km (float | Unset):  Default: 5.0.
    """

    display_name: str
    home_location: None | PointIn | Unset = UNSET
    share_radius_km: float | Unset = 5.0

    def to_dict(self) -> dict[str, Any]:
        from ..models.point_in import PointIn  # noqa: PLC0415

        display_name = self.display_name

        home_location: dict[str, Any] | None | Unset
        if isinstance(self.home_location, Unset):
            home_location = UNSET
        elif isinstance(self.home_location, PointIn):
            home_location = self.home_location.to_dict()
        else:
            home_location = self.home_location

        share_radius_km = self.share_radius_km

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "displayName": display_name,
            }
        )
        if home_location is not UNSET:
            field_dict["homeLocation"] = home_location
        if share_radius_km is not UNSET:
            field_dict["shareRadiusKm"] = share_radius_km

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.point_in import PointIn  # noqa: PLC0415

        d = dict(src_dict)
        display_name = d.pop("displayName")

        def _parse_home_location(data: object) -> None | PointIn | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                home_location_type_0 = PointIn.from_dict(data)

                return home_location_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PointIn | Unset, data)

        home_location = _parse_home_location(d.pop("homeLocation", UNSET))

        share_radius_km = d.pop("shareRadiusKm", UNSET)

        profile_put = cls(
            display_name=display_name,
            home_location=home_location,
            share_radius_km=share_radius_km,
        )

        return profile_put
