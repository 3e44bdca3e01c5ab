"""Output keys of the component and of the stack, as constants."""

from __future__ import annotations

# The stack output project-planton exports for this kind.
NAMESPACE = "namespace"
RELEASE_NAME = "release_name"
CHART_VERSION = "chart_version"
# The chart's appVersion as Helm reports it for the deployed release.
OPERATOR_VERSION = "operator_version"
# Names of the CustomResourceDefinitions the stack manages (empty with plain-Helm CRDs).
CRDS = "crds"
