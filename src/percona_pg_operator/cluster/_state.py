"""What a read of the cluster found, as plain data: the operator's Deployment, the CRDs, the
PerconaPGClusters, the Helm release records, for one operator install."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._helm import HelmRelease


@dataclass(frozen=True)
class OperatorDeployment:
    name: str
    images: list[str]
    replicas: int
    ready_replicas: int
    updated_replicas: int = 0
    generation: int = 0
    observed_generation: int = 0
    conditions: list[dict[str, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.replicas > 0 and self.ready_replicas >= self.replicas

    @property
    def rolled_out(self) -> bool:
        """The controller saw the newest spec and every replica runs it and is ready."""
        return (
            self.ready
            and self.observed_generation >= self.generation
            and self.updated_replicas >= self.replicas
        )


@dataclass(frozen=True)
class CrdState:
    name: str
    exists: bool
    served_versions: list[str] = field(default_factory=list)
    storage_version: str = ""
    established: bool = False
    version_label: str = ""
    # The object as the API server returned it (for diffs).
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class DatabaseCluster:
    """A ``PerconaPGCluster``: its ``spec.crVersion`` and ``status.state``."""

    name: str
    namespace: str
    cr_version: str
    state: str
    conditions: list[dict[str, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def condition(self, kind: str) -> dict[str, str] | None:
        return next((c for c in self.conditions if c.get("type") == kind), None)


@dataclass(frozen=True)
class ClusterState:
    """What the cluster shows, for one operator install."""

    server: str
    server_version: str
    namespace_exists: bool
    namespace_labels: dict[str, str]
    releases: list[HelmRelease]
    deployment: OperatorDeployment | None
    crds: list[CrdState]
    databases: list[DatabaseCluster]
    # The running chart's CRDs that the target chart no longer ships (kept in the cluster).
    other_crds: list[CrdState] = field(default_factory=list)

    @property
    def release(self) -> HelmRelease | None:
        """The current revision (Helm's: the highest one)."""
        return max(self.releases, key=lambda r: r.revision) if self.releases else None

    @property
    def last_deployed(self) -> HelmRelease | None:
        """The newest revision that was deployed or superseded (a rollback target)."""
        good = [r for r in self.releases if r.status in ("deployed", "superseded")]
        return max(good, key=lambda r: r.revision) if good else None
