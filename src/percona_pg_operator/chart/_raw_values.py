"""Raw ``spec.helmValues`` checked against the chart version that will receive them.

What a chart accepts is what its templates read: every ``.Values.a.b`` path in
``templates/``, plus the tree of its ``values.yaml`` (whose defaults give each key's type). A key
the chart version does not have would be silently ignored by Helm, and a value of the wrong type
fails deep inside template rendering (or renders something else), so both are refused here with
the chart version named. The chart's ``values.yaml`` comments some keys out (``watchNamespace``)
and its templates read keys it never lists (``rbac.useClusterAdmin``); the template scan covers
both. Sources, per version:
https://github.com/percona/percona-helm-charts/tree/main/charts/pg-operator
"""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass, field
from typing import Any

from ..errors import ChartRepositoryError, Problem, StackInputError
from ..manifest import ValueProblem, show_value
from ._package import ChartPackage

_VALUES_PATH = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


@dataclass
class ValuesShape:
    """What one chart version accepts: its ``values.yaml`` defaults (each key's type) and the
    paths its templates read (keys with no default take any JSON value)."""

    version: str
    defaults: dict[str, Any]
    template_paths: set[tuple[str, ...]] = field(default_factory=set)

    def _reads_whole(self, path: tuple[str, ...]) -> bool:
        """A template reads ``path`` or a mapping above it (``toYaml .Values.x`` takes all of x)."""
        return any(path[: len(p)] == p for p in self.template_paths)

    def _reads_below(self, path: tuple[str, ...]) -> bool:
        return any(len(p) > len(path) and p[: len(path)] == path for p in self.template_paths)

    def problems(self, raw: dict[str, Any]) -> list[ValueProblem]:
        return self._check(raw, self.defaults, ())

    def _check(
        self, raw: dict[str, Any], defaults: dict[str, Any] | None, path: tuple[str, ...]
    ) -> list[ValueProblem]:
        problems: list[ValueProblem] = []
        for key, value in raw.items():
            here = (*path, key)
            has_default = defaults is not None and key in defaults
            whole, below = self._reads_whole(here), self._reads_below(here)
            if not (has_default or whole or below):
                problems.append(
                    ValueProblem(
                        loc=("helmValues", *here),
                        message=(
                            f"chart pg-operator {self.version} has no value "
                            f"{'.'.join(here)!r} (its values.yaml and templates never read it)"
                        ),
                    )
                )
                continue
            if not has_default:
                # No default, so no type to hold it to; only the keys the templates read below.
                if below and not whole and isinstance(value, dict):
                    problems += self._check(value, None, here)
                continue
            default = defaults[key] if defaults is not None else None
            if value is None or default is None:
                continue  # null unsets a value in Helm; a null default takes any value
            expected = _kind(default)
            if _kind(value) != expected and not (expected == "string" and _kind(value) == "number"):
                problems.append(
                    ValueProblem(
                        loc=("helmValues", *here),
                        message=(
                            f"chart pg-operator {self.version} expects a {expected} here "
                            f"(values.yaml default: {_short(default)}), not a {_kind(value)}"
                        ),
                        value=value,
                    )
                )
            elif isinstance(value, dict) and isinstance(default, dict) and default:
                # A non-empty default mapping lists its keys; an empty one ({}) is free-form.
                problems += self._check(value, default, here)
        return problems


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def values_shape(package: ChartPackage) -> ValuesShape:
    """The shape of the values ``package`` accepts, read from its ``values.yaml`` and templates."""
    try:
        defaults = package.member_yaml("values.yaml")
    except ChartRepositoryError:
        defaults = {}  # a chart may ship no values.yaml; its templates still say what they read
    paths: set[tuple[str, ...]] = set()
    prefix = f"{package.name}/templates/"
    try:
        with tarfile.open(fileobj=io.BytesIO(package.read_bytes()), mode="r:gz") as archive:
            for member in archive:
                if not (member.isfile() and member.name.startswith(prefix)):
                    continue
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                text = handle.read().decode("utf-8", errors="replace")
                paths |= {tuple(m.group(1)[1:].split(".")) for m in _VALUES_PATH.finditer(text)}
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ChartRepositoryError(
            f"{package.path}: cannot read the chart's templates ({type(exc).__name__})"
        ) from None
    return ValuesShape(version=package.version, defaults=defaults, template_paths=paths)


def raw_values_problems(raw: dict[str, Any], package: ChartPackage) -> list[ValueProblem]:
    """Each raw value the chart version in ``package`` does not have or cannot take."""
    if not raw:
        return []
    return values_shape(package).problems(raw)


def check_raw_values(raw: dict[str, Any], package: ChartPackage) -> None:
    """Raise :class:`StackInputError` listing every raw value ``package`` cannot take."""
    problems = raw_values_problems(raw, package)
    if not problems:
        return

    raise StackInputError(
        f"spec.helmValues does not fit chart pg-operator {package.version}",
        [
            Problem(
                path=".".join(("spec", *p.loc)),
                message=p.message,
                value=None if p.value is None else show_value(p.value),
            )
            for p in problems
        ],
    )
