"""The ``pg-operator`` chart packages: digest-checked, cached, their CRDs, raw values against
them; the supported versions ship with this package.

- :class:`ChartRepository` hands out packages whose sha256 matched the repository index (or,
  bundled, the pin in ``_bundled.py``), cached.
- :func:`load_managed_crds` gives a package's CRDs as the stack applies them.
- :func:`resolve_chart` stages the digest-checked package for the Release.

The values a spec turns into live in ``manifest`` (``build_helm_values``); the version facts in
``versions``.
"""

from ._bundled import BUNDLED
from ._crds import PATCH_FORCE_ANNOTATION, ManagedCrds, build_managed_crds, load_managed_crds
from ._engine import INSTALL_HINT, helm_engine
from ._package import ChartPackage
from ._raw_values import check_raw_values, raw_values_problems
from ._repository import ChartRepository, Progress, cache_root, chart_repo_url, download_progress
from ._source import ChartSource, resolve_chart, stack_repository, target_package

__all__ = [
    "BUNDLED",
    "INSTALL_HINT",
    "PATCH_FORCE_ANNOTATION",
    "ChartPackage",
    "ChartRepository",
    "ChartSource",
    "ManagedCrds",
    "Progress",
    "build_managed_crds",
    "cache_root",
    "chart_repo_url",
    "check_raw_values",
    "download_progress",
    "helm_engine",
    "load_managed_crds",
    "raw_values_problems",
    "resolve_chart",
    "stack_repository",
    "target_package",
]
