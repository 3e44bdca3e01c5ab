"""Install and upgrade the Percona Operator for PostgreSQL on Kubernetes with Pulumi."""

from .component import TYPE_TOKEN, PerconaPostgresOperator
from .errors import (
    ChartRepositoryError,
    PerconaPgOperatorError,
    StackInputError,
    UnsupportedProviderError,
    UpgradeGuardError,
)
from .spec import KubernetesPerconaPostgresOperator, StackInput
from .stack_input import load_stack_input, parse_yaml, read_file

__all__ = [
    "TYPE_TOKEN",
    "ChartRepositoryError",
    "KubernetesPerconaPostgresOperator",
    "PerconaPgOperatorError",
    "PerconaPostgresOperator",
    "StackInput",
    "StackInputError",
    "UnsupportedProviderError",
    "UpgradeGuardError",
    "load_stack_input",
    "parse_yaml",
    "read_file",
]
