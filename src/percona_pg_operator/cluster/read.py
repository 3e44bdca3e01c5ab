"""One read of the cluster for a stack: what the preflight, ``status``, ``diff --live``,
``repair`` and the fleet's health gate look at. Read only, and nothing but the cluster: which
CRDs to read comes from the caller or from the version facts (``versions.chart_crd_names``),
never from a chart download, so a health check or a repair reads the cluster even offline."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UpgradeGuardError
from ..manifest import StackInput, database_namespaces
from ..versions import chart_crd_names
from ._kubeconfig import ClusterCredentials, cluster_credentials
from ._live import READ_DEADLINE_SECONDS, ClusterClient, read_cluster
from ._state import ClusterState


def inspect_cluster(
    stack_input: StackInput,
    *,
    credentials: ClusterCredentials | None = None,
    crd_names: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    running_crds: bool = False,
    raw_crds: bool = False,
    **client_options: Any,
) -> ClusterState:
    """Read what the checks need.

    ``credentials``: the very credentials the deploy uses (the component passes its prepared
    ones); by default those of the stack input's ``provider_config`` (or the ambient
    kubeconfig). ``crd_names``: the target chart's CRDs (by default those the version facts
    name for ``spec.helm.version``). ``running_crds``: when the release runs another chart
    version, also read the CRDs that chart ships and the target does not, in the same connection
    (``diff --live`` shows them; no check needs them). ``raw_crds``: keep each CRD's whole
    object (``diff --live``, ``status --raw``); the checks read a few fields of each.
    """
    target = stack_input.target
    spec = target.spec
    if credentials is None:
        credentials = cluster_credentials(stack_input.provider_config, environ)
    names = list(crd_names) if crd_names is not None else _known_crds(spec.helm.version)
    client_options.setdefault("deadline_seconds", READ_DEADLINE_SECONDS)
    with ClusterClient.connect(credentials, environ, **client_options) as client:
        state = read_cluster(
            client,
            namespace=spec.namespace,
            release=target.release_name,
            crd_names=names,
            database_namespaces=database_namespaces(spec),
            raw_crds=raw_crds,
        )
        running = state.release.chart_version if state.release is not None else None
        other = sorted(set(_known_crds(running)) - set(names)) if running and running_crds else []
        if not other:
            return state
        return dataclasses.replace(state, other_crds=client.crds(other, cached=True, raw=raw_crds))


def _known_crds(version: str) -> list[str]:
    """The CRDs chart ``version`` ships; none for a version that is not one (a release of some
    other chart is the release check's to refuse)."""
    try:
        return chart_crd_names(version)
    except UpgradeGuardError:
        return []
