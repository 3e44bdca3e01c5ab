"""The target cluster, read only: credentials and kubeconfigs, the client, Helm's records.

- :func:`cluster_credentials` turns a ``provider_config`` into a kubeconfig and a stable
  cluster identity (the deploy layer builds the Pulumi Kubernetes provider from it).
- :class:`ClusterClient` reads the cluster with the same credentials, running the kubeconfig's
  exec plugins itself; :func:`read.inspect_cluster` is the one read a stack needs.
- :mod:`repair` rolls back or uninstalls a release a killed run left pending.

The exec plugins' token makers are ``percona_pg_operator.tokens`` (standard library only).
"""

from ._helm import HelmRelease
from ._kubeconfig import ClusterCredentials, cluster_credentials, require_exec_command
from ._live import READ_DEADLINE_SECONDS, ClusterClient, read_cluster
from ._state import ClusterState

__all__ = [
    "READ_DEADLINE_SECONDS",
    "ClusterClient",
    "ClusterCredentials",
    "ClusterState",
    "HelmRelease",
    "cluster_credentials",
    "read_cluster",
    "require_exec_command",
]
