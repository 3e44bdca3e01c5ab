"""Resolving the chart a stack installs: the verified package and its CRDs, when they are needed."""

from __future__ import annotations

from dataclasses import dataclass

from .. import defaults
from ._crds import ManagedCrds, load_managed_crds
from ._repository import ChartPackage, ChartRepository, is_local_repo


@dataclass(frozen=True)
class ChartSource:
    """What the Release installs from, and the CRDs the stack manages (empty for plain Helm)."""

    repo: str
    package: ChartPackage | None
    crds: ManagedCrds | None

    @property
    def local_package_path(self) -> str | None:
        """Helm cannot read file:// or directory repositories: install the verified file."""
        if self.package is not None and is_local_repo(self.repo):
            return str(self.package.path)
        return None


def resolve_chart(repo_url: str, version: str, manage_crds: bool) -> ChartSource:
    """Fetch (or find in the cache) what the Release and the managed CRDs need, verified."""
    repo = ChartRepository(repo_url)
    package = None
    if manage_crds or repo.is_local:
        package = repo.fetch(defaults.CHART_NAME, version)
    crds = load_managed_crds(package) if package is not None and manage_crds else None
    return ChartSource(repo=repo_url, package=package, crds=crds)
