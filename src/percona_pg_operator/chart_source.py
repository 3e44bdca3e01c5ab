"""Resolving the chart a stack installs: the verified package and its CRDs, when they are needed."""

from __future__ import annotations

from dataclasses import dataclass

from . import defaults
from .chart_repository import ChartPackage, ChartRepository, is_local_repo
from .crds import ManagedCrds, load_managed_crds
from .locals import Locals


@dataclass(frozen=True)
class ChartSource:
    """What the Release installs from, and the CRDs the stack manages (empty for plain Helm)."""

    repo: str
    version: str
    package: ChartPackage | None
    crds: ManagedCrds | None

    @property
    def local_package_path(self) -> str | None:
        """Helm cannot read file:// or directory repositories: install the verified file."""
        if self.package is not None and is_local_repo(self.repo):
            return str(self.package.path)
        return None


def resolve_chart(locals_: Locals, repository: ChartRepository | None = None) -> ChartSource:
    repo = repository or ChartRepository(locals_.chart_repo)
    package = None
    if locals_.manage_crds or repo.is_local:
        package = repo.fetch(defaults.CHART_NAME, locals_.chart_version)
    crds = load_managed_crds(package) if package is not None and locals_.manage_crds else None
    return ChartSource(
        repo=locals_.chart_repo, version=locals_.chart_version, package=package, crds=crds
    )
