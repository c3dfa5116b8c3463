from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.request_status import RequestStatus
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
    from ..models.location_out import LocationOut


T = TypeVar("T", bound="RequestOut")


@_attrs_define
class RequestOut:
    """
    Attributes:
        request_id (str):
        owner_id (str):
        crop (str):
        unit (str):
        quantity (float):
        needed_by (str):
        location (LocationOut):
        status (RequestStatus):
        version (int):
        created_at (str):
        updated_at (str):
        notes (None | str | Unset):
    """

    request_id: str
    owner_id: str
    crop: str
    unit: str
    quantity: float
    needed_by: str
    location: LocationOut
    status: RequestStatus
    version: int
    created_at: str
    updated_at: str
    notes: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        request_id = self.request_id

        owner_id = self.owner_id

        crop = self.crop

        unit = self.unit

        quantity = self.quantity

        needed_by = self.needed_by

        location = self.location.to_dict()

        status = self.status.value

        version = self.version

        created_at = self.created_at

        updated_at = self.updated_at

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "requestId": request_id,
                "ownerId": owner_id,
                "crop": crop,
                "unit": unit,
                "quantity": quantity,
                "neededBy": needed_by,
                "location": location,
                "status": status,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if notes is not UNSET:
            field_dict["notes"] = notes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        d = dict(src_dict)
        request_id = d.pop("requestId")

        owner_id = d.pop("ownerId")

        crop = d.pop("crop")

        unit = d.pop("unit")

        quantity = d.pop("quantity")

        needed_by = d.pop("neededBy")

        location = LocationOut.from_dict(d.pop("location"))

        status = RequestStatus(d.pop("status"))

        version = d.pop("version")

        created_at = d.pop("createdAt")

        updated_at = d.pop("updatedAt")

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        request_out = cls(
            request_id=request_id,
            owner_id=owner_id,
            crop=crop,
            unit=unit,
            quantity=quantity,
            needed_by=needed_by,
            location=location,
            status=status,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            notes=notes,
        )

        request_out.additional_properties = d
        return request_out

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
