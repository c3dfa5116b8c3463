from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast


T = TypeVar("T", bound="ClaimCreate")


@_attrs_define
class ClaimCreate:
    """
    Attributes:
        quantity (float): At most 3 decimals; a whole number for count units (each, bunch, dozen, jar, head, box).
        claim_id (None | str | Unset):
        request_id (None | str | Unset):
        note (None | str | Unset):
        match_id (None | str | Unset):
    """

    quantity: float
    claim_id: None | str | Unset = UNSET
    request_id: None | str | Unset = UNSET
    note: None | str | Unset = UNSET
    match_id: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        quantity = self.quantity

        claim_id: None | str | Unset
        if isinstance(self.claim_id, Unset):
            claim_id = UNSET
        else:
            claim_id = self.claim_id

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

        field_dict.update(
            {
                "quantity": quantity,
            }
        )
        if claim_id is not UNSET:
            field_dict["claimId"] = claim_id
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
        quantity = d.pop("quantity")

        def _parse_claim_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        claim_id = _parse_claim_id(d.pop("claimId", UNSET))

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

        claim_create = cls(
            quantity=quantity,
            claim_id=claim_id,
            request_id=request_id,
            note=note,
            match_id=match_id,
        )

        return claim_create
