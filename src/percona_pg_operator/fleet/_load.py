"""Reading a fleet file into clusters with validated stack inputs, and their waves."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import _yaml
from ..errors import Problem, StackInputError
from ..manifest import StackInput, parse_document, problems_from_validation, read_file
from ._model import Cluster, Fleet, Selector, Wave

DEFAULT_CANARY = "canary"
DEFAULT_REST = "rest"


@dataclass(frozen=True)
class FleetCluster:
    name: str
    labels: dict[str, str]
    stack: str
    stack_input: StackInput = field(repr=False)

    @property
    def target_version(self) -> str:
        return self.stack_input.target.spec.helm.version


@dataclass(frozen=True)
class PlannedWave:
    wave: Wave
    clusters: list[FleetCluster]

    @property
    def name(self) -> str:
        return self.wave.name


@dataclass(frozen=True)
class FleetPlan:
    fleet: Fleet
    clusters: list[FleetCluster]
    waves: list[PlannedWave]


def _merge(base: Any, top: Any) -> Any:
    if isinstance(base, dict) and isinstance(top, dict):
        out = copy.deepcopy(base)
        for key, value in top.items():
            out[key] = _merge(out.get(key), value)
        return out
    return copy.deepcopy(top)


def _stack_input(cluster: Cluster, fleet: Fleet, folder: Path) -> StackInput:
    if cluster.stack_input_file is not None:
        path = Path(cluster.stack_input_file)
        return read_file(path if path.is_absolute() else folder / path)
    document: dict[str, Any] = {"target": _merge(fleet.manifest, cluster.overrides)}
    if cluster.provider_config is not None:
        document["providerConfig"] = cluster.provider_config.model_dump(
            by_alias=True, exclude_none=True
        )
    return parse_document(document, f"cluster {cluster.name}")


def _selected(selector: Selector, cluster: FleetCluster) -> bool:
    if selector.names:
        return cluster.name in selector.names
    return all(cluster.labels.get(k) == v for k, v in selector.labels.items())


def plan_waves(fleet: Fleet, clusters: list[FleetCluster]) -> list[PlannedWave]:
    """Each cluster in the first wave that selects it; every cluster in a wave."""
    waves = fleet.rollout.waves or [
        Wave(name=DEFAULT_CANARY, select=Selector(names=[clusters[0].name])),
        *(
            [Wave(name=DEFAULT_REST, select=Selector(names=[c.name for c in clusters[1:]]))]
            if len(clusters) > 1
            else []
        ),
    ]
    known = {c.name for c in clusters}
    problems = [
        Problem(f"rollout.waves[{i}].select.names", f"no cluster named {name!r}")
        for i, wave in enumerate(fleet.rollout.waves)
        for name in wave.select.names
        if name not in known
    ]
    placed: set[str] = set()
    planned = []
    for wave in waves:
        members = [c for c in clusters if c.name not in placed and _selected(wave.select, c)]
        placed |= {c.name for c in members}
        planned.append(PlannedWave(wave, members))
    problems += [
        Problem("rollout.waves", f"cluster {c.name!r} is in no wave")
        for c in clusters
        if c.name not in placed
    ]
    if problems:
        raise StackInputError("the fleet's rollout is not valid", problems)
    return [w for w in planned if w.clusters]


def load_fleet(path: str | Path) -> FleetPlan:
    """The fleet file, every cluster's stack input validated, and the waves."""
    file = Path(path)
    try:
        data = _yaml.load_input(_yaml.read_input(file))
    except _yaml.InputError as exc:
        raise StackInputError(f"{file}: {exc}") from None
    try:
        fleet = Fleet.model_validate(data)
    except ValidationError as exc:
        raise StackInputError(f"{file}: invalid fleet", problems_from_validation(exc)) from None
    clusters, problems = [], []
    for index, cluster in enumerate(fleet.clusters):
        try:
            stack_input = _stack_input(cluster, fleet, file.parent)
        except StackInputError as exc:
            problems += [
                Problem(f"clusters[{index}] ({cluster.name}): {p.path}", p.message, p.value)
                for p in exc.problems
            ] or [Problem(f"clusters[{index}] ({cluster.name})", exc.summary)]
            continue
        clusters.append(
            FleetCluster(cluster.name, dict(cluster.labels), cluster.stack, stack_input)
        )
    if problems:
        raise StackInputError(f"{file}: invalid fleet", problems)
    return FleetPlan(fleet, clusters, plan_waves(fleet, clusters))
