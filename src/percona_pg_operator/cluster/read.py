"""One read of the cluster for a stack: what the preflight, ``status``, ``diff --live``,
``repair`` and the fleet's health gate look at, with the credentials the provider gets."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .. import defaults
from ..chart import ChartPackage, ChartRepository, cache_root, chart_repo_url, load_managed_crds
from ..errors import PerconaPgOperatorError
from ..manifest import StackInput, database_namespaces
from ._kubeconfig import cluster_credentials
from ._live import READ_DEADLINE_SECONDS, ClusterClient, read_cluster
from ._state import ClusterState


def stack_repository(
    stack_input: StackInput, environ: Mapping[str, str] | None = None
) -> ChartRepository:
    """The chart repository a stack input names (or the mirror, or Percona's), with the cache
    the environment says."""
    repo = chart_repo_url(stack_input.target.spec.helm.repo, environ)
    return ChartRepository(repo, cache_dir=cache_root(environ))


def target_package(
    stack_input: StackInput,
    version: str | None = None,
    repository: ChartRepository | None = None,
) -> ChartPackage:
    spec = stack_input.target.spec
    found = repository or stack_repository(stack_input)
    return found.fetch(defaults.CHART_NAME, version or spec.helm.version)


def inspect_cluster(
    stack_input: StackInput,
    package: ChartPackage,
    environ: Mapping[str, str] | None = None,
    repository: ChartRepository | None = None,
    **client_options: Any,
) -> ClusterState:
    """Read what the checks need, with the credentials the Pulumi provider gets.

    ``package`` is the run's one resolved target package. When the release runs another chart
    version, that chart's package is fetched afterwards, so the CRDs it ships and the target
    does not are read too.
    """
    target = stack_input.target
    spec = target.spec
    credentials = cluster_credentials(stack_input.provider_config, environ)
    client_options.setdefault("deadline_seconds", READ_DEADLINE_SECONDS)
    with ClusterClient.connect(credentials, environ, **client_options) as client:
        state = read_cluster(
            client,
            namespace=spec.namespace,
            release=target.release_name,
            crd_names=load_managed_crds(package).names,
            database_namespaces=database_namespaces(spec),
        )
        running = state.release.chart_version if state.release is not None else None
        if not running or running == package.version:
            return state
        charts = repository or stack_repository(stack_input, environ)
        names = set(_crd_names(stack_input, running, charts)) - {c.name for c in state.crds}
        return dataclasses.replace(state, other_crds=client.crds(sorted(names)))


def _crd_names(
    stack_input: StackInput, version: str | None, repository: ChartRepository
) -> list[str]:
    """The CRDs chart ``version`` ships; none when the repository does not offer it."""
    if version is None:
        return []
    try:
        return load_managed_crds(target_package(stack_input, version, repository)).names
    except PerconaPgOperatorError:
        return []  # a chart this repository does not offer: its CRDs are not compared
