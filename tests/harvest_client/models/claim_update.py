from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.claim_update_status import ClaimUpdateStatus


T = TypeVar("T", bound="ClaimUpdate")


@_attrs_define
class ClaimUpdate:
    """
    Attributes:
        status (ClaimUpdateStatus):
    """

    status: ClaimUpdateStatus

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = ClaimUpdateStatus(d.pop("status"))

        claim_update = cls(
            status=status,
        )

        return claim_update
