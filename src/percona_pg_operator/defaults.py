"""Every default of the module in one place, each with the reason it has that value."""

from __future__ import annotations

from typing import Literal

# The official chart and its repository:
# https://github.com/percona/percona-helm-charts/tree/main/charts/pg-operator
CHART_NAME = "pg-operator"
CHART_REPO_URL = "https://percona.github.io/percona-helm-charts/"
# Replaces CHART_REPO_URL for mirrors and air-gapped sites; a repo set in the spec wins over it.
CHART_REPO_ENV = "PERCONA_PG_OPERATOR_CHART_REPO"
# Pinned so that an install is reproducible; bump deliberately (see the upgrade guard).
CHART_VERSION = "3.0.0"

# project-planton's default operator namespace (its Go module's vars.go).
NAMESPACE = "percona-postgres-operator"
# proto3 `bool create_namespace` with no default: absent is false, and project-planton's CLI drops
# `false` when it writes the manifest, so absent must mean "the namespace exists, do not create
# (or ever delete) it", as in project-planton's module.
CREATE_NAMESPACE = False
# A namespace this stack creates is kept on destroy: in the default tenancy it holds the databases,
# and deleting a namespace deletes everything in it.
DELETE_NAMESPACE_ON_DESTROY = False

# Operator container resources. The chart's own request is 20Mi of memory, which the operator
# outgrows at once on a cluster with a few databases; these match project-planton's defaults.
CPU_LIMIT = "1000m"
MEMORY_LIMIT = "1Gi"
CPU_REQUEST = "100m"
MEMORY_REQUEST = "256Mi"

# Long enough for an image pull on a cold node plus the CRD-heavy first install (project-planton's
# module uses 300).
HELM_TIMEOUT_SECONDS = 600

# The chart project-planton's Go module pins (vars.go `HelmChartVersion`, unchanged since the
# module was added): a stack that module deployed runs this chart, though it records no version.
# https://github.com/plantonhq/project-planton/blob/main/apis/org/project_planton/provider/kubernetes/kubernetesperconapostgresoperator/v1/iac/pulumi/module/vars.go
UPSTREAM_CHART_VERSION = "2.7.0"

# Helm release names end up in object names and the `app.kubernetes.io/instance` label (≤ 63
# chars); Helm itself limits them to 53 so that suffixes fit.
# https://helm.sh/docs/chart_template_guide/getting_started/#a-first-template
RELEASE_NAME_MAX = 53
# Namespaces are DNS-1123 labels.
# https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names
NAMESPACE_MAX = 63

# Where project-planton's modules read their input.
STACK_INPUT_CONFIG_KEY = "planton-cloud:stack-input"
STACK_INPUT_YAML_ENV = "STACK_INPUT_YAML"
STACK_INPUT_YAML_FILE_ENV = "STACK_INPUT_YAML_FILE"
# project-planton's kubeconfig context override when no provider config is given.
KUBE_CONTEXT_ENV = "KUBE_CTX"

# Pod Security level of the namespace this stack creates: the operator pod passes baseline but
# not restricted (no seccompProfile on its container in any chart up to 3.0.0).
# https://kubernetes.io/docs/concepts/security/pod-security-admission/
POD_SECURITY_LEVEL: Literal["privileged", "baseline"] = "baseline"

# The chart's own operator image repository (values.yaml `operatorImageRepository`); an image tag
# or digest given without a repository is applied to it.
# https://github.com/percona/percona-helm-charts/blob/main/charts/pg-operator/values.yaml
IMAGE_REPOSITORY = "docker.io/percona/percona-postgresql-operator"

# Where to get the Pulumi CLI, named in every error about it missing.
PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/install/"
