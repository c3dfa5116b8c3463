from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.advice_out_source import AdviceOutSource
from typing import cast


T = TypeVar("T", bound="AdviceOut")


@_attrs_define
class AdviceOut:
    """
    Attributes:
        headline (str):
        reasoning (list[str]):
        actions (list[str]):
        source (AdviceOutSource):
        model_id (None | str):
    """

    headline: str
    reasoning: list[str]
    actions: list[str]
    source: AdviceOutSource
    model_id: None | str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        headline = self.headline

        reasoning = self.reasoning

        actions = self.actions

        source = self.source.value

        model_id: None | str
        model_id = self.model_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "headline": headline,
                "reasoning": reasoning,
                "actions": actions,
                "source": source,
                "modelId": model_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        headline = d.pop("headline")

        reasoning = cast(list[str], d.pop("reasoning"))

        actions = cast(list[str], d.pop("actions"))

        source = AdviceOutSource(d.pop("source"))

        def _parse_model_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model_id = _parse_model_id(d.pop("modelId"))

        advice_out = cls(
            headline=headline,
            reasoning=reasoning,
            actions=actions,
            source=source,
            model_id=model_id,
        )

        advice_out.additional_properties = d
        return advice_out

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
