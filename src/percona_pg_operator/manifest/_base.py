"""The base of every model of the typed API: strict keys, both key spellings, immutable."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .._keys import to_camel


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
