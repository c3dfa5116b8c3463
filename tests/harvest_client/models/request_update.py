from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.request_update_status_type_0 import RequestUpdateStatusType0
from ..types import UNSET, Unset
from typing import cast
import datetime


T = TypeVar("T", bound="RequestUpdate")


@_attrs_define
class RequestUpdate:
    """
    Attributes:
        quantity (float | None | Unset):
        unit (None | str | Unset):
        needed_by (datetime.datetime | None | Unset):
        notes (None | str | Unset):
        status (None | RequestUpdateStatusType0 | Unset):
    """

    quantity: float | None | Unset = UNSET
    unit: None | str | Unset = UNSET
    needed_by: datetime.datetime | None | Unset = UNSET
    notes: None | str | Unset = UNSET
    status: None | RequestUpdateStatusType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        quantity: float | None | Unset
        if isinstance(self.quantity, Unset):
            quantity = UNSET
        else:
            quantity = self.quantity

        unit: None | str | Unset
        if isinstance(self.unit, Unset):
            unit = UNSET
        else:
            unit = self.unit

        needed_by: None | str | Unset
        if isinstance(self.needed_by, Unset):
            needed_by = UNSET
        elif isinstance(self.needed_by, datetime.datetime):
            needed_by = self.needed_by.isoformat()
        else:
            needed_by = self.needed_by

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, RequestUpdateStatusType0):
            status = self.status.value
        else:
            status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if quantity is not UNSET:
            field_dict["quantity"] = quantity
        if unit is not UNSET:
            field_dict["unit"] = unit
        if needed_by is not UNSET:
            field_dict["neededBy"] = needed_by
        if notes is not UNSET:
            field_dict["notes"] = notes
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_quantity(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        quantity = _parse_quantity(d.pop("quantity", UNSET))

        def _parse_unit(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        unit = _parse_unit(d.pop("unit", UNSET))

        def _parse_needed_by(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                needed_by_type_0 = datetime.datetime.fromisoformat(data)

                return needed_by_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        needed_by = _parse_needed_by(d.pop("neededBy", UNSET))

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        def _parse_status(data: object) -> None | RequestUpdateStatusType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = RequestUpdateStatusType0(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RequestUpdateStatusType0 | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        request_update = cls(
            quantity=quantity,
            unit=unit,
            needed_by=needed_by,
            notes=notes,
            status=status,
        )

        return request_update
