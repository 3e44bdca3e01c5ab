"""Install and upgrade the Percona Operator for PostgreSQL on Kubernetes with Pulumi.

The Pulumi component is imported on first use, so the CLI's offline commands do not pay for
loading the Pulumi SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    ChartRepositoryError,
    CredentialError,
    PerconaPgOperatorError,
    RenderError,
    StackInputError,
    UpgradeGuardError,
)
from .spec import KubernetesPerconaPostgresOperator, StackInput
from .stack_input import load_stack_input, parse_yaml, read_file

if TYPE_CHECKING:
    from .component import TYPE_TOKEN, PerconaPostgresOperator

__all__ = [
    "TYPE_TOKEN",
    "ChartRepositoryError",
    "CredentialError",
    "KubernetesPerconaPostgresOperator",
    "PerconaPgOperatorError",
    "PerconaPostgresOperator",
    "RenderError",
    "StackInput",
    "StackInputError",
    "UpgradeGuardError",
    "load_stack_input",
    "parse_yaml",
    "read_file",
]


def __getattr__(name: str) -> Any:
    if name in ("PerconaPostgresOperator", "TYPE_TOKEN"):
        from . import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
