"""The Namespace and the Helm Release, registered by their type tokens.

pulumi_kubernetes' generated classes for them load their whole API group first: ``core/v1``
holds the classes and input types of every core resource (0.15-0.25 s of imports), ``helm/v3``
the chart helpers (and ``requests``); the stack program pays that on every preview, one sixth of
a no-change run (benchmarks/real_engine.py). These register the same resources with
``pulumi.CustomResource``: the provider's schema type tokens and input properties, as every
Pulumi SDK sends them, so the engine and the provider see the very same registration
(``tests/test_component.py`` compares them with the generated classes' under mocks, and fails if
a pulumi-kubernetes release sends something else).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


class Namespace(pulumi.CustomResource):
    """``kubernetes:core/v1:Namespace`` with its ``metadata``."""

    metadata: pulumi.Output[Any]

    def __init__(
        self, name: str, metadata: Mapping[str, Any], opts: pulumi.ResourceOptions
    ) -> None:
        props = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": dict(metadata),
            "spec": None,
            "status": None,
        }
        super().__init__(NAMESPACE_TYPE, name, props, opts)


class Release(pulumi.CustomResource):
    """``kubernetes:helm.sh/v3:Release`` from its schema inputs (camelCase)."""

    name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    version: pulumi.Output[str]
    # The release's status: appVersion, chart, name, namespace, revision, status, version.
    status: pulumi.Output[Mapping[str, Any]]

    def __init__(self, name: str, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions) -> None:
        # "compat" is a constant of the Release's schema that every SDK sends.
        props = {**inputs, "compat": "true", "status": None}
        super().__init__(RELEASE_TYPE, name, props, opts)
