from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.listing_status import ListingStatus
from ..types import UNSET, Unset
from typing import cast
from typing import Literal, cast

if TYPE_CHECKING:
    from ..models.location_out import LocationOut


T = TypeVar("T", bound="ListingFeedItem")


@_attrs_define
class ListingFeedItem:
    """
    Attributes:
        listing_id (str):
        owner_id (str):
        crop (str):
        unit (str):
        quantity_total (float):
        quantity_remaining (float):
        available_from (str):
        available_until (str):
        location (LocationOut):
        status (ListingStatus):
        version (int):
        created_at (str):
        updated_at (str):
        kind (Literal['listing']):
        distance_km (float):
        notes (None | str | Unset):
    """

    listing_id: str
    owner_id: str
    crop: str
    unit: str
    quantity_total: float
    quantity_remaining: float
    available_from: str
    available_until: str
    location: LocationOut
    status: ListingStatus
    version: int
    created_at: str
    updated_at: str
    kind: Literal["listing"]
    distance_km: float
    notes: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        listing_id = self.listing_id

        owner_id = self.owner_id

        crop = self.crop

        unit = self.unit

        quantity_total = self.quantity_total

        quantity_remaining = self.quantity_remaining

        available_from = self.available_from

        available_until = self.available_until

        location = self.location.to_dict()

        status = self.status.value

        version = self.version

        created_at = self.created_at

        updated_at = self.updated_at

        kind = self.kind

        distance_km = self.distance_km

        notes: None | str | Unset
        if isinstance(self.notes, Unset):
            notes = UNSET
        else:
            notes = self.notes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "listingId": listing_id,
                "ownerId": owner_id,
                "crop": crop,
                "unit": unit,
                "quantityTotal": quantity_total,
                "quantityRemaining": quantity_remaining,
                "availableFrom": available_from,
                "availableUntil": available_until,
                "location": location,
                "status": status,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
                "kind": kind,
                "distanceKm": distance_km,
            }
        )
        if notes is not UNSET:
            field_dict["notes"] = notes

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.location_out import LocationOut  # noqa: PLC0415

        d = dict(src_dict)
        listing_id = d.pop("listingId")

        owner_id = d.pop("ownerId")

        crop = d.pop("crop")

        unit = d.pop("unit")

        quantity_total = d.pop("quantityTotal")

        quantity_remaining = d.pop("quantityRemaining")

        available_from = d.pop("availableFrom")

        available_until = d.pop("availableUntil")

        location = LocationOut.from_dict(d.pop("location"))

        status = ListingStatus(d.pop("status"))

        version = d.pop("version")

        created_at = d.pop("createdAt")

        updated_at = d.pop("updatedAt")

        kind = cast(Literal["listing"], d.pop("kind"))
        if kind != "listing":
            raise ValueError(f"kind must match const 'listing', got '{kind}'")

        distance_km = d.pop("distanceKm")

        def _parse_notes(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        notes = _parse_notes(d.pop("notes", UNSET))

        listing_feed_item = cls(
            listing_id=listing_id,
            owner_id=owner_id,
            crop=crop,
            unit=unit,
            quantity_total=quantity_total,
            quantity_remaining=quantity_remaining,
            available_from=available_from,
            available_until=available_until,
            location=location,
            status=status,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            kind=kind,
            distance_km=distance_km,
            notes=notes,
        )

        listing_feed_item.additional_properties = d
        return listing_feed_item

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
