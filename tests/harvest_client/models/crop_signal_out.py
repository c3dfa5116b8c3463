from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.crop_signal_out_classification import CropSignalOutClassification
from typing import cast


T = TypeVar("T", bound="CropSignalOut")


@_attrs_define
class CropSignalOut:
    """A crop of a window, listed only when it may be published (docs/privacy.md): a crop
    under the k-anonymity thresholds is left out, as if nobody had listed it.

        Attributes:
            crop (str):
            unit (str):
            supply (float | None):
            demand (float | None):
            listings (int | None):
            requests (int | None):
            scarcity (float | None):
            abundance (float | None):
            classification (CropSignalOutClassification):
            confidence (float | None):
    """

    crop: str
    unit: str
    supply: float | None
    demand: float | None
    listings: int | None
    requests: int | None
    scarcity: float | None
    abundance: float | None
    classification: CropSignalOutClassification
    confidence: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        crop = self.crop

        unit = self.unit

        supply: float | None
        supply = self.supply

        demand: float | None
        demand = self.demand

        listings: int | None
        listings = self.listings

        requests: int | None
        requests = self.requests

        scarcity: float | None
        scarcity = self.scarcity

        abundance: float | None
        abundance = self.abundance

        classification = self.classification.value

        confidence: float | None
        confidence = self.confidence

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "crop": crop,
                "unit": unit,
                "supply": supply,
                "demand": demand,
                "listings": listings,
                "requests": requests,
                "scarcity": scarcity,
                "abundance": abundance,
                "classification": classification,
                "confidence": confidence,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        crop = d.pop("crop")

        unit = d.pop("unit")

        def _parse_supply(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        supply = _parse_supply(d.pop("supply"))

        def _parse_demand(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        demand = _parse_demand(d.pop("demand"))

        def _parse_listings(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        listings = _parse_listings(d.pop("listings"))

        def _parse_requests(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        requests = _parse_requests(d.pop("requests"))

        def _parse_scarcity(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        scarcity = _parse_scarcity(d.pop("scarcity"))

        def _parse_abundance(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        abundance = _parse_abundance(d.pop("abundance"))

        classification = CropSignalOutClassification(d.pop("classification"))

        def _parse_confidence(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        confidence = _parse_confidence(d.pop("confidence"))

        crop_signal_out = cls(
            crop=crop,
            unit=unit,
            supply=supply,
            demand=demand,
            listings=listings,
            requests=requests,
            scarcity=scarcity,
            abundance=abundance,
            classification=classification,
            confidence=confidence,
        )

        crop_signal_out.additional_properties = d
        return crop_signal_out

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
