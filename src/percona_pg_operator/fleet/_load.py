"""Reading a fleet file into clusters with validated stack inputs, and their waves."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import _yaml
from .._merge import deep_merge
from ..errors import Problem, StackInputError
from ..manifest import StackInput, parse_document, problems_from_validation, read_file
from ._model import MAX_CLUSTERS, PATTERN_MESSAGES, Cluster, Fleet, Selector, Wave

# A fleet file's bounds scale with its clusters: each may hold its kubeconfig inline (a CA, a
# client certificate and its key come to 5-8 KiB), labels and overrides. Up to MAX_CLUSTERS of
# those load; a file beyond is refused before it is parsed.
PER_CLUSTER_BYTES = 16 * 1024
PER_CLUSTER_VALUES = 200
FLEET_BOUNDS = _yaml.Bounds(
    max_bytes=_yaml.MAX_INPUT_BYTES + MAX_CLUSTERS * PER_CLUSTER_BYTES,
    max_values=_yaml.MAX_VALUES + MAX_CLUSTERS * PER_CLUSTER_VALUES,
    max_items=MAX_CLUSTERS,
)

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
class WaveClusters:
    wave: Wave
    clusters: list[FleetCluster]

    @property
    def name(self) -> str:
        return self.wave.name


@dataclass(frozen=True)
class LoadedFleet:
    fleet: Fleet
    clusters: list[FleetCluster]
    waves: list[WaveClusters]


def _absolute_kubeconfig(stack_input: StackInput, folder: Path) -> StackInput:
    """A relative ``provider_config.kubeconfig.path`` is relative to the file that names it,
    as kubectl reads paths in a kubeconfig: ``fleet preflight`` (here) and ``fleet up`` (a stack run
    from its own workspace folder) then read the same file."""
    config = stack_input.provider_config
    block = config.kubeconfig if config is not None else None
    if config is None or block is None or block.path is None:
        return stack_input
    path = Path(block.path).expanduser()
    if path.is_absolute():
        return stack_input
    block = block.model_copy(update={"path": str((folder / path).resolve())})
    return stack_input.model_copy(
        update={"provider_config": config.model_copy(update={"kubeconfig": block})}
    )


def _stack_input(cluster: Cluster, fleet: Fleet, folder: Path) -> StackInput:
    if cluster.stack_input_file is not None:
        path = Path(cluster.stack_input_file).expanduser()
        path = path if path.is_absolute() else folder / path
        return _absolute_kubeconfig(read_file(path), path.parent)
    document: dict[str, Any] = {"target": deep_merge(fleet.manifest, cluster.overrides)}
    stack_input = parse_document(document, f"cluster {cluster.name}")
    if cluster.provider_config is not None:
        # Validated with the fleet (its kubeconfig parsed once): taken as it is.
        stack_input = stack_input.model_copy(update={"provider_config": cluster.provider_config})
    return _absolute_kubeconfig(stack_input, folder)


def _selected(selector: Selector, cluster: FleetCluster) -> bool:
    if selector.names is not None:
        return cluster.name in selector.names
    return all(cluster.labels.get(k) == v for k, v in (selector.labels or {}).items())


def group_waves(fleet: Fleet, clusters: list[FleetCluster]) -> list[WaveClusters]:
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
        for name in wave.select.names or []
        if name not in known
    ]
    # By labels, a cluster goes to the first wave that selects it; by name, a cluster named in
    # two waves is a mistake.
    placed: dict[str, str] = {}
    planned = []
    for index, wave in enumerate(waves):
        where = f"rollout.waves[{index}].select"
        selected = [c for c in clusters if _selected(wave.select, c)]
        members = [c for c in selected if c.name not in placed]
        if fleet.rollout.waves and not selected:
            problems.append(Problem(where, f"wave {wave.name!r} selects no cluster"))
        elif fleet.rollout.waves and not members:
            problems.append(
                Problem(
                    where,
                    f"wave {wave.name!r} gets no cluster: each it selects is in an earlier wave",
                )
            )
        if wave.select.names:
            problems += [
                Problem(where, f"cluster {c.name!r} is already in wave {placed[c.name]!r}")
                for c in selected
                if c.name in placed
            ]
        placed |= {c.name: wave.name for c in members}
        planned.append(WaveClusters(wave, members))
    problems += [
        Problem("rollout.waves", f"cluster {c.name!r} is in no wave")
        for c in clusters
        if c.name not in placed
    ]
    if problems:
        raise StackInputError("the fleet's rollout is not valid", problems)
    return [w for w in planned if w.clusters]


def load_fleet(path: str | Path) -> LoadedFleet:
    """The fleet file, every cluster's stack input validated, and the waves."""
    file = Path(path)
    try:
        data = _yaml.load_input(_yaml.read_input(file, FLEET_BOUNDS.max_bytes), FLEET_BOUNDS)
    except _yaml.InputError as exc:
        raise StackInputError(f"{file}: {exc}") from None
    try:
        fleet = Fleet.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, PATTERN_MESSAGES, Fleet)
        raise StackInputError(f"{file}: invalid fleet", problems) from None
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
    return LoadedFleet(fleet, clusters, group_waves(fleet, clusters))
