"""The typed API: ``KubernetesPerconaPostgresOperatorStackInput`` and everything in it.

It mirrors project-planton's protos for this kind (field numbers aside) and follows protobuf-JSON
rules: camelCase and snake_case keys are both accepted at every level. Unknown keys are errors,
so a typo never passes silently. Everything inside the package trusts these models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .. import defaults
from ..formats import (
    FEATURE_GATE,
    IMAGE_DIGEST,
    IMAGE_REPOSITORY,
    IMAGE_REPOSITORY_MAX,
    IMAGE_TAG,
    MAX_ANNOTATIONS_BYTES,
    SEMVER,
    dns1123_label,
    go_duration_seconds,
    is_dns1123_subdomain,
    is_label_value,
    is_qualified_name,
    parse_quantity,
    repo_url_problem,
)
from ._base import Model
from ._credentials import KubernetesProviderConfig
from ._enums import KUBERNETES_CLUSTER_KIND, proto_enum
from ._kubernetes import Affinity, CpuMemory, Toleration
from ._labels import (
    LABEL_ENVIRONMENT,
    LABEL_ID,
    LABEL_KIND,
    LABEL_NAME,
    LABEL_ORGANIZATION,
    LABEL_RESOURCE,
    POD_SECURITY_LABEL,
    POD_SECURITY_MODES,
)
from ._values import values_problems


class ContainerResources(Model):
    """The operator container's resources; unset fields take the module's defaults one by one."""

    limits: CpuMemory = CpuMemory()
    requests: CpuMemory = CpuMemory()

    @property
    def effective_limits(self) -> dict[str, str]:
        return {
            "cpu": self.limits.cpu or defaults.CPU_LIMIT,
            "memory": self.limits.memory or defaults.MEMORY_LIMIT,
        }

    @property
    def effective_requests(self) -> dict[str, str]:
        return {
            "cpu": self.requests.cpu or defaults.CPU_REQUEST,
            "memory": self.requests.memory or defaults.MEMORY_REQUEST,
        }

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ContainerResources:
        limits, requests = self.effective_limits, self.effective_requests
        bad = [
            key
            for key in ("cpu", "memory")
            if parse_quantity(requests[key]) > parse_quantity(limits[key])
        ]
        if bad:
            detail = ", ".join(f"{k} request {requests[k]} > limit {limits[k]}" for k in bad)
            raise ValueError(f"requests must not exceed limits: {detail}")
        return self


class Container(Model):
    resources: ContainerResources = ContainerResources()


ClusterKind = Literal[
    "AwsEksCluster",
    "AzureAksCluster",
    "GcpGkeCluster",
    "DigitalOceanKubernetesCluster",
    "CivoKubernetesCluster",
]


class TargetCluster(Model):
    """project-planton's KubernetesClusterSelector; informational for this module."""

    cluster_kind: Annotated[
        ClusterKind | None,
        BeforeValidator(
            lambda v: proto_enum(v, KUBERNETES_CLUSTER_KIND, unspecified="unspecified"),
            json_schema_input_type=ClusterKind | Literal[207, 400, 607, 1208, 1507] | None,
        ),
    ] = None
    cluster_name: str | None = None


def _string_value_or_ref(value: Any) -> Any:
    """A StringValueOrRef: a plain string, or ``{value: ...}``; references are not resolved here."""
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"value"}:
            return value["value"]
        if keys & {"valueFrom", "value_from"}:
            raise ValueError(
                "a valueFrom reference cannot be resolved by this module; give the namespace "
                "as a plain string or {value: ...}"
            )
        raise ValueError("must be a string or {value: <string>}")
    return value


class HelmSettings(Model):
    """Where the chart comes from and how the release is managed."""

    repo: str | None = Field(
        default=None,
        description=(
            "Chart repository: https://, http://, file:// or a local directory. Default: env "
            f"{defaults.CHART_REPO_ENV}, else {defaults.CHART_REPO_URL}"
        ),
    )
    version: str = Field(default=defaults.CHART_VERSION, description="pg-operator chart version")
    timeout_seconds: int = Field(default=defaults.HELM_TIMEOUT_SECONDS, gt=0, le=86400)
    manage_crds: bool = Field(
        default=True,
        description=(
            "Apply the chart's CRDs server-side before each upgrade (Helm never upgrades CRDs). "
            "false keeps plain Helm behaviour: CRDs installed once, never upgraded."
        ),
    )
    allow_unsafe_upgrade: bool = Field(
        default=False,
        description="Allow a downgrade or a skipped minor version, which Percona does not support.",
    )
    acknowledge_irreversible: str | None = Field(
        default=None,
        description=(
            'The irreversible step this change may take, e.g. "3.0" for 2.9 -> 3.0 (the upstream '
            "CRDs move to a new API group and every cluster's objects migrate; no way back)"
        ),
    )

    @field_validator("repo")
    @classmethod
    def _repo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        problem = repo_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.fullmatch(value):
            raise ValueError("must be a chart version such as 3.0.0")
        return value.removeprefix("v")


class Tenancy(Model):
    """Which namespaces the operator watches (chart ``watchNamespace`` / ``watchAllNamespaces``).

    - ``own_namespace`` (default): only its own namespace, with a namespaced Role.
    - ``namespaces``: the listed namespaces; the operator's own namespace is added when missing.
      The chart then grants a **ClusterRole** (cluster-wide RBAC), even for a short list.
    - ``all_namespaces``: every namespace, with a ClusterRole.
    """

    mode: Literal["own_namespace", "namespaces", "all_namespaces"] = "own_namespace"
    namespaces: list[str] = Field(
        default=[],
        description=(
            "With mode namespaces: DNS-1123 names, no blanks or duplicates. The operator's own "
            "namespace is added when missing. Yields cluster-wide RBAC (a ClusterRole)."
        ),
    )

    @field_validator("mode", mode="before")
    @classmethod
    def _enum_name(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("namespaces")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        # The operator splits WATCH_NAMESPACE on "," without trimming: every entry must be exact.
        seen: set[str] = set()
        for index, name in enumerate(names):
            if not name or name != name.strip():
                raise ValueError(f"entry {index} is blank or has surrounding spaces: {name!r}")
            try:
                dns1123_label(name, defaults.NAMESPACE_MAX)
            except ValueError as exc:
                raise ValueError(f"entry {index} {name!r}: {exc}") from None
            if name in seen:
                raise ValueError(f"{name!r} is listed twice")
            seen.add(name)
        return names

    @model_validator(mode="after")
    def _list_matches_mode(self) -> Tenancy:
        if self.mode == "namespaces" and not self.namespaces:
            raise ValueError("mode namespaces needs a non-empty namespaces list")
        if self.mode != "namespaces" and self.namespaces:
            raise ValueError(f"namespaces is only used with mode namespaces, not {self.mode}")
        return self


class Image(Model):
    """The operator image: a private registry, a pinned tag or a digest, pull settings."""

    repository: str | None = Field(
        default=None, description="e.g. registry.example.com/percona/percona-postgresql-operator"
    )
    tag: str | None = Field(default=None, description="Default: the chart's appVersion")
    digest: str | None = Field(default=None, description="sha256:<64 hex>; pins the exact image")
    pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    pull_secrets: list[str] = Field(default=[], description="Secret names in the namespace")

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str | None) -> str | None:
        if value is not None and len(value) > IMAGE_REPOSITORY_MAX:
            raise ValueError(f"must be at most {IMAGE_REPOSITORY_MAX} characters, has {len(value)}")
        if value is not None and not IMAGE_REPOSITORY.fullmatch(value):
            raise ValueError("must be an image repository such as registry.example.com/team/op")
        return value

    @field_validator("tag")
    @classmethod
    def _tag(cls, value: str | None) -> str | None:
        if value is not None and not IMAGE_TAG.fullmatch(value):
            raise ValueError("must be an image tag: letters, digits, '_', '.', '-' (≤ 128)")
        return value

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not IMAGE_DIGEST.fullmatch(value):
            raise ValueError("must be sha256: followed by 64 lowercase hex digits")
        return value

    @field_validator("pull_secrets")
    @classmethod
    def _secret_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not is_dns1123_subdomain(name):
                raise ValueError(f"{name!r} is not a valid Secret name")
        if len(set(names)) != len(names):
            raise ValueError("a pull secret is listed twice")
        return names


class Scheduling(Model):
    node_selector: dict[str, str] = {}
    tolerations: list[Toleration] = []
    affinity: Affinity | None = None

    @field_validator("node_selector")
    @classmethod
    def _labels(cls, selector: dict[str, str]) -> dict[str, str]:
        for key, value in selector.items():
            if not is_qualified_name(key):
                raise ValueError(f"{key[:60]!r} is not a label key")
            if not is_label_value(value):
                raise ValueError(f"the value of {key[:60]!r} is not a label value")
        return selector


class LeaderElection(Model):
    """controller-runtime leader election (chart ≥ 2.9.0)."""

    enabled: bool | None = None
    lease_name: str | None = None
    lease_duration: str | None = Field(default=None, description="Go duration; chart default 60s")
    renew_deadline: str | None = Field(default=None, description="Go duration; chart default 40s")
    retry_period: str | None = Field(default=None, description="Go duration; chart default 10s")

    @field_validator("lease_duration", "renew_deadline", "retry_period")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            go_duration_seconds(value)
        return value

    @field_validator("lease_name")
    @classmethod
    def _lease_name(cls, value: str | None) -> str | None:
        if value is not None and not is_dns1123_subdomain(value):
            raise ValueError("must be a valid Lease name (DNS-1123 subdomain)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> LeaderElection:
        # controller-runtime refuses to start unless leaseDuration > renewDeadline > retryPeriod.
        lease = go_duration_seconds(self.lease_duration or "60s")
        renew = go_duration_seconds(self.renew_deadline or "40s")
        retry = go_duration_seconds(self.retry_period or "10s")
        if not lease > renew > retry:
            raise ValueError(
                "needs leaseDuration > renewDeadline > retryPeriod "
                f"(have {lease:g}s, {renew:g}s, {retry:g}s with the chart's defaults)"
            )
        return self


class OperatorSettings(Model):
    """How the operator runs. Unset fields keep the chart's defaults."""

    replicas: int | None = Field(default=None, ge=0, le=10)
    log_level: Literal["DEBUG", "INFO", "WARN", "ERROR"] | None = None
    log_structured: bool | None = None
    disable_telemetry: bool | None = Field(
        default=None,
        description="true opts out of Percona's telemetry (DISABLE_TELEMETRY=true)",
    )
    leader_election: LeaderElection | None = None
    feature_gates: dict[str, bool] | None = Field(
        default=None, description="e.g. {backupSnapshots: true} (chart ≥ 2.9.0)"
    )
    pod_annotations: dict[str, str] = {}

    @field_validator("pod_annotations")
    @classmethod
    def _annotations(cls, annotations: dict[str, str]) -> dict[str, str]:
        size = 0
        for key, value in annotations.items():
            if not is_qualified_name(key):
                raise ValueError(f"{key[:60]!r} is not an annotation key")
            size += len(key) + len(value)
        if size > MAX_ANNOTATIONS_BYTES:
            raise ValueError(f"annotations are larger than {MAX_ANNOTATIONS_BYTES} bytes")
        return annotations

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("feature_gates")
    @classmethod
    def _gate_names(cls, gates: dict[str, bool] | None) -> dict[str, bool] | None:
        for name in gates or {}:
            if not FEATURE_GATE.fullmatch(name):
                raise ValueError(f"{name!r} is not a feature gate name such as backupSnapshots")
        return gates

    @model_validator(mode="after")
    def _single_active_operator(self) -> OperatorSettings:
        election = self.leader_election
        if (self.replicas or 1) > 1 and election is not None and election.enabled is False:
            raise ValueError(
                "more than one replica needs leader election: two active operators would "
                "reconcile the same clusters at once"
            )
        return self


class NamespacePodSecurity(Model):
    """Pod Security Admission labels on the namespace this stack creates.

    The operator pod drops all capabilities and runs as non-root but sets no seccompProfile, so
    it passes ``baseline`` and fails ``restricted``: ``restricted`` is refused here.
    https://kubernetes.io/docs/concepts/security/pod-security-standards/
    """

    enabled: bool = True
    level: Literal["privileged", "baseline"] = Field(
        default=defaults.POD_SECURITY_LEVEL,
        description="enforce/audit/warn level; restricted would reject the operator pod",
    )

    @field_validator("level", mode="before")
    @classmethod
    def _not_restricted(cls, value: Any) -> Any:
        if value == "restricted":
            raise ValueError(
                "restricted would reject the operator pod: the chart sets no seccompProfile on "
                "its container; use baseline"
            )
        return value


class Adoption(Model):
    """Take over what exists but this stack did not create (see README, Adopting)."""

    release: bool = Field(
        default=False,
        description=(
            "Import the Helm release of metadata.name (installed by hand or by another tool) "
            "into the stack, at the version it runs (spec.helm.version must say it)"
        ),
    )
    namespace: bool = Field(
        default=False,
        description="Import the existing namespace (with createNamespace: true)",
    )


class Verification(Model):
    """The check ``pulumi up`` runs after the Release (see README, Upgrading)."""

    enabled: bool = Field(
        default=True,
        description=(
            "false skips it: a foot-gun, only for clusters where the operator cannot become "
            "ready by design"
        ),
    )
    timeout_seconds: int = Field(default=600, gt=0, le=86400)
    poll_seconds: int = Field(default=5, gt=0, le=600)


class Spec(Model):
    target_cluster: TargetCluster | None = None
    namespace: Annotated[
        str,
        BeforeValidator(_string_value_or_ref, json_schema_input_type=str | dict[str, str]),
    ] = defaults.NAMESPACE
    create_namespace: bool = Field(
        default=defaults.CREATE_NAMESPACE,
        description=(
            "Create the namespace (labelled, Pod Security enforced). Absent or false: it must "
            "exist, and the stack never changes or deletes it"
        ),
    )
    delete_namespace_on_destroy: bool = Field(
        default=defaults.DELETE_NAMESPACE_ON_DESTROY,
        description=(
            "With createNamespace: delete the namespace, and every database in it, on destroy. "
            "Default false: destroy removes it from the stack and leaves it in the cluster"
        ),
    )
    container: Container = Container()
    helm: HelmSettings = HelmSettings()
    tenancy: Tenancy = Tenancy()
    image: Image = Image()
    scheduling: Scheduling = Scheduling()
    operator: OperatorSettings = OperatorSettings()
    namespace_pod_security: NamespacePodSecurity = NamespacePodSecurity()
    verify: Verification = Verification()
    adopt: Adoption = Adoption()
    helm_values: dict[str, Any] = Field(
        default={},
        description=(
            "Chart values no typed field covers (JSON only). A key a typed field owns must be "
            "set through it; the rest are checked against the chart version's own values."
        ),
    )

    @field_validator("namespace")
    @classmethod
    def _namespace_label(cls, value: str) -> str:
        return dns1123_label(value, defaults.NAMESPACE_MAX)

    @field_validator("helm_values")
    @classmethod
    def _json_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Chart values travel as JSON: no dates, binary, sets or non-string keys."""
        stack: list[tuple[Any, str]] = [(values, "")]
        while stack:
            node, path = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if not isinstance(key, str):
                        raise ValueError(
                            f"{path or 'a'} key is a {type(key).__name__}, not a string"
                        )
                    stack.append((value, f"{path}.{key}" if path else key))
            elif isinstance(node, list):
                stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node))
            elif node is not None and not isinstance(node, str | int | float | bool):
                raise ValueError(
                    f"{path} is a {type(node).__name__}; chart values are JSON: strings, "
                    "numbers, booleans, lists and mappings (quote a date)"
                )
        return values

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        """Checks across fields, each reported at its own path, all at once."""
        errors: list[InitErrorDetails] = []
        only_created = "only applies to a namespace this stack creates (createNamespace is false)"
        if not self.create_namespace and self.namespace_pod_security != NamespacePodSecurity():
            errors.append(
                _error(
                    ("namespacePodSecurity",),
                    only_created,
                    self.namespace_pod_security.model_dump(by_alias=True),
                )
            )
        if not self.create_namespace and self.delete_namespace_on_destroy:
            errors.append(_error(("deleteNamespaceOnDestroy",), only_created, True))
        if not self.create_namespace and self.adopt.namespace:
            errors.append(_error(("adopt", "namespace"), only_created, True))
        errors += [_error(p.loc, p.message, p.value) for p in values_problems(self)]
        if errors:
            raise ValidationError.from_exception_data("Spec", errors)
        return self


def _error(loc: tuple[str, ...], message: str, value: Any) -> InitErrorDetails:
    """A located validation error, for checks that span fields and name one of them."""
    return InitErrorDetails(
        type=PydanticCustomError("invalid", message),
        loc=loc,
        input=value,
    )


class Metadata(Model):
    """project-planton's CloudResourceMetadata."""

    name: str
    slug: str | None = None
    id: str | None = None
    org: str | None = None
    env: str | None = None
    labels: dict[str, str] = Field(
        default={},
        description=(
            "The manifest's own labels (project-planton's CLI keeps its control labels here); "
            "not copied to any Kubernetes object"
        ),
    )
    annotations: dict[str, str] = {}
    tags: list[str] = []
    relationships: list[dict[str, Any]] = []
    group: str | None = None
    version: dict[str, Any] | None = Field(
        default=None,
        description="Removed from project-planton's CloudResourceMetadata; accepted and ignored",
    )

    @field_validator("name")
    @classmethod
    def _release_name(cls, value: str) -> str:
        try:
            return dns1123_label(value, defaults.RELEASE_NAME_MAX)
        except ValueError as exc:
            raise ValueError(f"must be usable as a Helm release name: {exc}") from None


class KubernetesPerconaPostgresOperator(Model):
    api_version: Literal["kubernetes.project-planton.org/v1"]
    kind: Literal["KubernetesPerconaPostgresOperator"]
    metadata: Metadata
    spec: Spec = Spec()

    @property
    def release_name(self) -> str:
        """The Helm release: ``metadata.name``, so that two instances can share a namespace."""
        return self.metadata.name

    @model_validator(mode="after")
    def _labels_are_valid(self) -> KubernetesPerconaPostgresOperator:
        """A namespace this stack creates carries metadata values as labels: they must fit."""
        if not self.spec.create_namespace:
            return self
        errors = [
            _error(
                ("metadata", field),
                f"becomes the namespace label {key}, so it must be a valid label value: "
                "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter "
                "or digit",
                value,
            )
            for field, key, value in self._identity_labels()
            if not is_label_value(value)
        ]
        if errors:
            raise ValidationError.from_exception_data("KubernetesPerconaPostgresOperator", errors)
        return self

    def _identity_labels(self) -> list[tuple[str, str, str]]:
        """(metadata field, label key, value) of the identity labels that are set."""
        meta = self.metadata
        pairs = [
            ("id", LABEL_ID, meta.id),
            ("org", LABEL_ORGANIZATION, meta.org),
            ("env", LABEL_ENVIRONMENT, meta.env),
        ]
        return [(field, key, value) for field, key, value in pairs if value]

    def labels(self) -> dict[str, str]:
        """project-planton's resource labels, exactly its module's set (never metadata.labels,
        which holds the CLI's own control labels)."""
        meta = self.metadata
        labels = {LABEL_RESOURCE: "true", LABEL_NAME: meta.name, LABEL_KIND: self.kind}
        labels.update({key: value for _, key, value in self._identity_labels()})
        return labels

    def owns_namespace(self, labels: Mapping[str, str]) -> bool:
        """Whether a namespace's labels name exactly this manifest (kind, name, and id when
        set, absent when not): one that this manifest's stack created, and that a destroy
        kept (it holds the databases)."""
        return (
            labels.get(LABEL_RESOURCE) == "true"
            and labels.get(LABEL_KIND) == self.kind
            and labels.get(LABEL_NAME) == self.metadata.name
            and labels.get(LABEL_ID) == (self.metadata.id or None)
        )

    def namespace_labels(self) -> dict[str, str]:
        """The resource labels plus the Pod Security level the namespace enforces and audits."""
        labels = self.labels()
        pod_security = self.spec.namespace_pod_security
        if pod_security.enabled:
            for mode in POD_SECURITY_MODES:
                labels[POD_SECURITY_LABEL.format(mode=mode)] = pod_security.level
                labels[POD_SECURITY_LABEL.format(mode=mode) + "-version"] = "latest"
        return labels


class StackInput(Model):
    """``KubernetesPerconaPostgresOperatorStackInput``."""

    target: KubernetesPerconaPostgresOperator
    provider_config: KubernetesProviderConfig | None = None
