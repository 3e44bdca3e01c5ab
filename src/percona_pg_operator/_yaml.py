"""The package's one choice of YAML reader and writer.

libyaml's C loader and dumper when PyYAML was built with them (several times faster on the
megabytes of CRD YAML in a chart, and on manifests), the pure-Python safe ones otherwise. Only
safe types are ever constructed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAMLError = yaml.YAMLError


def load(data: str | bytes) -> Any:
    """One YAML document."""
    return yaml.load(data, Loader=Loader)


def load_all(data: str | bytes) -> list[Any]:
    """Every document of a YAML stream."""
    return list(yaml.load_all(data, Loader=Loader))


def dump(obj: Any) -> str:
    """Block-style YAML, keys in the object's own order."""
    return str(yaml.dump(obj, Dumper=Dumper, sort_keys=False))


def dump_sorted(obj: Any) -> str:
    """Block-style YAML with keys sorted: a stable text to diff."""
    return str(yaml.dump(obj, Dumper=Dumper, sort_keys=True))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building or dumping large trees.

    Parsing a chart's CRDs creates millions of dicts and lists that are all still alive, so the
    collector's passes over them find nothing to free; pausing it measured 0.85x on a cold run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
