"""The ``percona-pg-operator`` command line. The one place that turns errors into exit codes.

Each command imports what it needs when it runs: ``credentials gke|eks`` is the kubeconfigs'
exec plugin, started on every token refresh, and must not load pydantic or the models.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from .cluster import GKE_KEY_ENV
from .errors import CredentialError, PerconaPgOperatorError, StackInputError


def _summary(path: str) -> str:
    from .manifest import read_file

    stack_input = read_file(path)
    target = stack_input.target
    spec = target.spec
    res = spec.container.resources
    provider = stack_input.provider_config.provider if stack_input.provider_config else "ambient"
    return (
        f"{path}: ok: {target.metadata.name} -> namespace {spec.namespace}"
        f"{'' if spec.create_namespace else ' (existing)'}, chart pg-operator "
        f"{spec.helm.version}, limits {res.effective_limits['cpu']}/"
        f"{res.effective_limits['memory']}, requests {res.effective_requests['cpu']}/"
        f"{res.effective_requests['memory']}, credentials {provider}"
    )


class _Cli(click.Group):
    """Turns the package's errors into a message and exit code 1: no traceback for bad input."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PerconaPgOperatorError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="percona-pg-operator")
def cli() -> None:
    """Install and upgrade the Percona Operator for PostgreSQL with Pulumi."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: Sequence[str]) -> None:
    """Validate manifests or whole stack inputs; list every problem."""
    failed = 0
    for path in files:
        try:
            click.echo(_summary(path))
        except StackInputError as exc:
            failed += 1
            click.echo(str(exc), err=True)
    if failed:
        raise SystemExit(1)


class _Progress:
    """A one-line download indicator on a terminal's stderr."""

    def __init__(self) -> None:
        self.active = False

    def __call__(self, url: str, done: int, total: int | None) -> None:
        name = url.rsplit("/", 1)[-1]
        amount = f"{done * 100 // total}%" if total else f"{done // 1024} KiB"
        click.echo(f"\rdownloading {name} {amount}", err=True, nl=False)
        self.active = True

    def finish(self) -> None:
        if self.active:
            click.echo("", err=True)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--chart-repo", help="Chart repository (URL or directory); overrides spec and env.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per object here instead of a YAML stream on stdout.",
)
def render(file: str, chart_repo: str | None, output_dir: Path | None) -> None:
    """Render everything the stack would apply, as Kubernetes YAML, without a cluster."""
    from .manifest import read_file
    from .render import render_stack, to_yaml, write_objects

    stack_input = read_file(file)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        objects = render_stack(stack_input, chart_repo=chart_repo, progress=progress)
    finally:
        if progress is not None:
            progress.finish()
    if output_dir is None:
        click.echo(to_yaml(objects), nl=False)
    else:
        written = write_objects(objects, output_dir)
        click.echo(f"wrote {len(written)} objects to {output_dir}", err=True)


@cli.command()
@click.option("--stack-input", is_flag=True, help="The whole stack input, not just the manifest.")
def schema(stack_input: bool) -> None:
    """Print the JSON Schema of the manifest (for editor completion and CI checks)."""
    from .manifest import json_schema

    click.echo(json.dumps(json_schema(stack_input=stack_input), indent=2))


@cli.group()
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
    from .cluster import gke_exec_credential

    if key_file is not None:
        key = base64.b64encode(Path(key_file).read_bytes()).decode()
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
    from .cluster import eks_exec_credential

    click.echo(json.dumps(eks_exec_credential(cluster_name, region, role_arn)))


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="percona-pg-operator")
