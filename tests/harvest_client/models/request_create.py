from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
    from ..models.point_in import PointIn


T = TypeVar("T", bound="RequestCreate")


@_attrs_define
class RequestCreate:
    """
    Attributes:
        crop (str):
        quantity (float): At most 3 decimals; a whole number for count units (each, bunch, dozen, jar, head, box).
        unit (str):
        needed_by (datetime.datetime): ISO-8601 with a UTC offset, from 2000-01-01 to 2200-01-01 (UTC).
        location (PointIn):
        request_id (None | str | Unset):
        notes (None | str | Unset):
    """

    crop: str
    quantity: float
    unit: str
    needed_by: datetime.datetime
    location: PointIn
    request_id: None | str | Unset = UNSET
    notes: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.point_in import PointIn  # noqa: PLC0415

        crop = self.crop

        quantity = self.quantity

        unit = self.unit

        needed_by = self.needed_by.isoformat()

        location = self.location.to_dict()

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "crop": crop,
                "quantity": quantity,
                "unit": unit,
                "neededBy": needed_by,
                "location": location,
            }
        )
        if request_id is not UNSET:
            field_dict["requestId"] = request_id
        if notes is not UNSET:
            field_dict["notes"] = notes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.point_in import PointIn  # noqa: PLC0415

        d = dict(src_dict)
        crop = d.pop("crop")

        quantity = d.pop("quantity")

        unit = d.pop("unit")

        needed_by = datetime.datetime.fromisoformat(d.pop("neededBy"))

        location = PointIn.from_dict(d.pop("location"))

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("requestId", UNSET))

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        request_create = cls(
            crop=crop,
            quantity=quantity,
            unit=unit,
            needed_by=needed_by,
            location=location,
            request_id=request_id,
            notes=notes,
        )

        return request_create
