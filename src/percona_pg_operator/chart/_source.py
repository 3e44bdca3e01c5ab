"""Resolving the chart a stack installs: the verified package, staged where the Release reads it.

Helm installs exactly the bytes this module verified. A ``helm.v3.Release`` given a repository
would download the chart again inside the Kubernetes provider, unchecked; given a path to a
package it installs that file (local charts: pulumi/pulumi-kubernetes#1809). The provider stores
the ``chart`` input in the stack's state and diffs on it (pulumi/pulumi-kubernetes#2251), so the
path must be the same on every machine: the verified package is copied into the Pulumi project,
``.percona-pg-operator/charts/pg-operator-<version>-<digest prefix>.tgz``, and the Release gets
that path *relative* to the project. The program and the Kubernetes provider both run in the
project's directory (a project folder named like a remote chart shadows it,
pulumi/pulumi-kubernetes#2409), so both resolve it alike. The digest in the name makes a
package with other bytes (another mirror, a re-published chart) a visible change in the preview.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import defaults
from .._files import FileRefused, atomic_write, read_regular
from ..errors import ChartRepositoryError
from ..manifest import StackInput
from ._crds import ManagedCrds, load_managed_crds
from ._package import ChartPackage
from ._raw_values import check_raw_values
from ._repository import ChartRepository, cache_root, chart_repo_url

# Where, inside the Pulumi project, the verified packages are staged for the Release.
STAGING_DIR = Path(".percona-pg-operator") / "charts"


@dataclass(frozen=True)
class ChartSource:
    """What the Release installs (the staged, verified package) and the CRDs the stack manages
    (none for plain Helm)."""

    package: ChartPackage
    crds: ManagedCrds | None
    install_path: str
    # The CRDs' ready-to-apply manifest, staged beside the package (None: CRDs not managed).
    crds_path: str | None = None


def _stage(package: ChartPackage, project_dir: Path, relative: Path, purpose: str) -> str:
    """Copy the verified package to ``relative`` in the project (unless the same bytes are
    there) and return that path with forward slashes on every platform."""
    return _stage_bytes(package.read_bytes(), project_dir, relative, f"chart package{purpose}")


def _stage_bytes(data: bytes, project_dir: Path, relative: Path, what: str) -> str:
    target = project_dir / relative
    try:
        # Written only inside the project: a staging folder linked elsewhere is refused
        # (resolved before anything is created there).
        if not target.parent.resolve().is_relative_to(project_dir.resolve()):
            raise ChartRepositoryError(
                f"cannot stage the verified {what} at {target}: "
                f"{target.parent} leads out of the project {project_dir}; remove that link"
            )
        try:
            same = read_regular(target, len(data)) == data
        except FileRefused:
            same = False  # absent, not a regular file, or other bytes: written anew
        if not same:
            atomic_write(target, data)
    except OSError as exc:
        raise ChartRepositoryError(
            f"cannot stage the verified {what} at {target}: {exc.strerror or type(exc).__name__}"
        ) from None
    return relative.as_posix()


def stage_package(package: ChartPackage, project_dir: Path) -> str:
    """Stage the verified package for the Release; its path relative to the project."""
    name = f"{package.name}-{package.version}-{package.digest[:12]}.tgz"
    return _stage(package, project_dir, STAGING_DIR / name, "")


def stage_crds(package: ChartPackage, crds: ManagedCrds, project_dir: Path) -> str:
    """Stage the CRDs' ready-to-apply manifest beside the package, for the stack's CRD resource
    (deploy/crds.py), which applies it only if its sha256 is still ``crds.digest``; its path
    relative to the project."""
    name = f"{package.name}-{package.version}-{package.digest[:12]}.crds.json"
    return _stage_bytes(crds.manifest.encode(), project_dir, STAGING_DIR / name, "CRDs")


def stage_for_import(package: ChartPackage, project_dir: Path) -> str:
    """Copy the verified package to ``<name>-<version>.tgz`` at the top of the project, where
    pulumi-kubernetes' Release import looks for a release's chart (``importRelease`` and
    ``searchProgramDirectory`` in provider/pkg/provider/helm_release.go, v4.25.0). Without it
    the import records the bare chart name as the Release's ``chart``, which the provider's
    check then refuses ("non-absolute URLs should be in form of repo_name/path_to_chart",
    seen on the real engine), so an adoption could never pass."""
    name = f"{package.name}-{package.version}.tgz"
    return _stage(package, project_dir, Path(name), " for the import")


def stack_repository(
    stack_input: StackInput,
    environ: Mapping[str, str] | None = None,
    *,
    chart_repo: str | None = None,
    cache_dir: Path | None = None,
) -> ChartRepository:
    """The chart repository a stack uses: ``chart_repo`` (a caller's or a flag's), else
    ``spec.helm.repo``, else the mirror variable, else Percona's; cached where ``cache_dir`` (or
    the environment) says."""
    repo = chart_repo or chart_repo_url(stack_input.target.spec.helm.repo, environ)
    return ChartRepository(repo, cache_dir=cache_dir or cache_root(environ))


def target_package(
    stack_input: StackInput,
    repository: ChartRepository,
    version: str | None = None,
) -> ChartPackage:
    """The digest-checked package of ``version`` (default: the spec's) from ``repository``."""
    return repository.fetch(defaults.CHART_NAME, version or stack_input.target.spec.helm.version)


def resolve_chart(
    repository: ChartRepository,
    version: str,
    manage_crds: bool,
    raw_values: Mapping[str, Any] | None = None,
    project_dir: Path | None = None,
    importing: bool = False,
) -> ChartSource:
    """Fetch (or find in the cache) the verified package, check the raw values against it, load
    the CRDs the stack manages, and stage the package for the Release (``importing``: also where
    the Release's import finds it). ``manageCrds: false`` verifies and stages just the same."""
    package = repository.fetch(defaults.CHART_NAME, version)
    check_raw_values(dict(raw_values or {}), package)
    crds = load_managed_crds(package) if manage_crds else None
    project = project_dir or Path(os.getcwd())
    path = stage_package(package, project)
    crds_path = stage_crds(package, crds, project) if crds is not None else None
    if importing:
        stage_for_import(package, project)
    return ChartSource(package=package, crds=crds, install_path=path, crds_path=crds_path)
