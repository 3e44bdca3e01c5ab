"""The ``percona-pg-operator`` command line: one module per command group, one error ->
exit-code table (``exitcodes.py``), one set of output helpers (``_base.py``).

Each command's module is loaded when that command is asked for (``_base._Group``): the
credential plugin (``python -m percona_pg_operator credentials gke``), which kubeconfigs run on
every token refresh, loads only its own."""

from __future__ import annotations

from collections.abc import Sequence

from ._base import cli

cli.lazy_commands.update(
    {
        "validate": "percona_pg_operator.cli._manifest",
        "render": "percona_pg_operator.cli._manifest",
        "schema": "percona_pg_operator.cli._manifest",
        "preflight": "percona_pg_operator.cli._cluster",
        "status": "percona_pg_operator.cli._cluster",
        "diff": "percona_pg_operator.cli._cluster",
        "upgrade-plan": "percona_pg_operator.cli._cluster",
        "repair": "percona_pg_operator.cli._cluster",
        "fleet": "percona_pg_operator.cli._fleet",
        "credentials": "percona_pg_operator.cli._credentials",
    }
)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="percona-pg-operator")
