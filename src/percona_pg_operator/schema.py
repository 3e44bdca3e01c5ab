"""The JSON Schema of the manifest, from the typed API itself (camelCase keys)."""

from __future__ import annotations

from typing import Any

from .spec import KubernetesPerconaPostgresOperator, StackInput

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(stack_input: bool = False) -> dict[str, Any]:
    model = StackInput if stack_input else KubernetesPerconaPostgresOperator
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}
