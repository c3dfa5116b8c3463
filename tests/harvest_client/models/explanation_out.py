from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
    from ..models.advice_out import AdviceOut


T = TypeVar("T", bound="ExplanationOut")


@_attrs_define
class ExplanationOut:
    """
    Attributes:
        geohash (str):
        days (int):
        as_of (str):
        cached (bool): False: computed now as the fallback, not yet answered.
        explanation (AdviceOut):
    """

    geohash: str
    days: int
    as_of: str
    cached: bool
    explanation: AdviceOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.advice_out import AdviceOut  # noqa: PLC0415

        geohash = self.geohash

        days = self.days

        as_of = self.as_of

        cached = self.cached

        explanation = self.explanation.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "geohash": geohash,
                "days": days,
                "asOf": as_of,
                "cached": cached,
                "explanation": explanation,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.advice_out import AdviceOut  # noqa: PLC0415

        d = dict(src_dict)
        geohash = d.pop("geohash")

        days = d.pop("days")

        as_of = d.pop("asOf")

        cached = d.pop("cached")

        explanation = AdviceOut.from_dict(d.pop("explanation"))

        explanation_out = cls(
            geohash=geohash,
            days=days,
            as_of=as_of,
            cached=cached,
            explanation=explanation,
        )

        explanation_out.additional_properties = d
        return explanation_out

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
