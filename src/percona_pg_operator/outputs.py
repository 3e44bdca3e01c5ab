"""Output keys of the component and of the stack, as constants."""

from __future__ import annotations

# The stack output project-planton exports for this kind.
NAMESPACE = "namespace"
RELEASE_NAME = "release_name"
CHART_VERSION = "chart_version"
# The running operator image's tag once verified (else the chart's appVersion).
OPERATOR_VERSION = "operator_version"
# When the verification after the change passed (UTC, ISO 8601), and the PerconaPGClusters it
# checked ("namespace/name"); absent when spec.verify.enabled is false.
VERIFIED_AT = "verified_at"
DATABASES_CHECKED = "databases_checked"
# Names of the CustomResourceDefinitions the stack manages (empty with plain-Helm CRDs).
CRDS = "crds"
