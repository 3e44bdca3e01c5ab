"""Module-level ``__getattr__`` (PEP 562) that imports a package's public names on first use.

The package root and ``cluster`` use it so that the credential plugin, which runs on every token
refresh, does not import pydantic, the manifest models or the Pulumi SDK just by being found.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A ``__getattr__`` that loads ``name`` from the module ``exports[name]`` names."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module, package), name)

    return __getattr__
