"""The ``percona-pg-operator`` command line. The one place that turns errors into exit codes."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from .errors import PerconaPgOperatorError, StackInputError
from .stack_input import read_file


def _summary(path: str) -> str:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: errors become a message and exit code 1, never a traceback."""
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except PerconaPgOperatorError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
