"""The Kubernetes provider, built from the stack input's cluster credentials (see _kubeconfig.py).

Any kubeconfig is a Pulumi secret; ``cluster_identifier`` keeps the provider (and every resource)
from being replaced when only a credential changes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from ..cluster._kubeconfig import ClusterCredentials, require_exec_command


def credentials_provider_args(
    credentials: ClusterCredentials, environ: Mapping[str, str] | None = None
) -> k8s.ProviderArgs:
    """The provider's arguments for credentials already made; an exec command must exist."""
    env = os.environ if environ is None else environ
    require_exec_command(credentials, path=env.get("PATH"))
    return k8s.ProviderArgs(
        kubeconfig=(
            pulumi.Output.secret(credentials.kubeconfig) if credentials.kubeconfig else None
        ),
        context=credentials.context,
        cluster_identifier=credentials.cluster_identifier,
        # Server-side apply lets the CRDs and objects an earlier `helm install` created be
        # adopted instead of failing with "already exists".
        enable_server_side_apply=True,
    )


def build_provider(
    name: str, args: k8s.ProviderArgs, opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    """The provider, its kubeconfig output kept secret too."""
    secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
    return k8s.Provider(name, args=args, opts=pulumi.ResourceOptions.merge(opts, secret_outputs))
