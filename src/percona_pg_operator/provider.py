"""The Kubernetes provider, built from the stack input's credentials.

With no provider config, the ambient kubeconfig is used, with env ``KUBE_CTX`` as the context
(project-planton's behaviour). A kubeconfig from the provider config is a Pulumi secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .errors import UnsupportedProviderError
from .spec import KubernetesProviderConfig


def provider_args(
    config: KubernetesProviderConfig | None, environ: Mapping[str, str] | None = None
) -> k8s.ProviderArgs:
    env = os.environ if environ is None else environ
    if config is None:
        return k8s.ProviderArgs(
            context=env.get(defaults.KUBE_CONTEXT_ENV) or None,
            # Server-side apply lets the CRDs and objects an earlier `helm install` created be
            # adopted instead of failing with "already exists".
            enable_server_side_apply=True,
        )
    if config.provider == "digital_ocean_doks" and config.digital_ocean_doks is not None:
        return k8s.ProviderArgs(
            kubeconfig=pulumi.Output.secret(config.digital_ocean_doks.kube_config),
            enable_server_side_apply=True,
        )
    raise UnsupportedProviderError(
        f"provider_config.provider {config.provider} is not supported yet; "
        "use digital_ocean_doks with a kube_config, or omit provider_config to use the "
        "ambient kubeconfig"
    )


def build_provider(
    name: str,
    config: KubernetesProviderConfig | None,
    opts: pulumi.ResourceOptions | None = None,
    environ: Mapping[str, str] | None = None,
) -> k8s.Provider:
    return k8s.Provider(name, args=provider_args(config, environ), opts=opts)
