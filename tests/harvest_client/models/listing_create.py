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


T = TypeVar("T", bound="ListingCreate")


@_attrs_define
class ListingCreate:
    """
    Attributes:
        crop (str):
        quantity (float): At most 3 decimals; a whole number for count units (each, bunch, dozen, jar, head, box).
        unit (str):
        available_from (datetime.datetime): ISO-8601 with a UTC offset, from 2000-01-01 to 2200-01-01 (UTC).
        available_until (datetime.datetime): ISO-8601 with a UTC offset, from 2000-01-01 to 2200-01-01 (UTC).
        location (PointIn):
        listing_id (None | str | Unset):
        notes (None | str | Unset):
    """

    crop: str
    quantity: float
    unit: str
    available_from: datetime.datetime
    available_until: datetime.datetime
    location: PointIn
    listing_id: None | str | Unset = UNSET
    notes: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.point_in import PointIn  # noqa: PLC0415

        crop = self.crop

        quantity = self.quantity

        unit = self.unit

        available_from = self.available_from.isoformat()

        available_until = self.available_until.isoformat()

        location = self.location.to_dict()

        listing_id: None | str | Unset
        if isinstance(self.listing_id, Unset):
            listing_id = UNSET
        else:
            listing_id = self.listing_id

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
                "availableFrom": available_from,
                "availableUntil": available_until,
                "location": location,
            }
        )
        if listing_id is not UNSET:
            field_dict["listingId"] = listing_id
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

        available_from = datetime.datetime.fromisoformat(d.pop("availableFrom"))

        available_until = datetime.datetime.fromisoformat(d.pop("availableUntil"))

        location = PointIn.from_dict(d.pop("location"))

        def _parse_listing_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        listing_id = _parse_listing_id(d.pop("listingId", UNSET))

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        listing_create = cls(
            crop=crop,
            quantity=quantity,
            unit=unit,
            available_from=available_from,
            available_until=available_until,
            location=location,
            listing_id=listing_id,
            notes=notes,
        )

        return listing_create
