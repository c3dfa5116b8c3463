from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.claim_status import ClaimStatus
from ..types import UNSET, Unset
from typing import cast


T = TypeVar("T", bound="ClaimOut")


@_attrs_define
class ClaimOut:
    """
    Attributes:
        claim_id (str):
        listing_id (str):
        claimer_id (str):
        owner_id (str):
        quantity (float):
        unit (str):
        status (ClaimStatus):
        version (int):
        created_at (str):
        updated_at (str):
        request_id (None | str | Unset):
        note (None | str | Unset):
        match_id (None | str | Unset): The match it was made from.
    """

    claim_id: str
    listing_id: str
    claimer_id: str
    owner_id: str
    quantity: float
    unit: str
    status: ClaimStatus
    version: int
    created_at: str
    updated_at: str
    request_id: None | str | Unset = UNSET
    note: None | str | Unset = UNSET
    match_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        claim_id = self.claim_id

        listing_id = self.listing_id

        claimer_id = self.claimer_id

        owner_id = self.owner_id

        quantity = self.quantity

        unit = self.unit

        status = self.status.value

        version = self.version

        created_at = self.created_at

        updated_at = self.updated_at

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        note: None | str | Unset
        if isinstance(self.note, Unset):
            note = UNSET
        else:
            note = self.note

        match_id: None | str | Unset
        if isinstance(self.match_id, Unset):
            match_id = UNSET
        else:
            match_id = self.match_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "claimId": claim_id,
                "listingId": listing_id,
                "claimerId": claimer_id,
                "ownerId": owner_id,
                "quantity": quantity,
                "unit": unit,
                "status": status,
                "version": version,
                "createdAt": created_at,
                "updatedAt": updated_at,
            }
        )
        if request_id is not UNSET:
            field_dict["requestId"] = request_id
        if note is not UNSET:
            field_dict["note"] = note
        if match_id is not UNSET:
            field_dict["matchId"] = match_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        claim_id = d.pop("claimId")

        listing_id = d.pop("listingId")

        claimer_id = d.pop("claimerId")

        owner_id = d.pop("ownerId")

        quantity = d.pop("quantity")

        unit = d.pop("unit")

        status = ClaimStatus(d.pop("status"))

        version = d.pop("version")

        created_at = d.pop("createdAt")

        updated_at = d.pop("updatedAt")

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("requestId", UNSET))

        def _parse_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        note = _parse_note(d.pop("note", UNSET))

        def _parse_match_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        match_id = _parse_match_id(d.pop("matchId", UNSET))

        claim_out = cls(
            claim_id=claim_id,
            listing_id=listing_id,
            claimer_id=claimer_id,
            owner_id=owner_id,
            quantity=quantity,
            unit=unit,
            status=status,
            version=version,
            created_at=created_at,
            updated_at=updated_at,
            request_id=request_id,
            note=note,
            match_id=match_id,
        )

        claim_out.additional_properties = d
        return claim_out

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
