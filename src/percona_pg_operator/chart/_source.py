"""Resolving the chart a stack installs: the verified package and its CRDs, when they are needed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import defaults
from ._crds import ManagedCrds, load_managed_crds
from ._raw_values import check_raw_values
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


def resolve_chart(
    repo_url: str, version: str, manage_crds: bool, raw_values: Mapping[str, Any] | None = None
) -> ChartSource:
    """Fetch (or find in the cache) the verified package when the stack needs its contents: for
    the managed CRDs, for a local repository (Helm cannot read one), and to check raw values
    against the chart version's own values. With none of these, Helm downloads the chart itself
    (see the README's "What is verified")."""
    repo = ChartRepository(repo_url)
    package = None
    if manage_crds or repo.is_local or raw_values:
        package = repo.fetch(defaults.CHART_NAME, version)
        check_raw_values(dict(raw_values or {}), package)
    crds = load_managed_crds(package) if package is not None and manage_crds else None
    return ChartSource(repo=repo_url, package=package, crds=crds)
