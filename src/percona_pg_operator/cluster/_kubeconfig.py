"""Kubeconfigs for every kind of cluster credential, and a stable identity for each cluster.

Managed clusters get a kubeconfig whose user is an ``exec`` credential plugin, so that only
short-lived tokens are ever used and none is stored in Pulumi state:
- GKE: ``<python> -m percona_pg_operator credentials gke`` mints an OAuth access token from the
  service-account key (google-auth, the ``gke`` extra);
- EKS: ``<python> -m percona_pg_operator credentials eks`` (botocore, the ``eks`` extra) or
  ``aws eks get-token`` presigns an STS GetCallerIdentity URL;
- AKS: ``kubelogin get-token`` (Azure AD), or the kubeconfig ``az aks get-credentials`` wrote;
- DOKS and plain kubeconfigs are used as given; in a pod, the service account's token file.

The cluster identity (kind + API endpoint) becomes the provider's ``cluster_identifier``, so a
rotated key or token updates the provider instead of replacing it and every resource with it
(pulumi-kubernetes#2745).

The package's own plugin is named by this interpreter's absolute path (``sys.executable -m
percona_pg_operator``): the Kubernetes provider is a separate process that the Pulumi engine
starts with the CLI's environment, where the virtualenv's ``bin`` is usually not on ``PATH``. The
path is the same on every run from one virtualenv, so the kubeconfig stays stable.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _yaml, defaults
from ..errors import CredentialError
from ..manifest import (
    AwsEksCredential,
    AzureAksCredential,
    GcpGkeCredential,
    KubeconfigCredential,
    KubernetesProviderConfig,
    parse_kubeconfig,
    server_url,
)
from ..tokens import EXEC_API_VERSION, GKE_KEY_ENV
from ._exec import not_installed

# kubelogin still speaks v1beta1 (what `kubelogin convert-kubeconfig` writes).
KUBELOGIN_API_VERSION = "client.authentication.k8s.io/v1beta1"
# This package's own credential plugin: this interpreter, running the package's CLI.
PLUGIN_COMMAND = sys.executable
PLUGIN_ARGS = ["-m", "percona_pg_operator", "credentials"]
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

INSTALL_HINTS = {
    PLUGIN_COMMAND: (
        f"the Python interpreter {PLUGIN_COMMAND} is gone; reinstall percona-pg-operator with "
        "the gke or eks extra and run the program again"
    ),
    "aws": "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    "kubelogin": "install kubelogin: https://azure.github.io/kubelogin/install.html",
}


@dataclass(frozen=True)
class ClusterCredentials:
    """What the Kubernetes provider needs. ``kubeconfig`` holds credentials: keep it secret."""

    kubeconfig: str | None = field(default=None, repr=False)
    context: str | None = None
    cluster_identifier: str | None = None
    exec_command: str | None = None


def _config(server: str, user: dict[str, Any], cluster: dict[str, Any], name: str) -> str:
    return _yaml.dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": server, **cluster}}],
            "users": [{"name": name, "user": user}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        }
    )


def _exec(
    command: str,
    args: list[str],
    env: dict[str, str] | None = None,
    api_version: str = EXEC_API_VERSION,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "apiVersion": api_version,
        "command": command,
        "args": args,
        "interactiveMode": "Never",
        "provideClusterInfo": False,
        "installHint": INSTALL_HINTS.get(command, f"install {command}"),
    }
    if env:
        entry["env"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"exec": entry}


def gke_kubeconfig(cred: GcpGkeCredential) -> ClusterCredentials:
    server = server_url(cred.cluster_endpoint)
    user = _exec(
        PLUGIN_COMMAND, [*PLUGIN_ARGS, "gke"], {GKE_KEY_ENV: cred.service_account_key_base64}
    )
    return ClusterCredentials(
        kubeconfig=_config(
            server, user, {"certificate-authority-data": cred.cluster_ca_data}, "gke"
        ),
        cluster_identifier=f"gke:{server}",
        exec_command=PLUGIN_COMMAND,
    )


def eks_kubeconfig(cred: AwsEksCredential) -> ClusterCredentials:
    server = server_url(cred.cluster_endpoint)
    extra = ["--role-arn", cred.role_arn] if cred.role_arn else []
    env = {"AWS_PROFILE": cred.profile} if cred.profile else None
    if cred.token_source == "aws_cli":
        command = "aws"
        args = [
            "eks",
            "get-token",
            "--cluster-name",
            cred.cluster_name,
            "--region",
            cred.region,
            *extra,
            "--output",
            "json",
        ]
    else:
        command = PLUGIN_COMMAND
        args = [
            *PLUGIN_ARGS,
            "eks",
            "--cluster-name",
            cred.cluster_name,
            "--region",
            cred.region,
            *extra,
        ]
    return ClusterCredentials(
        kubeconfig=_config(
            server,
            _exec(command, args, env),
            {"certificate-authority-data": cred.cluster_ca_data},
            "eks",
        ),
        cluster_identifier=f"eks:{server}",
        exec_command=command,
    )


def aks_kubeconfig(cred: AzureAksCredential) -> ClusterCredentials:
    if cred.kube_config is not None:
        server = parse_kubeconfig(cred.kube_config)["server"]
        return ClusterCredentials(kubeconfig=cred.kube_config, cluster_identifier=f"aks:{server}")
    if cred.cluster_endpoint is None or cred.cluster_ca_data is None:  # the model forbids it
        raise CredentialError("provider_config.azure_aks needs cluster_endpoint + cluster_ca_data")
    server = server_url(cred.cluster_endpoint)
    args = ["get-token", "--login", cred.login_mode, "--server-id", cred.server_id]
    if cred.tenant_id:
        args += ["--tenant-id", cred.tenant_id]
    if cred.client_id:
        args += ["--client-id", cred.client_id]
    # kubelogin reads the service principal's secret from this variable, not from its arguments.
    env = (
        {"AAD_SERVICE_PRINCIPAL_CLIENT_SECRET": cred.client_secret} if cred.client_secret else None
    )
    user = _exec("kubelogin", args, env, api_version=KUBELOGIN_API_VERSION)
    return ClusterCredentials(
        kubeconfig=_config(
            server, user, {"certificate-authority-data": cred.cluster_ca_data}, "aks"
        ),
        cluster_identifier=f"aks:{server}",
        exec_command="kubelogin",
    )


def in_cluster_kubeconfig(
    environ: Mapping[str, str], sa_dir: Path = SERVICE_ACCOUNT_DIR
) -> ClusterCredentials:
    """The pod's service account, by file reference: the rotating token never enters state."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST"), environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not (sa_dir / "token").is_file():
        raise CredentialError(
            "provider_config.in_cluster: not running in a pod (no KUBERNETES_SERVICE_HOST or "
            f"no service-account token under {sa_dir})"
        )
    host = f"[{host}]" if ":" in host else host
    server = f"https://{host}:{port or 443}"
    return ClusterCredentials(
        kubeconfig=_config(
            server,
            {"tokenFile": str(sa_dir / "token")},
            {"certificate-authority": str(sa_dir / "ca.crt")},
            "in-cluster",
        ),
        cluster_identifier="in-cluster:kubernetes.default.svc",
    )


def kubeconfig_paths(environ: Mapping[str, str]) -> list[Path]:
    """The ambient kubeconfig files, as kubectl finds them: ``KUBECONFIG`` (a list, ``~``
    expanded), else ``~/.kube/config``. The one reading of KUBECONFIG."""
    paths = environ.get("KUBECONFIG", "")
    home = Path(environ.get("HOME") or str(Path.home()))
    if paths:
        return [
            home / p[2:] if p.startswith("~/") else Path(p).expanduser()
            for p in paths.split(os.pathsep)
            if p
        ]
    return [home / ".kube" / "config"]


def _ambient_kubeconfig_exists(environ: Mapping[str, str]) -> bool:
    return any(path.is_file() for path in kubeconfig_paths(environ))


def cluster_credentials(
    config: KubernetesProviderConfig | None,
    environ: Mapping[str, str] | None = None,
    sa_dir: Path = SERVICE_ACCOUNT_DIR,
) -> ClusterCredentials:
    """The kubeconfig and identity for the provider config (``None``: the ambient kubeconfig)."""
    env = os.environ if environ is None else environ
    if config is None:
        if not _ambient_kubeconfig_exists(env) and env.get("KUBERNETES_SERVICE_HOST"):
            return in_cluster_kubeconfig(env, sa_dir)
        return ClusterCredentials(context=env.get(defaults.KUBE_CONTEXT_ENV) or None)
    kind = config.provider
    if kind == "gcp_gke" and config.gcp_gke is not None:
        return gke_kubeconfig(config.gcp_gke)
    if kind == "aws_eks" and config.aws_eks is not None:
        return eks_kubeconfig(config.aws_eks)
    if kind == "azure_aks" and config.azure_aks is not None:
        return aks_kubeconfig(config.azure_aks)
    if kind == "digital_ocean_doks" and config.digital_ocean_doks is not None:
        content = config.digital_ocean_doks.kube_config
        server = parse_kubeconfig(content)["server"]
        return ClusterCredentials(kubeconfig=content, cluster_identifier=f"doks:{server}")
    if kind == "kubeconfig" and config.kubeconfig is not None:
        return _kubeconfig_block(config.kubeconfig)
    if kind == "in_cluster":
        return in_cluster_kubeconfig(env, sa_dir)
    raise CredentialError(f"provider_config.provider {kind} has no credentials block")


def _kubeconfig_block(block: KubeconfigCredential) -> ClusterCredentials:
    content = block.content
    if block.path is not None:
        try:
            content = _yaml.read_input(block.path)
        except _yaml.InputError as exc:
            raise CredentialError(f"provider_config.kubeconfig.path {block.path}: {exc}") from None
        try:
            parse_kubeconfig(content, block.context)
        except ValueError as exc:
            raise CredentialError(f"provider_config.kubeconfig.path {block.path}: {exc}") from None
    if content is None:  # the model requires content or path
        raise CredentialError("provider_config.kubeconfig needs content or path")
    server = parse_kubeconfig(content, block.context)["server"]
    return ClusterCredentials(
        kubeconfig=content, context=block.context, cluster_identifier=f"kubeconfig:{server}"
    )


def require_exec_command(credentials: ClusterCredentials, path: str | None = None) -> None:
    """Fail now, naming the command and how to install it, rather than at the first API call."""
    command = credentials.exec_command
    if command and shutil.which(command, path=path) is None:
        raise CredentialError(not_installed(command, INSTALL_HINTS.get(command, "install it")))
