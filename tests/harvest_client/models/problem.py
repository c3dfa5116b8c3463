from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.problem_required_tier import ProblemRequiredTier
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
    from ..models.field_problem import FieldProblem


T = TypeVar("T", bound="Problem")


@_attrs_define
class Problem:
    """RFC 7807 problem details. `type` is a stable URI per kind of problem (https://harvest.exchange/problems/<slug>);
    further members depend on the kind.

        Attributes:
            type_ (str):
            title (str):
            status (int):
            detail (str):
            errors (list[FieldProblem] | Unset): Validation problems: one per invalid input.
            suggestions (list[str] | Unset): unknown-crop: catalogue slugs close to the one sent.
            allowed_units (list[str] | Unset): unit-not-allowed: the crop's units.
            required_tier (ProblemRequiredTier | Unset):
            entitlement (str | Unset):
            current_version (int | Unset): version-mismatch: the version now stored (also its ETag).
    """

    type_: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | Unset = UNSET
    suggestions: list[str] | Unset = UNSET
    allowed_units: list[str] | Unset = UNSET
    required_tier: ProblemRequiredTier | Unset = UNSET
    entitlement: str | Unset = UNSET
    current_version: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.field_problem import FieldProblem  # noqa: PLC0415

        type_ = self.type_

        title = self.title

        status = self.status

        detail = self.detail

        errors: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.errors, Unset):
            errors = []
            for errors_item_data in self.errors:
                errors_item = errors_item_data.to_dict()
                errors.append(errors_item)

        suggestions: list[str] | Unset = UNSET
        if not isinstance(self.suggestions, Unset):
            suggestions = self.suggestions

        allowed_units: list[str] | Unset = UNSET
        if not isinstance(self.allowed_units, Unset):
            allowed_units = self.allowed_units

        required_tier: str | Unset = UNSET
        if not isinstance(self.required_tier, Unset):
            required_tier = self.required_tier.value

        entitlement = self.entitlement

        current_version = self.current_version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "type": type_,
                "title": title,
                "status": status,
                "detail": detail,
            }
        )
        if errors is not UNSET:
            field_dict["errors"] = errors
        if suggestions is not UNSET:
            field_dict["suggestions"] = suggestions
        if allowed_units is not UNSET:
            field_dict["allowedUnits"] = allowed_units
        if required_tier is not UNSET:
            field_dict["requiredTier"] = required_tier
        if entitlement is not UNSET:
            field_dict["entitlement"] = entitlement
        if current_version is not UNSET:
            field_dict["currentVersion"] = current_version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.field_problem import FieldProblem  # noqa: PLC0415

        d = dict(src_dict)
        type_ = d.pop("type")

        title = d.pop("title")

        status = d.pop("status")

        detail = d.pop("detail")

        _errors = d.pop("errors", UNSET)
        errors: list[FieldProblem] | Unset = UNSET
        if _errors is not UNSET:
            errors = []
            for errors_item_data in _errors:
                errors_item = FieldProblem.from_dict(errors_item_data)

                errors.append(errors_item)

        suggestions = cast(list[str], d.pop("suggestions", UNSET))

        allowed_units = cast(list[str], d.pop("allowedUnits", UNSET))

        _required_tier = d.pop("requiredTier", UNSET)
        required_tier: ProblemRequiredTier | Unset
        if isinstance(_required_tier, Unset):
            required_tier = UNSET
        else:
            required_tier = ProblemRequiredTier(_required_tier)

        entitlement = d.pop("entitlement", UNSET)

        current_version = d.pop("currentVersion", UNSET)

        problem = cls(
            type_=type_,
            title=title,
            status=status,
            detail=detail,
            errors=errors,
            suggestions=suggestions,
            allowed_units=allowed_units,
            required_tier=required_tier,
            entitlement=entitlement,
            current_version=current_version,
        )

        problem.additional_properties = d
        return problem

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
