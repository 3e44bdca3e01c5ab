"""The one function that turns a spec into the chart's Helm values.

The Release and the offline renderer both call it, so what is rendered is what is applied.
Chart values: https://github.com/percona/percona-helm-charts/blob/main/charts/pg-operator/values.yaml
"""

from __future__ import annotations

from typing import Any

from .spec import Spec


def build_helm_values(spec: Spec) -> dict[str, Any]:
    resources = spec.container.resources
    return {
        "resources": {
            "limits": resources.effective_limits,
            "requests": resources.effective_requests,
        },
    }
