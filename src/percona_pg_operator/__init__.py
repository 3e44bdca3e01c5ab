"""Install and upgrade the Percona Operator for PostgreSQL on Kubernetes with Pulumi.

What a user of the component needs: the component, the manifest models and loaders, the errors.
Names load on first use, so the command line's offline commands and the credential plugins do
not pay for the Pulumi SDK or pydantic when they do not need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:
    from .deploy.component import PerconaPostgresOperator, PerconaPostgresOperatorArgs
    from .errors import (
        ChartRepositoryError,
        CredentialError,
        PerconaPgOperatorError,
        Problem,
        RenderError,
        StackInputError,
        UpgradeGuardError,
    )
    from .manifest import (
        KubernetesPerconaPostgresOperator,
        StackInput,
        load_stack_input,
        parse_yaml,
        read_file,
    )

_EXPORTS = {
    "PerconaPostgresOperator": ".deploy.component",
    "PerconaPostgresOperatorArgs": ".deploy.component",
    "ChartRepositoryError": ".errors",
    "CredentialError": ".errors",
    "PerconaPgOperatorError": ".errors",
    "Problem": ".errors",
    "RenderError": ".errors",
    "StackInputError": ".errors",
    "UpgradeGuardError": ".errors",
    "KubernetesPerconaPostgresOperator": ".manifest",
    "StackInput": ".manifest",
    "load_stack_input": ".manifest",
    "parse_yaml": ".manifest",
    "read_file": ".manifest",
}

__all__ = [
    "ChartRepositoryError",
    "CredentialError",
    "KubernetesPerconaPostgresOperator",
    "PerconaPgOperatorError",
    "PerconaPostgresOperator",
    "PerconaPostgresOperatorArgs",
    "Problem",
    "RenderError",
    "StackInput",
    "StackInputError",
    "UpgradeGuardError",
    "load_stack_input",
    "parse_yaml",
    "read_file",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
