"""The one deep merge: a fleet cluster's overrides over the fleet's manifest, and raw
``helmValues`` over the values built from the typed spec.

Mappings merge key by key, recursively; anything else in ``top`` (a list, a scalar, null)
replaces what ``base`` has, as Helm's ``-f`` files do for lists. Neither input is changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
