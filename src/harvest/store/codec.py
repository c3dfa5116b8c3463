"""The stored item models' generic part: how a model declares an attribute (`attr`), the
attributes every core item carries (StoredItem), and the encode/decode between an entity and
its item that each entity's model (harvest.store.items) inherits (EntityItem).

Encoding an entity stores each of its fields under its model's attribute of the same name
(camelCase, as pydantic's to_camel spells it), converted by the field's type; every model
attribute but the keys must be a field and every field an attribute, or the first encode or
decode of the type raises. The conversions:

    datetime      <-> ISO-8601 string (iso / parse_iso)
    date          <-> YYYY-MM-DD
    Decimal       <-> N (exact)
    float         <-> N via str() (boto3 refuses floats; str() keeps the shortest repr)
    StrEnum       <-> its value
    Location      <-> lat/lon/geohash attributes (a field named `location`), else a map
    X | None      :   None is no attribute at all (a sparse design has no use for nulls)

Nothing here imports pydantic (cold start: bench/cold_start.py); harvest.store.item_schemas
builds the pydantic models (JSON Schemas, validation) from the same declarations.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Self, Union, get_args, get_origin, get_type_hints

from harvest.domain.common import Location, iso, parse_iso

Item = dict[str, Any]

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"
GEOHASH7_PATTERN = r"^[0-9b-hjkmnp-z]{7}$"
TS_FORMAT = "ISO-8601 UTC with milliseconds and Z, e.g. 2026-05-01T08:00:00.000Z"
KEY_ATTRIBUTES = (
    "PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "GSI4PK",
    "type",
)  # fmt: skip
AUDIT_ATTRIBUTES = ("version", "createdAt", "updatedAt", "correlationId")
FACTS = "facts"  # metadata key: the JSON Schema facts (pydantic Field arguments)
PUBLISHED = "published"  # metadata key: the name an event's `data` carries it under, or ""


def attr(
    *,
    alias: str | None = None,
    description: str | None = None,
    pattern: str | None = None,
    ge: int | None = None,
    gt: int | None = None,
    le: int | None = None,
    min_length: int | None = None,
    examples: list[Any] | None = None,
    default: Any = MISSING,
    published: bool | str = False,
) -> Any:
    """One stored attribute. `published`: domain events carry it in `data` (True: under its
    stored name; a string: under that name, as `geohash` is published as `area`). Anything
    not marked is never published (harvest.domain.events.public_view includes, never
    excludes)."""
    facts = {
        "alias": alias,
        "description": description,
        "pattern": pattern,
        "ge": ge,
        "gt": gt,
        "le": le,
        "min_length": min_length,
        "examples": examples,
    }
    metadata = {FACTS: {k: v for k, v in facts.items() if v is not None}, PUBLISHED: published}
    return field(default=default, metadata=metadata)


def timestamp(what: str, *, published: bool = True) -> Any:
    """A timestamp attribute (ISO-8601 UTC with milliseconds and Z), described by `what`."""
    return attr(published=published, pattern=TIMESTAMP_PATTERN, description=f"{what} {TS_FORMAT}.")


def stored_name(field_name: str) -> str:
    """The stored attribute of a field without an alias: its name in camelCase (also the
    pydantic models' alias, store.item_schemas)."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _attribute_name(spec: Any) -> str:
    alias: str | None = spec.metadata.get(FACTS, {}).get("alias")
    return alias or stored_name(spec.name)


@dataclass(frozen=True, kw_only=True)
class Shape:
    """A stored shape: its fields are its attributes."""

    def check(self) -> None:
        """What JSON Schema cannot say (key templates); raises ValueError."""

    def to_item(self) -> Item:
        """A record that is its own model (no entity behind it: the idempotency record) as
        the table stores it: every attribute under its stored name, None left out."""
        values = ((_attribute_name(spec), getattr(self, spec.name)) for spec in fields(self))
        return {name: value for name, value in values if value is not None}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Self:
        """The record back from its item; numbers come back as int where the model says so
        (DynamoDB returns every N as Decimal)."""
        hints = get_type_hints(cls)
        found: dict[str, Any] = {}
        for spec in fields(cls):
            raw = item.get(_attribute_name(spec))
            if raw is not None:
                found[spec.name] = int(raw) if _unwrap(hints[spec.name])[0] is int else raw
        return cls(**found)


def attribute_rank(name: str) -> tuple[int, int]:
    if name in KEY_ATTRIBUTES:
        return 0, KEY_ATTRIBUTES.index(name)
    if name in AUDIT_ATTRIBUTES:
        return 2, AUDIT_ATTRIBUTES.index(name)
    return 1, 0  # sorted() is stable: other attributes keep their declared order


def stored_attribute_names(model: type[StoredItem]) -> list[str]:
    """Stored names of the model's attributes: keys and type first, audit attributes last."""
    return sorted((_attribute_name(spec) for spec in fields(model)), key=attribute_rank)


def attribute_examples(model: type[StoredItem]) -> dict[str, list[Any]]:
    """Stored name -> the examples of each model attribute that has some."""
    found: dict[str, list[Any]] = {}
    for spec in fields(model):
        examples = spec.metadata.get(FACTS, {}).get("examples")
        if examples:
            found[_attribute_name(spec)] = examples
    return found


def published_attributes(model: type[StoredItem]) -> frozenset[str]:
    """What the events of the model's entity carry in `data`: the attributes marked
    `published`, under their published names."""
    names: set[str] = set()
    for spec in fields(model):
        published = spec.metadata.get(PUBLISHED, False)
        if published:
            names.add(published if isinstance(published, str) else _attribute_name(spec))
    return frozenset(names)


# --- entity <-> item: the runtime read and write path ---------------------------------------


def _float_attr(value: float) -> Decimal:
    return Decimal(str(value))


def _location_to_map(location: Location) -> Item:
    return {
        "lat": _float_attr(location.lat),
        "lon": _float_attr(location.lon),
        "geohash": location.geohash,
    }


def _location(item: Mapping[str, Any]) -> Location:
    return Location(lat=float(item["lat"]), lon=float(item["lon"]), geohash=str(item["geohash"]))


@dataclass(frozen=True, slots=True)
class _Attribute:
    """One entity field and the model attribute it is stored as."""

    field: str
    stored: str  # "" for a location stored as lat/lon/geohash
    kind: type[Any]
    optional: bool

    def encode(self, value: Any, item: Item) -> None:
        if value is None:
            return
        if self.kind is Location:
            if self.stored:
                item[self.stored] = _location_to_map(value)
            else:
                item.update(_location_to_map(value))
        elif self.kind is datetime:
            item[self.stored] = iso(value)
        elif self.kind is date:
            item[self.stored] = value.isoformat()
        elif self.kind is float:
            item[self.stored] = _float_attr(value)
        elif issubclass(self.kind, Enum):
            item[self.stored] = value.value
        else:
            item[self.stored] = value

    def decode(self, item: Mapping[str, Any]) -> Any:
        if self.kind is Location and not self.stored:
            return _location(item)
        raw = item.get(self.stored) if self.optional else item[self.stored]
        if raw is None:
            return None
        if self.kind is Location:
            return _location(raw)
        if self.kind is datetime:
            return parse_iso(raw)
        if self.kind is date:
            return date.fromisoformat(raw)
        if self.kind in (int, float, Decimal, str) or issubclass(self.kind, Enum):
            return self.kind(raw)
        raise TypeError(f"no stored form for {self.kind!r}")  # pragma: no cover - new type


def _unwrap(annotation: Any) -> tuple[type[Any], bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        return inner[0], True
    return annotation, False


_FLAT_LOCATION = frozenset({"lat", "lon", "geohash"})
_LAYOUTS: dict[type[Any], tuple[str, tuple[_Attribute, ...]]] = {}


def _layout(model: type[StoredItem], entity_class: type[Any]) -> tuple[str, tuple[_Attribute, ...]]:
    """The stored `type` and how each entity field is stored as one of the model's
    attributes, read from both declarations on first use. A field named `location` is the
    model's lat/lon/geohash, any other Location a map. The entity and the model must name
    the same attributes (keys aside): the first encode or decode of a type raises if not."""
    if model in _LAYOUTS:
        return _LAYOUTS[model]
    hints = get_type_hints(entity_class)
    layout: list[_Attribute] = []
    covered: set[str] = set()
    for spec in fields(entity_class):
        kind, optional = _unwrap(hints[spec.name])
        flat = kind is Location and spec.name == "location"
        stored = "" if flat else stored_name(spec.name)
        covered |= _FLAT_LOCATION if flat else {stored}
        layout.append(_Attribute(spec.name, stored, kind, optional))
    attributes = set(stored_attribute_names(model)) - set(KEY_ATTRIBUTES)
    if covered != attributes:
        raise TypeError(
            f"{model.__name__} and {entity_class.__name__} differ: only the model has "
            f"{sorted(attributes - covered)}, only the entity {sorted(covered - attributes)}"
        )
    (item_type,) = get_args(get_type_hints(model)["type"])
    ordered = tuple(sorted(layout, key=lambda attribute: attribute.optional))
    _LAYOUTS[model] = (item_type, ordered)
    return _LAYOUTS[model]


class EntityItem[E]:
    """The item model of an entity: encodes it for the table and decodes it back."""

    @classmethod
    def entity(cls) -> type[E]:
        """The entity class: E of the model's `EntityItem[E]` base."""
        for base in getattr(cls, "__orig_bases__", ()):
            if get_origin(base) is EntityItem:
                entity: type[E] = get_args(base)[0]
                return entity
        raise TypeError(f"{cls.__name__} names no entity")  # pragma: no cover - declaration

    @classmethod
    def item_keys(cls, entity: E) -> Item:
        """The item's key attributes (the sparse FeedIndex/CropIndex keys follow the status)."""
        raise NotImplementedError

    @classmethod
    def encode(cls, entity: E) -> Item:
        """The item the table stores: keys, `type`, required attributes, optional ones, the
        sparse feed keys last (the order schemas/sample-data.jsonl shows)."""
        item_type, layout = _layout(cls, cls.entity())  # type: ignore[arg-type]
        found = cls.item_keys(entity)
        feed = {name: found.pop(name) for name in ("GSI3PK", "GSI3SK", "GSI4PK") if name in found}
        item: Item = {**found, "type": item_type}
        for attribute in layout:
            attribute.encode(getattr(entity, attribute.field), item)
        return item | feed

    @classmethod
    def decode(cls, item: Mapping[str, Any]) -> E:
        _, layout = _layout(cls, cls.entity())  # type: ignore[arg-type]
        return cls.entity()(**{attribute.field: attribute.decode(item) for attribute in layout})


@dataclass(frozen=True, kw_only=True)
class StoredItem(Shape):
    """Attributes every core item carries (DESIGN §3 invariant 3)."""

    version: int = attr(
        published=True,
        ge=1,
        description="Optimistic-concurrency version: 1 on create, +1 per write.",
    )
    correlation_id: str = attr(
        min_length=1, description="Correlation id of the API request that wrote this version."
    )
    created_at: str = timestamp("Creation time.")
    updated_at: str = timestamp("Last write time.")


def expect(name: str, actual: str | None, expected: str | None) -> None:
    if actual != expected:
        raise ValueError(f"{name} is {actual!r}, expected {expected!r}")
