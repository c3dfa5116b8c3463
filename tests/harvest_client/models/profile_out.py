from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.tier import Tier
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
    from ..models.location_out import LocationOut


T = TypeVar("T", bound="ProfileOut")


@_attrs_define
class ProfileOut:
    """
    Attributes:
        user_id (str):
        display_name (str):
        share_radius_km (float):
        tier (Tier):
        version (int):
        created_at (str):
        updated_at (str):
        home_location (LocationOut | None | Unset):
    """

    user_id: str
    display_name: str
    share_radius_km: float
    tier: Tier
    version: int
    created_at: str
    updated_at: str
    home_location: LocationOut | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        user_id = self.user_id

        display_name = self.display_name

        share_radius_km = self.share_radius_km

        tier = self.tier.value

        version = self.version

        created_at = self.created_at

        updated_at = self.updated_at

        home_location: dict[str, Any] | None | Unset
        if isinstance(self.home_location, Unset):
            home_location = UNSET
        elif isinstance(self.home_location, LocationOut):
            home_location = self.home_location.to_dict()
        else:
            home_location = self.home_location

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "userId": user_id,
                "displayName": display_name,
                "shareRadiusKm": share_radius_km,
                "tier": tier,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if home_location is not UNSET:
            field_dict["homeLocation"] = home_location

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        d = dict(src_dict)
        user_id = d.pop("userId")

        display_name = d.pop("displayName")

        share_radius_km = d.pop("shareRadiusKm")

        tier = Tier(d.pop("tier"))

        version = d.pop("version")

        created_at = d.pop("createdAt")

        updated_at = d.pop("updatedAt")

        def _parse_home_location(data: object) -> LocationOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                home_location_type_0 = LocationOut.from_dict(data)

                return home_location_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(LocationOut | None | Unset, data)

        home_location = _parse_home_location(d.pop("homeLocation", UNSET))

        profile_out = cls(
            user_id=user_id,
            display_name=display_name,
            share_radius_km=share_radius_km,
            tier=tier,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            home_location=home_location,
        )

        profile_out.additional_properties = d
        return profile_out

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
