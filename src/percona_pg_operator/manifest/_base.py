"""The base of every model of the typed API: strict keys, both key spellings, immutable."""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from .._keys import to_camel


def _number_not_bool(annotation: Any) -> bool:
    """Whether a field of this type takes a number but no boolean (Python's bool is an int, so
    pydantic would take `true` as 1 for ``replicas: int``)."""
    if annotation in (int, float):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _number_not_bool(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        return bool not in args and any(_number_not_bool(a) for a in args)
    return False


class Model(BaseModel):
    """Shared model settings: unknown keys are errors, camelCase or snake_case, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        str_strip_whitespace=False,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name is not None:
            field = cls.model_fields.get(info.field_name)
            if field is not None and _number_field(cls, info.field_name):
                raise ValueError("must be a number, not a boolean (true/false)")
        return value


@functools.cache
def _number_field(model: type[Model], name: str) -> bool:
    return _number_not_bool(model.model_fields[name].annotation)
