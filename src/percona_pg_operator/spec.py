"""The typed API: ``KubernetesPerconaPostgresOperatorStackInput`` and everything in it.

It mirrors project-planton's protos for this kind (field numbers aside) and follows protobuf-JSON
rules: camelCase and snake_case keys are both accepted at every level. Unknown keys are errors,
so a typo never passes silently. Everything inside the package trusts these models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import defaults
from .quantity import parse_quantity

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENUM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


class Model(BaseModel):
    """Shared model settings: strict keys, both spellings, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        str_strip_whitespace=False,
    )


def _dns1123_label(value: str, max_len: int) -> str:
    if len(value) > max_len:
        raise ValueError(f"must be at most {max_len} characters, has {len(value)}")
    if not _DNS1123_LABEL.match(value):
        raise ValueError(
            "must be a DNS-1123 label: lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return value


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


Quantity = Annotated[str, BeforeValidator(lambda v: v if not isinstance(v, int) else str(v))]


class CpuMemory(Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None

    @field_validator("cpu", "memory")
    @classmethod
    def _is_quantity(cls, value: str | None) -> str | None:
        return None if value is None else _quantity(value)


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


class TargetCluster(Model):
    """project-planton's KubernetesClusterSelector; informational for this module."""

    cluster_kind: str | None = None
    cluster_name: str | None = None

    @field_validator("cluster_kind", mode="before")
    @classmethod
    def _enum_by_name(cls, value: Any) -> Any:
        if value is None or isinstance(value, int):
            return None if value is None else str(value)
        if isinstance(value, str) and _ENUM_NAME.match(value):
            return value
        raise ValueError("must be a CloudResourceKind enum name, e.g. GcpGkeCluster")


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

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise ValueError("must be a chart version such as 3.0.0")
        return value.removeprefix("v")


class Spec(Model):
    target_cluster: TargetCluster | None = None
    namespace: Annotated[str, BeforeValidator(_string_value_or_ref)] = defaults.NAMESPACE
    create_namespace: bool = defaults.CREATE_NAMESPACE
    container: Container = Container()
    helm: HelmSettings = HelmSettings()

    @field_validator("namespace")
    @classmethod
    def _namespace_label(cls, value: str) -> str:
        return _dns1123_label(value, defaults.NAMESPACE_MAX)


class Metadata(Model):
    """project-planton's CloudResourceMetadata."""

    name: str
    slug: str | None = None
    id: str | None = None
    org: str | None = None
    env: str | None = None
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    tags: list[str] = []
    version: dict[str, Any] | None = None
    relationships: list[dict[str, Any]] = []

    @field_validator("name")
    @classmethod
    def _release_name(cls, value: str) -> str:
        try:
            return _dns1123_label(value, defaults.RELEASE_NAME_MAX)
        except ValueError as exc:
            raise ValueError(f"must be usable as a Helm release name: {exc}") from None


class KubernetesPerconaPostgresOperator(Model):
    api_version: Literal["kubernetes.project-planton.org/v1"]
    kind: Literal["KubernetesPerconaPostgresOperator"]
    metadata: Metadata
    spec: Spec = Spec()


class DigitalOceanDoksCredential(Model):
    kube_config: str = Field(min_length=1, repr=False)


class GcpGkeCredential(Model):
    cluster_endpoint: str
    cluster_ca_data: str
    service_account_key_base64: str = Field(repr=False)


class KubernetesProviderConfig(Model):
    """project-planton's KubernetesProviderConfig: the credentials of the target cluster."""

    provider: Literal["gcp_gke", "aws_eks", "azure_aks", "digital_ocean_doks"] | None = None
    gcp_gke: GcpGkeCredential | None = None
    aws_eks: dict[str, Any] | None = None
    azure_aks: dict[str, Any] | None = None
    digital_ocean_doks: DigitalOceanDoksCredential | None = None

    @field_validator("provider", mode="before")
    @classmethod
    def _enum_name(cls, value: Any) -> Any:
        # Protobuf-JSON enum names; accept the upper-case spelling of the proto too.
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_block(self) -> KubernetesProviderConfig:
        blocks = [
            k
            for k in ("gcp_gke", "aws_eks", "azure_aks", "digital_ocean_doks")
            if getattr(self, k) is not None
        ]
        if self.provider is None:
            if len(blocks) != 1:
                raise ValueError(
                    "set provider to one of gcp_gke, aws_eks, azure_aks, "
                    "digital_ocean_doks with its matching block"
                )
            object.__setattr__(self, "provider", blocks[0])
        elif getattr(self, self.provider) is None:
            raise ValueError(
                f"provider is {self.provider} but the {self.provider} block is missing"
            )
        return self


class StackInput(Model):
    """``KubernetesPerconaPostgresOperatorStackInput``."""

    target: KubernetesPerconaPostgresOperator
    provider_config: KubernetesProviderConfig | None = None
