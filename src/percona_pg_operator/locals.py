"""Everything the component derives from the stack input, computed once.

The analogue of project-planton's ``locals.go``: labels, namespace, release name, Helm values,
and the names of the Pulumi resources, so that no other module invents a name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import defaults
from .spec import KubernetesPerconaPostgresOperator
from .values import build_helm_values

LABEL_RESOURCE = "planton.ai/resource"
LABEL_NAME = "planton.ai/name"
LABEL_KIND = "planton.ai/kind"
LABEL_ID = "planton.ai/id"
LABEL_ORGANIZATION = "planton.ai/organization"
LABEL_ENVIRONMENT = "planton.ai/environment"
# Pod Security Admission namespace labels.
# https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces
POD_SECURITY_MODES = ("enforce", "audit", "warn")
POD_SECURITY_LABEL = "pod-security.kubernetes.io/{mode}"


@dataclass(frozen=True)
class Locals:
    name: str
    namespace: str
    create_namespace: bool
    release_name: str
    labels: dict[str, str]
    namespace_labels: dict[str, str]
    helm_values: dict[str, Any]
    chart_repo: str
    chart_version: str
    timeout_seconds: int
    manage_crds: bool
    allow_unsafe_upgrade: bool

    @property
    def namespace_resource_name(self) -> str:
        return f"{self.name}-namespace"

    @property
    def release_resource_name(self) -> str:
        return f"{self.name}-release"

    @property
    def provider_resource_name(self) -> str:
        return f"{self.name}-provider"

    @property
    def crd_group_resource_name(self) -> str:
        return f"{self.name}-crds"


def build_labels(target: KubernetesPerconaPostgresOperator) -> dict[str, str]:
    """project-planton's resource labels; its identity labels win over same-named user labels."""
    meta = target.metadata
    labels = dict(meta.labels)
    labels.update(
        {
            LABEL_RESOURCE: "true",
            LABEL_NAME: meta.name,
            LABEL_KIND: target.kind,
        }
    )
    for key, value in (
        (LABEL_ID, meta.id),
        (LABEL_ORGANIZATION, meta.org),
        (LABEL_ENVIRONMENT, meta.env),
    ):
        if value:
            labels[key] = value
    return labels


def build_namespace_labels(target: KubernetesPerconaPostgresOperator) -> dict[str, str]:
    """The resource labels plus the Pod Security level the namespace enforces, audits and warns."""
    labels = build_labels(target)
    pod_security = target.spec.namespace_pod_security
    if pod_security.enabled:
        for mode in POD_SECURITY_MODES:
            labels[POD_SECURITY_LABEL.format(mode=mode)] = pod_security.level
            labels[POD_SECURITY_LABEL.format(mode=mode) + "-version"] = "latest"
    return labels


def chart_repo_url(spec_repo: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The spec's repo, else the mirror from the environment, else Percona's repository."""
    env = os.environ if environ is None else environ
    return spec_repo or env.get(defaults.CHART_REPO_ENV) or defaults.CHART_REPO_URL


def build_locals(
    target: KubernetesPerconaPostgresOperator, environ: Mapping[str, str] | None = None
) -> Locals:
    spec = target.spec
    return Locals(
        name=target.metadata.name,
        namespace=spec.namespace,
        create_namespace=spec.create_namespace,
        # metadata.name, so that two instances can share one namespace.
        release_name=target.metadata.name,
        labels=build_labels(target),
        namespace_labels=build_namespace_labels(target),
        helm_values=build_helm_values(spec),
        chart_repo=chart_repo_url(spec.helm.repo, environ),
        chart_version=spec.helm.version,
        timeout_seconds=spec.helm.timeout_seconds,
        manage_crds=spec.helm.manage_crds,
        allow_unsafe_upgrade=spec.helm.allow_unsafe_upgrade,
    )
