"""The stored item models (harvest.store.items) as pydantic models: their JSON Schemas
(schemas/entities/*.schema.json, the event schemas' stored fields) and validation of stored
items in tests and tools. Built from the dataclasses on first use, never on a Lambda's path:
importing pydantic costs a cold start ~0.5 s CPU (bench/cold_start.py)."""

from __future__ import annotations

import types
from dataclasses import MISSING, fields, is_dataclass
from functools import reduce
from operator import or_
from typing import Any, Union, cast, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic.fields import ComputedFieldInfo, FieldInfo
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from harvest.store.codec import FACTS, StoredItem, attribute_rank, stored_name
from harvest.store.items import STORED_ITEM_MODELS


def _title(name: str, info: FieldInfo | ComputedFieldInfo) -> str:
    # Titles show the stored attribute name, which is what a data engineer searches for.
    alias = info.alias if isinstance(info, FieldInfo) else None
    return alias or stored_name(name)


# Aliases are the stored names as the codec writes them (codec.stored_name), not a second
# camelCase rule that would have to agree with it.
_CONFIG = ConfigDict(
    extra="forbid", alias_generator=stored_name, frozen=True, field_title_generator=_title
)


def _annotation(hint: Any) -> Any:
    """The hint with each nested stored shape (a dataclass) replaced by its pydantic model."""
    if isinstance(hint, type) and is_dataclass(hint):
        return pydantic_model(hint)
    if get_origin(hint) in (Union, types.UnionType):
        return reduce(or_, (_annotation(arg) for arg in get_args(hint)))
    return hint


_MODELS: dict[type[Any], type[BaseModel]] = {}


def pydantic_model(shape: type[Any]) -> type[BaseModel]:
    """The pydantic model of a stored shape (built once): same name, docstring, attributes
    and facts; its `check` (the key templates) runs as a model validator."""
    if shape not in _MODELS:
        _MODELS[shape] = _build(shape)
    return _MODELS[shape]


def _build(shape: type[Any]) -> type[BaseModel]:
    hints = get_type_hints(shape)
    definitions: dict[str, Any] = {}
    for spec in fields(shape):
        facts = spec.metadata.get(FACTS, {})
        field = Field(**facts) if spec.default is MISSING else Field(spec.default, **facts)
        definitions[spec.name] = (_annotation(hints[spec.name]), field)

    def check(model: BaseModel) -> BaseModel:
        shape(**{spec.name: getattr(model, spec.name) for spec in fields(shape)}).check()
        return model

    return create_model(
        shape.__name__,
        __config__=_CONFIG,
        __doc__=shape.__doc__,
        __validators__={"keys_match": cast(Any, model_validator(mode="after")(check))},
        **definitions,
    )


def validate(item: dict[str, Any]) -> BaseModel:
    """A stored core item checked against its model (ValidationError if it is not one)."""
    return pydantic_model(STORED_ITEM_MODELS[str(item["type"])]).model_validate(item)


class StoredItemJsonSchema(GenerateJsonSchema):
    """JSON Schema of what is in the table: a sparse attribute is absent, never null."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if "default" in json_schema and json_schema["default"] is None:
            del json_schema["default"]
        return json_schema


def item_json_schema(model: type[StoredItem]) -> dict[str, object]:
    """The model's JSON Schema, attributes in stored_attribute_names order."""
    schema = pydantic_model(model).model_json_schema(
        by_alias=True, schema_generator=StoredItemJsonSchema
    )
    properties: dict[str, object] = schema["properties"]
    order = sorted(properties, key=attribute_rank)
    schema["properties"] = {name: properties[name] for name in order}
    schema["required"] = [name for name in order if name in schema.get("required", [])]
    return cast(dict[str, object], schema)
