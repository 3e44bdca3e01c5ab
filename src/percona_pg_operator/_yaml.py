"""The package's one choice of YAML reader and writer.

libyaml's C loader and dumper when PyYAML was built with them (several times faster on the
megabytes of CRD YAML in a chart, and on manifests), the pure-Python safe ones otherwise. Only
safe types are ever constructed.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._files import FileRefused, read_regular

Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAMLError = yaml.YAMLError

# Bounds on what a person writes (manifests, stack inputs, fleet files, kubeconfigs): far above
# any real input, far below what would take long or much memory. Aliases count once per use, so
# an alias bomb hits MAX_VALUES after a bounded walk.
MAX_INPUT_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_VALUES = 100_000
MAX_STRING = 512 * 1024
MAX_ITEMS = 10_000


@dataclass(frozen=True)
class Bounds:
    """The size bounds of one kind of input; a fleet file's scale with its clusters."""

    max_bytes: int = MAX_INPUT_BYTES
    max_values: int = MAX_VALUES
    max_items: int = MAX_ITEMS


DEFAULT_BOUNDS = Bounds()


class InputError(ValueError):
    """Input that is not well-formed or is beyond the bounds above; the message is safe to show
    (it quotes no value)."""


class _StrictLoader(Loader):  # type: ignore[misc]
    """The C loader, refusing a key given twice in one mapping (YAML keeps the last silently)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue  # unhashable: the base class reports it
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"found the key {_safe_key(key)} twice in one mapping",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def _safe_key(key: Any) -> str:
    text = str(key)
    return repr(text) if len(text) <= 40 and text.isprintable() else "(a long key)"


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _at_mark(text: str | bytes, mark: Any) -> str:
    """The character at an error's mark (the C loader does not name it)."""
    try:
        line = (text.decode("utf-8", "replace") if isinstance(text, bytes) else text).split("\n")[
            mark.line
        ]
        return line[mark.column] if mark.column < len(line) else ""
    except (IndexError, AttributeError, TypeError):
        return ""


def _describe(exc: yaml.YAMLError, text: str | bytes = "") -> str:
    """A YAML error's position and kind, never the text it quotes (it may be a credential)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = str(getattr(exc, "problem", None) or "malformed YAML")
    if "constructor for the tag" in problem:
        problem = "an unknown tag (quote the value if it is text)"
    elif "cannot start any token" in problem and mark and _at_mark(text, mark) == "\t":
        problem = "a tab; YAML indents with spaces only: replace the tab with spaces"
    elif "twice in one mapping" not in problem:
        problem = _QUOTED.sub("…", problem)
    return f"not valid YAML{where}: {problem}"


def check_shape(data: Any, bounds: Bounds = DEFAULT_BOUNDS) -> None:
    """Bounded walk: depth, total values (aliases count per use), string and list sizes."""
    max_values, max_items = bounds.max_values, bounds.max_items
    count = 0
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        count += 1
        if count > max_values:
            raise InputError(f"more than {max_values} values (YAML aliases count once per use)")
        if depth > MAX_DEPTH:
            raise InputError(f"{path or '<root>'}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                raise InputError(
                    f"{path or '<root>'}: a string longer than {MAX_STRING} characters"
                )
        elif isinstance(node, set | frozenset):
            raise InputError(f"{path or '<root>'}: a YAML set (!!set) is not a list: write a list")
        elif isinstance(node, dict):
            if len(node) > max_items:
                raise InputError(f"{path or '<root>'}: more than {max_items} keys")
            for key in node:
                if isinstance(key, bool):
                    raise InputError(
                        f"{path or '<root>'}: a key was read as the boolean {str(key).lower()} "
                        "(YAML 1.1 reads unquoted on, off, yes, no, true and false as "
                        'booleans): quote it, e.g. "on":'
                    )
                if not isinstance(key, str):
                    raise InputError(
                        f"{path or '<root>'}: the key {_safe_key(key)} is not a string: quote it"
                    )
            for key, value in node.items():
                label = str(key) if isinstance(key, str) and len(key) <= 60 else "?"
                stack.append((value, depth + 1, f"{path}.{label}" if path else label))
        elif isinstance(node, list):
            if len(node) > max_items:
                raise InputError(f"{path or '<root>'}: more than {max_items} items")
            stack.extend((item, depth + 1, f"{path}[{i}]") for i, item in enumerate(node))


def load_input(text: str | bytes, bounds: Bounds = DEFAULT_BOUNDS) -> Any:
    """One document a person wrote: duplicate keys refused, bounded in size and shape.

    InputError (safe to show) on anything that is not well-formed or too large.
    """
    if len(text) > bounds.max_bytes:
        raise InputError(f"larger than {bounds.max_bytes} bytes")
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise InputError(_describe(exc, text)) from None
    except RecursionError:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels") from None
    check_shape(data, bounds)
    return data


def read_input(path: str | os.PathLike[str], max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The text of a regular file of at most ``max_bytes`` (no FIFO, device or /dev/zero)."""
    file = Path(path).expanduser()
    try:
        data = read_regular(file, max_bytes)
    except FileRefused as exc:
        raise InputError(str(exc)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text") from None


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
