"""Install and upgrade the Percona Operator for PostgreSQL on Kubernetes with Pulumi.

The package's front doors, one per layer:

- :mod:`percona_pg_operator.deploy`: the Pulumi component ``PerconaPostgresOperator`` and its
  ``PerconaPostgresOperatorArgs`` (the only layer that imports Pulumi);
- :mod:`percona_pg_operator.manifest`: the stack input's models and loaders (``read_file``,
  ``load_stack_input``, ``parse_yaml``);
- here: the errors, which every layer raises.

The root imports nothing else: ``python -m percona_pg_operator credentials gke``, which stored
kubeconfigs run on every token refresh, imports it first and must start fast.
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

from .errors import (
    ChartRepositoryError,
    CredentialError,
    PerconaPgOperatorError,
    Problem,
    RenderError,
    StackInputError,
    UpgradeGuardError,
)

__all__ = [
    "ChartRepositoryError",
    "CredentialError",
    "PerconaPgOperatorError",
    "Problem",
    "RenderError",
    "StackInputError",
    "UpgradeGuardError",
]

# 0.1.0 exported these from the root; they moved to their layers. The old import keeps working,
# with a DeprecationWarning that names the new one, until 0.3.0.
_MOVED = {
    "PerconaPostgresOperator": "percona_pg_operator.deploy",
    "PerconaPostgresOperatorArgs": "percona_pg_operator.deploy",
    "KubernetesPerconaPostgresOperator": "percona_pg_operator.manifest",
    "StackInput": "percona_pg_operator.manifest",
    "load_stack_input": "percona_pg_operator.manifest",
    "parse_yaml": "percona_pg_operator.manifest",
    "read_file": "percona_pg_operator.manifest",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"percona_pg_operator.{name} moved: use `from {module} import {name}`",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(module), name)
