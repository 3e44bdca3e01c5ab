"""The Pulumi layer, the only one that imports ``pulumi`` and ``pulumi_kubernetes``: the
component, the stack program, the verification resource and the Kubernetes provider.

A program that installs the operator uses the component::

    from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
"""

from .component import PerconaPostgresOperator, PerconaPostgresOperatorArgs

__all__ = ["PerconaPostgresOperator", "PerconaPostgresOperatorArgs"]
