"""The component as a Pulumi component package, for programs in every Pulumi language.

``pulumi package add`` of the ``pulumi-plugin/`` folder runs :func:`serve` through the Python
SDK's component provider host, which reads the provider schema off the annotations below: the
same type token as the Python component (``percona-pg-operator:index:PerconaPostgresOperator``),
the same outputs, and the arguments a program in another language can give (the manifest as an
object, the rest plain; camelCase in the schema, as the host spells them). A YAML, TypeScript
or Go program then gets the very component the Python one uses, with its preflight and
verification.
https://www.pulumi.com/docs/iac/guides/building-extending/components/build-a-component/

No ``from __future__ import annotations`` here: the host reads the annotations as types, and
strings would not do.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from .component import PerconaPostgresOperator as _Component
from .component import PerconaPostgresOperatorArgs as _Args

PACKAGE_NAME = "percona-pg-operator"


class PerconaPostgresOperatorArgs(TypedDict):
    manifest: dict[str, Any]
    """The KubernetesPerconaPostgresOperator manifest, or the whole stack input
    (target and providerConfig), as an object: the same document the stack program reads."""
    preflight: NotRequired[bool]
    """Read the live cluster before anything is registered (default: on, unless
    PERCONA_PG_OPERATOR_PREFLIGHT=off); false opts out, with a warning."""
    running_version: NotRequired[str]
    """Without the live read: the chart version running now, for the upgrade guard."""
    ready_databases: NotRequired[list[str]]
    """Without the live read: the PerconaPGClusters ("namespace/name") that were ready before,
    which the verification requires ready again."""


class PerconaPostgresOperator(_Component):
    """Namespace, managed CRDs and the pg-operator Helm release, from one manifest: the Percona
    Operator for PostgreSQL, with the live preflight before and the verification after."""

    # The outputs again, as in component.py: the host reads their types and their docstrings
    # (the schema's descriptions) from this class's own source, and component.py's annotations
    # are strings. test_package.py checks that the two sets of names match.

    namespace: pulumi.Output[str]
    """The operator's namespace (the Release's)."""
    release_name: pulumi.Output[str]
    """The Helm release's name (metadata.name)."""
    chart_version: pulumi.Output[str]
    """The pg-operator chart version the Release installed."""
    operator_version: pulumi.Output[str]
    """The running operator image's tag once verified; the chart's appVersion otherwise."""
    crds: pulumi.Output[list[str]]
    """The CRDs the stack manages (empty with helm.manageCrds: false)."""
    verified_at: pulumi.Output[str]
    """When the verification after the change passed (UTC, ISO 8601); empty when
    verify.enabled is false."""
    databases_checked: pulumi.Output[list[str]]
    """The PerconaPGClusters the verification found ready ("namespace/name")."""

    def __init__(
        self,
        name: str,
        args: PerconaPostgresOperatorArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            name,
            _Args(
                manifest=args["manifest"],
                preflight=args.get("preflight"),
                running_version=args.get("running_version"),
                ready_databases=tuple(args.get("ready_databases") or ()),
            ),
            opts,
        )


def serve(version: str) -> None:
    """Run the component provider (the plugin's entry point; the engine starts it)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host([PerconaPostgresOperator], name=PACKAGE_NAME, version=version)
