"""The kubeconfigs' credential plugins: ``credentials gke|eks`` (kubectl's exec format).

They run on every token refresh: nothing here loads pydantic, the models or the Pulumi SDK.
"""

from __future__ import annotations

import base64
import json
import os

import click

from ..errors import (
    CredentialError,
)
from ..tokens import GKE_KEY_ENV
from ._base import _PluginGroup, cli


@cli.group(cls=_PluginGroup)
def credentials() -> None:
    """Credential plugins for the kubeconfigs this package writes (kubectl exec format)."""


@credentials.command("gke")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True),
    help=f"Service-account key JSON; default: the base64 key in env {GKE_KEY_ENV}.",
)
def credentials_gke(key_file: str | None) -> None:
    """Print an ExecCredential with a GKE access token minted from a service-account key."""
    from ..tokens import gke_exec_credential

    if key_file is not None:
        from .._yaml import InputError, read_input

        try:  # a regular file of bounded size: never a FIFO, a device or /dev/zero
            text = read_input(key_file)
        except InputError as exc:
            raise CredentialError(f"--key-file {key_file} {exc}") from None
        key = base64.b64encode(text.encode()).decode()
    else:
        key = os.environ.get(GKE_KEY_ENV, "")
        if not key:
            raise CredentialError(f"no service-account key: set {GKE_KEY_ENV} or --key-file")
    click.echo(json.dumps(gke_exec_credential(key)))


@credentials.command("eks")
@click.option("--cluster-name", required=True)
@click.option("--region", required=True)
@click.option("--role-arn", default=None, help="Assume this role first.")
def credentials_eks(cluster_name: str, region: str, role_arn: str | None) -> None:
    """Print an ExecCredential with an EKS token for the caller's AWS identity."""
    from ..tokens import eks_exec_credential

    click.echo(json.dumps(eks_exec_credential(cluster_name, region, role_arn)))
