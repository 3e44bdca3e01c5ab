"""The JSON Schema of the manifest, from the typed API itself.

Keys are accepted in camelCase and snake_case (protobuf-JSON rules), so the schema lists both
spellings of every multi-word field; editors then complete either and flag real typos.
"""

from __future__ import annotations

from typing import Any

from .._keys import to_snake
from ._spec import KubernetesPerconaPostgresOperator, StackInput

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _add_snake_case(node: Any) -> None:
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict) and node.get("additionalProperties") is False:
            for name in list(properties):
                snake = to_snake(name)
                if snake != name and snake not in properties:
                    properties[snake] = properties[name]
        for value in node.values():
            _add_snake_case(value)
    elif isinstance(node, list):
        for value in node:
            _add_snake_case(value)


def json_schema(stack_input: bool = False) -> dict[str, Any]:
    model = StackInput if stack_input else KubernetesPerconaPostgresOperator
    schema = model.model_json_schema(by_alias=True, mode="validation")
    _add_snake_case(schema)
    return {"$schema": SCHEMA_DIALECT, **schema}
