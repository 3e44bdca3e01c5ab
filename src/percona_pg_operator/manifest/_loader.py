"""Reading the stack input, the way project-planton's modules do, into a validated model.

Sources, first found wins: Pulumi config ``planton-cloud:stack-input``, env ``STACK_INPUT_YAML``
(the YAML itself), env ``STACK_INPUT_YAML_FILE`` (a path to it). A document may be a whole stack
input (``target`` + ``provider_config``) or just the manifest (``kind: ...``).
"""

from __future__ import annotations

import difflib
import os
import reprlib
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .. import _yaml, defaults
from .._secrets import is_secret_key
from ..errors import Problem, StackInputError
from ._spec import StackInput


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


# A bounded excerpt: reprlib stops at a few levels and items, so showing a huge (or alias-
# expanded) value costs nothing.
_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel, _EXCERPT.maxdict, _EXCERPT.maxlist = 2, 4, 4
_EXCERPT.maxstring, _EXCERPT.maxother, _EXCERPT.maxlong = 60, 60, 40


def show_value(value: Any) -> str:
    """A short, bounded excerpt of a value for an error message."""
    text = _EXCERPT.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through Optional, lists, dicts and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model at ``loc`` under ``model``; None when the path leaves the models (a map of
    labels, free-form values)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: the same model
        assert current is not None
        field = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)), None
        )
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return None
    return current


def known_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The fields (as written: camelCase) of the model at ``loc`` under ``model``."""
    found = _model_at(model, loc)
    return [f.alias or name for name, f in found.model_fields.items()] if found else []


def _closest(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str | None:
    known = known_fields(model, loc[:-1]) if model is not None else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_field_message(model: type[BaseModel] | None, loc: tuple[int | str, ...]) -> str:
    """ "unknown field", with the closest known one when there is one ("did you mean")."""
    close = _closest(model, loc)
    if close:
        return f"unknown field (did you mean {close!r}?)"
    return "unknown field (check its spelling)"


def _inside_misspelled(
    model: type[BaseModel] | None,
    loc: tuple[int | str, ...],
    value: Any,
    patterns: Mapping[str, str] | None,
) -> list[Problem]:
    """The problems inside a misspelled block, checked as the block it most likely is, so one
    pass reports them with the typo (under the path as written)."""
    close = _closest(model, loc)
    if model is None or close is None or not isinstance(value, Mapping):
        return []
    inner = _model_at(model, (*loc[:-1], close))
    if inner is None:
        return []
    try:
        inner.model_validate(value)
    except ValidationError as exc:
        prefix = _path(loc)
        # Under a credential-like key (providerConfig, a kubeconfig) no value is shown.
        hidden = any(is_secret_key(str(part)) for part in (*loc, close))
        return [
            Problem(
                f"{prefix}.{p.path}" if p.path else prefix, p.message, None if hidden else p.value
            )
            for p in problems_from_validation(exc, patterns, inner)
        ]
    return []


def problems_from_validation(
    exc: ValidationError,
    patterns: Mapping[str, str] | None = None,
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Turn pydantic's errors into problems naming the full path and the bad value.

    ``patterns`` says in words what a regular expression of the model means. ``model``: the
    validated model, to name the closest known field to an unknown one. A value anywhere
    under ``provider_config``, or under a credential-like key, is never shown.
    """
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _path(loc)
        message = err["msg"].removeprefix("Value error, ")
        inside: list[Problem] = []
        if err["type"] == "extra_forbidden":
            message = unknown_field_message(model, loc)
            inside = _inside_misspelled(model, loc, err.get("input"), patterns)
        if err["type"] == "string_type" and type(err.get("input")) in (int, float):
            # YAML reads an unquoted 3.0 or 2.9 as a number, and loses the text (3.0 -> 3).
            message = (
                "a number where text belongs (YAML reads an unquoted 3.0 as a number): quote "
                'it, e.g. "3.0.0"'
            )
        if err["type"] == "string_pattern_mismatch":
            message = (patterns or {}).get(str(err.get("ctx", {}).get("pattern")), message)
        secret = loc[-1:] != ("provider",) and any(is_secret_key(part) for part in loc)
        value = None
        if err["type"] not in ("missing", "extra_forbidden") and not secret and "input" in err:
            value = show_value(err.get("input"))
        problems.append(Problem(path=path, message=message, value=value))
        problems += inside
    return problems


def parse_document(data: Any, source: str) -> StackInput:
    """Validate a parsed YAML document: a whole stack input or a bare manifest."""
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        raise StackInputError(f"{source}: the stack input is {kind}")
    wrap = "kind" in data or "apiVersion" in data or "api_version" in data
    if wrap:
        data = {"target": data}
    try:
        return StackInput.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, model=StackInput)
    if wrap:
        problems = [
            Problem(p.path.removeprefix("target.").removeprefix("target"), p.message, p.value)
            for p in problems
        ]
    raise StackInputError(f"{source}: invalid stack input", problems)


def parse_yaml(text: str, source: str) -> StackInput:
    """Parse YAML text and validate it."""
    if not text.strip():
        raise StackInputError(f"{source}: the stack input is empty")
    try:
        # Duplicate keys refused, size and shape bounded; errors quote no value (the text may
        # hold a kubeconfig).
        data = _yaml.load_input(text)
    except _yaml.InputError as exc:
        raise StackInputError(f"{source}: {exc}") from None
    return parse_document(data, source)


def read_file(path: str | os.PathLike[str]) -> StackInput:
    """A manifest or stack input file: a regular file of at most 1 MiB."""
    file = Path(path)
    try:
        text = _yaml.read_input(file)
    except _yaml.InputError as exc:
        raise StackInputError(f"{file}: {exc}") from None
    return parse_yaml(text, str(file))


def stack_input_sources(
    config_value: Callable[[], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, str, bool]]:
    """Every source that gives a stack input, in project-planton's order (first wins): its
    name, its text or path, and whether it is a path."""
    env = os.environ if environ is None else environ
    found: list[tuple[str, str, bool]] = []
    from_config = config_value() if config_value is not None else None
    if from_config:
        found.append((f"Pulumi config {defaults.STACK_INPUT_CONFIG_KEY}", from_config, False))
    if env.get(defaults.STACK_INPUT_YAML_ENV):
        found.append(
            (f"env {defaults.STACK_INPUT_YAML_ENV}", env[defaults.STACK_INPUT_YAML_ENV], False)
        )
    if env.get(defaults.STACK_INPUT_YAML_FILE_ENV):
        path = env[defaults.STACK_INPUT_YAML_FILE_ENV]
        found.append((f"env {defaults.STACK_INPUT_YAML_FILE_ENV}", path, True))
    return found


def load_stack_input(
    config_value: Callable[[], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> StackInput:
    """Load the stack input from the first source present, in project-planton's order. When
    more than one source gives one, ``warn`` is told which one is used and which are not."""
    sources = stack_input_sources(config_value, environ)
    if not sources:
        raise StackInputError(
            "no stack input: set Pulumi config "
            f"{defaults.STACK_INPUT_CONFIG_KEY}, env {defaults.STACK_INPUT_YAML_ENV} (the YAML), "
            f"or env {defaults.STACK_INPUT_YAML_FILE_ENV} (a path to it)"
        )
    (name, value, is_path), ignored = sources[0], sources[1:]
    if ignored and warn is not None:
        others = " and ".join(other for other, _, _ in ignored)
        warn(
            f"the stack input comes from {name}; {others} also "
            f"{'give' if len(ignored) > 1 else 'gives'} one, ignored (the first found wins: "
            f"config {defaults.STACK_INPUT_CONFIG_KEY}, then env "
            f"{defaults.STACK_INPUT_YAML_ENV}, then env {defaults.STACK_INPUT_YAML_FILE_ENV})"
        )
    return read_file(value) if is_path else parse_yaml(value, name)
