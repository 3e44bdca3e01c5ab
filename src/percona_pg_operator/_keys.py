"""The one place that converts field names between snake_case and camelCase.

Manifests arrive as protobuf JSON (camelCase) or as written by hand (snake_case); the models
accept both, the schema lists both, and error paths use camelCase as protojson writes them.
"""

from __future__ import annotations

import re

_UPPER = re.compile(r"(?<!^)(?=[A-Z])")


def to_camel(name: str) -> str:
    """``leader_election`` -> ``leaderElection`` (protobuf JSON's json_name rule)."""
    first, *rest = name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


def to_snake(name: str) -> str:
    """``leaderElection`` -> ``leader_election``."""
    return _UPPER.sub("_", name).lower()
