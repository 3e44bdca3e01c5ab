"""The ``pg-operator`` chart: verified packages, their CRDs, the Helm values, version steps.

- :class:`ChartRepository` hands out packages whose sha256 matched the repository index, cached.
- :func:`load_managed_crds` gives a package's CRDs as the stack applies them.
- :func:`build_helm_values` is the one function that turns a spec into chart values.
- :func:`check_transition` refuses a version step Percona does not support.
"""

from ._crds import PATCH_FORCE_ANNOTATION, ManagedCrds, build_managed_crds, load_managed_crds
from ._raw_values import check_raw_values, raw_values_problems
from ._repository import (
    ChartPackage,
    ChartRepository,
    Progress,
    atomic_write,
    cache_root,
    chart_repo_url,
)
from ._source import ChartSource, resolve_chart
from ._values import (
    ValueProblem,
    build_helm_values,
    database_namespaces,
    operator_image,
    values_problems,
    watched_namespaces,
)
from ._versions import (
    check_transition,
    crosses_api_group_move,
    kube_version_satisfies,
    parse_version,
    supported_cr_lines,
    upgrade_path,
    upgrade_steps,
)

__all__ = [
    "PATCH_FORCE_ANNOTATION",
    "ChartPackage",
    "ChartRepository",
    "ChartSource",
    "ManagedCrds",
    "Progress",
    "ValueProblem",
    "atomic_write",
    "build_helm_values",
    "build_managed_crds",
    "cache_root",
    "chart_repo_url",
    "check_raw_values",
    "check_transition",
    "crosses_api_group_move",
    "database_namespaces",
    "kube_version_satisfies",
    "load_managed_crds",
    "operator_image",
    "parse_version",
    "raw_values_problems",
    "resolve_chart",
    "supported_cr_lines",
    "upgrade_path",
    "upgrade_steps",
    "values_problems",
    "watched_namespaces",
]
