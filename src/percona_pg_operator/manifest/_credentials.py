"""The typed ``provider_config``: credentials of the target cluster, one block per kind.

project-planton's shape (``provider`` plus the matching block, its field names as they are),
extended with what EKS and AKS need and with ``kubeconfig`` and ``in_cluster`` kinds. Every
credential field is ``repr=False`` and validation errors under ``provider_config`` never echo
values (see ``_loader.problems_from_validation``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from .. import _yaml
from ..formats import url_credential_problem
from ._base import Model as _Model
from ._enums import EXTRA_PROVIDER_KINDS, KUBERNETES_PROVIDER, proto_enum


class Model(_Model):
    """Credential blocks: pydantic's own error text never shows their values."""

    model_config = ConfigDict(hide_input_in_errors=True)


ProviderKind = Literal[
    "gcp_gke", "aws_eks", "azure_aks", "digital_ocean_doks", "kubeconfig", "in_cluster"
]
PROVIDER_KINDS: tuple[str, ...] = (*KUBERNETES_PROVIDER.values(), *EXTRA_PROVIDER_KINDS)
# The AKS AAD server application, the same for every AKS cluster.
# https://azure.github.io/kubelogin/concepts/aks.html
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"

_HOST = re.compile(r"^(https://)?[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
_EKS_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def server_url(endpoint: str) -> str:
    """``https://`` + host, as kubeconfigs want it; GKE and EKS APIs give bare hosts or URLs."""
    return endpoint if endpoint.startswith("https://") else f"https://{endpoint}"


def _endpoint(value: str) -> str:
    if not _HOST.fullmatch(value) or "@" in value or "?" in value:
        raise ValueError("must be the API server's host or https:// URL (no user, no query)")
    return value


def _ca_data(value: str) -> str:
    try:
        pem = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be the base64 of the cluster CA certificate (PEM)") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("must be the base64 of a PEM certificate (no BEGIN CERTIFICATE found)")
    return value


def parse_kubeconfig(content: str, context: str | None = None) -> dict[str, Any]:
    """Check a kubeconfig's structure; return the cluster entry of the context it would use."""
    try:
        config = _yaml.load_input(content)
    except _yaml.InputError:
        raise ValueError("is not valid YAML (a kubeconfig)") from None
    if not isinstance(config, dict) or not isinstance(config.get("clusters"), list):
        raise ValueError("is not a kubeconfig (no clusters list)")
    entries = [*config["clusters"], *(config.get("contexts") or [])]
    if not isinstance(config.get("contexts") or [], list) or not all(
        isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
    ):
        raise ValueError("is not a kubeconfig (clusters and contexts must be named entries)")
    contexts = {c.get("name"): c.get("context") or {} for c in config.get("contexts") or []}
    name = context or config.get("current-context")
    if not name:
        raise ValueError("has no current-context; name one with context")
    if name not in contexts:
        raise ValueError(f"has no context named {name!r}")
    clusters = {c.get("name"): c.get("cluster") or {} for c in config["clusters"]}
    context_entry = contexts[name]
    if not isinstance(context_entry, dict):
        raise ValueError(f"context {name!r} is not a mapping")
    cluster = clusters.get(context_entry.get("cluster"))
    if cluster is not None and not isinstance(cluster, dict):
        raise ValueError(f"context {name!r} names a cluster that is not a mapping")
    if not cluster or not cluster.get("server"):
        raise ValueError(f"context {name!r} names no cluster with a server")
    if not isinstance(cluster["server"], str) or url_credential_problem(cluster["server"]):
        raise ValueError(f"context {name!r}: the server URL must not carry a credential")
    return dict(cluster)


class KubeconfigCredential(Model):
    """A kubeconfig, inline or from a file, with an optional context."""

    content: str | None = Field(default=None, repr=False)
    path: str | None = None
    context: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> KubeconfigCredential:
        if (self.content is None) == (self.path is None):
            raise ValueError("set exactly one of content or path")
        if self.content is not None:
            parse_kubeconfig(self.content, self.context)
        return self


class DigitalOceanDoksCredential(Model):
    """project-planton's DOKS block: the cluster's kubeconfig, as DigitalOcean hands it out."""

    kube_config: str = Field(min_length=1, repr=False)

    @field_validator("kube_config")
    @classmethod
    def _kubeconfig(cls, value: str) -> str:
        parse_kubeconfig(value)
        return value


class _ClusterAccess(Model):
    """An API endpoint and the CA that signs its certificate, as cloud APIs return them."""

    cluster_endpoint: str
    cluster_ca_data: str = Field(repr=False)

    @field_validator("cluster_endpoint")
    @classmethod
    def _endpoint_ok(cls, value: str) -> str:
        return _endpoint(value)

    @field_validator("cluster_ca_data")
    @classmethod
    def _ca_ok(cls, value: str) -> str:
        return _ca_data(value)


class GcpGkeCredential(_ClusterAccess):
    """project-planton's GKE block; tokens are minted by ``percona-pg-operator credentials gke``."""

    service_account_key_base64: str = Field(repr=False)

    @field_validator("service_account_key_base64")
    @classmethod
    def _key(cls, value: str) -> str:
        try:
            info = json.loads(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise ValueError("must be the base64 of a service-account key JSON file") from None
        missing = (
            [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
            if isinstance(info, dict)
            else ["client_email"]
        )
        if missing or info.get("type") != "service_account":
            raise ValueError(
                "must be a service-account key (type service_account with client_email, "
                "private_key and token_uri)"
            )
        return value


class AwsEksCredential(_ClusterAccess):
    """An EKS cluster; tokens are presigned STS GetCallerIdentity URLs, minted on each use."""

    cluster_name: str
    region: str
    role_arn: str | None = None
    profile: str | None = Field(default=None, description="AWS profile for the token command")
    token_source: Literal["percona_pg_operator", "aws_cli"] = Field(
        default="percona_pg_operator",
        description="percona_pg_operator (botocore, the eks extra) or aws_cli (aws eks get-token)",
    )

    @field_validator("cluster_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _EKS_NAME.fullmatch(value):
            raise ValueError("must be an EKS cluster name (letters, digits, '-', '_', ≤ 100)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _AWS_REGION.fullmatch(value):
            raise ValueError("must be an AWS region such as eu-west-1")
        return value

    @field_validator("role_arn")
    @classmethod
    def _role(cls, value: str | None) -> str | None:
        if value is not None and not _ROLE_ARN.fullmatch(value):
            raise ValueError("must be an IAM role ARN such as arn:aws:iam::123456789012:role/x")
        return value


AksLoginMode = Literal[
    "azurecli", "devicecode", "interactive", "spn", "ropc", "msi", "workloadidentity", "azd"
]


class AzureAksCredential(Model):
    """An AKS cluster: the kubeconfig `az aks get-credentials` writes, or server + CA + kubelogin.

    With ``kube_config``, that kubeconfig is used as it is. Otherwise the kubeconfig's user runs
    ``kubelogin get-token --login <login_mode>`` (Azure AD). ``spn`` needs tenant_id, client_id
    and client_secret; ``msi`` takes an optional client_id; ``workloadidentity`` reads the
    federated token environment kubelogin documents.
    """

    kube_config: str | None = Field(default=None, repr=False)
    cluster_endpoint: str | None = None
    cluster_ca_data: str | None = Field(default=None, repr=False)
    login_mode: AksLoginMode = "azurecli"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = Field(default=None, repr=False)
    server_id: str = AKS_AAD_SERVER_ID

    @field_validator("cluster_endpoint")
    @classmethod
    def _endpoint_ok(cls, value: str | None) -> str | None:
        return None if value is None else _endpoint(value)

    @field_validator("cluster_ca_data")
    @classmethod
    def _ca_ok(cls, value: str | None) -> str | None:
        return None if value is None else _ca_data(value)

    @field_validator("tenant_id", "client_id", "server_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is not None and not _UUID.fullmatch(value):
            raise ValueError("must be a GUID")
        return value

    @field_validator("kube_config")
    @classmethod
    def _kubeconfig(cls, value: str | None) -> str | None:
        if value is not None:
            parse_kubeconfig(value)
        return value

    @model_validator(mode="after")
    def _complete(self) -> AzureAksCredential:
        if self.kube_config is not None:
            if self.cluster_endpoint or self.cluster_ca_data:
                raise ValueError("set kube_config or cluster_endpoint + cluster_ca_data, not both")
            return self
        missing = [k for k in ("cluster_endpoint", "cluster_ca_data") if getattr(self, k) is None]
        if self.login_mode in ("spn", "ropc"):
            missing += [k for k in ("tenant_id", "client_id") if getattr(self, k) is None]
        if self.login_mode == "spn" and self.client_secret is None:
            missing.append("client_secret")
        if missing:
            raise ValueError(
                f"login_mode {self.login_mode} without kube_config needs: {', '.join(missing)}"
            )
        return self


class InClusterCredential(Model):
    """The pod's own service account (the program runs inside the target cluster)."""


def _provider_kind(value: Any) -> str | None:
    """KubernetesProvider by name (any case) or by number, as the web backend writes it."""
    return proto_enum(
        value,
        KUBERNETES_PROVIDER,
        EXTRA_PROVIDER_KINDS,
        unspecified="kubernetes_provider_unspecified",
        lower=True,
    )


class KubernetesProviderConfig(Model):
    """project-planton's KubernetesProviderConfig: the credentials of the target cluster."""

    provider: Annotated[
        ProviderKind | None,
        BeforeValidator(
            _provider_kind, json_schema_input_type=ProviderKind | Literal[1, 2, 3, 4] | None
        ),
    ] = None
    gcp_gke: GcpGkeCredential | None = None
    aws_eks: AwsEksCredential | None = None
    azure_aks: AzureAksCredential | None = None
    digital_ocean_doks: DigitalOceanDoksCredential | None = None
    kubeconfig: KubeconfigCredential | None = None
    in_cluster: InClusterCredential | None = None

    @model_validator(mode="after")
    def _one_block(self) -> KubernetesProviderConfig:
        blocks = [k for k in PROVIDER_KINDS if getattr(self, k) is not None]
        if self.provider is None:
            if len(blocks) != 1:
                raise ValueError(
                    f"set provider to one of {', '.join(PROVIDER_KINDS)} with its matching block"
                )
            object.__setattr__(self, "provider", blocks[0])
        elif self.provider == "in_cluster" and self.in_cluster is None:
            object.__setattr__(self, "in_cluster", InClusterCredential())
        elif getattr(self, self.provider) is None:
            raise ValueError(f"provider is {self.provider} but its block is missing")
        extra = [b for b in blocks if b != self.provider]
        if extra:
            raise ValueError(f"provider is {self.provider}; remove the {', '.join(extra)} block")
        return self
