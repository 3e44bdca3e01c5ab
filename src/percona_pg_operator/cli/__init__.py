"""The ``percona-pg-operator`` command line: one module per command group, one error ->
exit-code table (``exitcodes.py``), one set of output helpers (``_base.py``)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from . import _cluster, _credentials, _fleet, _manifest, environment  # noqa: F401  (they register commands)
from ._base import cli
from .exitcodes import COMMANDS, help_text


def _attach_exit_codes(group: click.Group, prefix: str = "") -> None:
    """Each command's --help ends with the environment switches it reads
    (environment.AFFECTS) and its exit codes (exitcodes.COMMANDS)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            _attach_exit_codes(command, f"{path} ")
        elif not command.hidden:  # a deprecated alias shares its command's codes
            switches = environment.help_text(environment.AFFECTS.get(path, ()))
            codes = help_text(COMMANDS[path])
            command.epilog = f"{switches}\n\n{codes}" if switches else codes


_attach_exit_codes(cli)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="percona-pg-operator")
