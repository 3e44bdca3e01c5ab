"""The Pulumi layer, the only one that imports ``pulumi`` and ``pulumi_kubernetes``: the
component, the stack program, the verification resource and the Kubernetes provider.

A program that installs the operator uses the component::

    from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs

The component is imported on first use (PEP 562): Pulumi's dynamic-provider host imports this
package to find the providers of ``crds.py`` and ``verification.py``, and must not load the
component, the models and pulumi_kubernetes for a diff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .component import PerconaPostgresOperator, PerconaPostgresOperatorArgs

__all__ = ["PerconaPostgresOperator", "PerconaPostgresOperatorArgs"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
