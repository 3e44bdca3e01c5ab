"""The target cluster: credentials, kubeconfigs with exec plugins, the Kubernetes provider.

- :func:`cluster_credentials` turns a ``provider_config`` into a kubeconfig and a stable
  cluster identity (the deploy layer builds the Pulumi Kubernetes provider from it).
- :class:`ClusterClient` reads the cluster (read only) with the same credentials, and
  :func:`read_cluster` gathers what the preflight and ``status`` look at.
- :func:`gke_exec_credential` and :func:`eks_exec_credential` are the exec credential plugins'
  token makers (``python -m percona_pg_operator credentials gke|eks``).

Names load on first use: the plugins run on every token refresh and must not pay for pydantic,
the manifest models or the Pulumi SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from ._helm import HelmRelease
    from ._kubeconfig import ClusterCredentials, cluster_credentials, require_exec_command
    from ._live import READ_DEADLINE_SECONDS, ClusterClient, ClusterState, read_cluster
    from ._tokens import GKE_KEY_ENV, eks_exec_credential, gke_exec_credential

_EXPORTS = {
    "HelmRelease": "._helm",
    "ClusterClient": "._live",
    "READ_DEADLINE_SECONDS": "._live",
    "ClusterState": "._live",
    "read_cluster": "._live",
    "ClusterCredentials": "._kubeconfig",
    "cluster_credentials": "._kubeconfig",
    "require_exec_command": "._kubeconfig",
    "GKE_KEY_ENV": "._tokens",
    "eks_exec_credential": "._tokens",
    "gke_exec_credential": "._tokens",
}

__all__ = [
    "GKE_KEY_ENV",
    "READ_DEADLINE_SECONDS",
    "ClusterClient",
    "ClusterCredentials",
    "ClusterState",
    "HelmRelease",
    "cluster_credentials",
    "eks_exec_credential",
    "gke_exec_credential",
    "read_cluster",
    "require_exec_command",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
