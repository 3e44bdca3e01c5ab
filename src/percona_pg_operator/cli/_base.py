"""The command group, its error handling and the output helpers every command uses.

One place turns errors into messages and exit codes (:class:`_Command`, from the table in
``exitcodes.py``). Commands import what they need when they run: ``credentials gke|eks`` is the
kubeconfigs' exec plugin, started on every token refresh, and must not load pydantic or the
models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

import click

from ..errors import (
    PerconaPgOperatorError,
    internal_error_message,
)
from ._collected import JSON_NOTES
from .exitcodes import ExitCode, code_for


def _flag(flag: str, meta_key: str, help_text: str) -> click.Option:
    """A flag that may come before or after the command's name (the group and every command
    carry one) and is kept in the context's shared ``meta`` under ``meta_key``."""

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.meta[meta_key] = True

    return click.Option(
        [flag], is_flag=True, expose_value=False, is_eager=True, callback=remember,
        help=help_text,
    )  # fmt: skip


def _global_flags() -> list[click.Option]:
    return [
        _flag(
            "--no-color", "no_colour", "No colour, as the NO_COLOR environment variable says too."
        ),
        _flag("--debug", "debug", "Show the traceback of an internal error."),
    ]


def colour_wanted(is_terminal: bool) -> bool:
    """Colour on a terminal, unless --no-color or NO_COLOR (set and not empty:
    https://no-color.org) says no."""
    import os

    ctx = click.get_current_context(silent=True)
    refused = ctx is not None and ctx.meta.get("no_colour")
    return is_terminal and not refused and not os.environ.get("NO_COLOR")


# The shape of every JSON document a command prints (its first key). Within one schema version a
# key may be added, never renamed or removed; the README lists each document's keys.
SCHEMA_VERSION = 1


def emit_json(document: Mapping[str, Any]) -> None:
    """A command's JSON document on stdout, with its schema version first, and the warnings its
    work logged as "notes" (cli/_notes.py collects them)."""
    notes = JSON_NOTES.get()
    extra = {"notes": list(notes)} if notes else {}
    click.echo(
        json.dumps({"schema_version": SCHEMA_VERSION, **document, **extra}, indent=2, default=str)
    )


def _json_error(message: str, code: ExitCode, retryable: bool = False) -> None:
    error = {"code": int(code), "name": code.name, "message": message, "retryable": retryable}
    emit_json({"error": error})


def _json_asked(args: list[str]) -> bool:
    """Whether a command line asks for JSON, read from its words (a usage error may stop the
    parse before ``--output`` is read): ``-o json``, ``--output json``, ``--output=json``,
    ``-ojson``."""
    for i, word in enumerate(args):
        if word == "--":
            break
        if word in ("-o", "--output") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if word in ("--output=json", "-ojson", "-o=json"):
            return True
    return False


def _fail(ctx: click.Context, message: str, code: ExitCode, retryable: bool = False) -> NoReturn:
    """The one way a command ends on an error: the message on stderr and, with --output json,
    a JSON document on stdout too (scripts parse stdout); then the table's exit code."""
    if ctx.params.get("output") == "json":
        _json_error(message, code, retryable)
    from ._notes import end_progress_line  # a download's progress line may still be open

    end_progress_line()
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(int(code))


class _Command(click.Command):
    """Every command: ``--debug`` (also after the command's name), its exit codes in --help, and
    the package's errors turned into a message and the table's exit code (exitcodes.py).

    Anything else is a bug: one line that says so, and the traceback only with --debug.
    """

    # The package's notes (which chart source was used) on stderr, with text output. The
    # credential plugins say nothing and do not even load logging: they start on every refresh.
    notes = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params += _global_flags()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """A usage error of the command line (an unknown option, a bad value) with JSON asked
        for: the error document on stdout too, as for any other error."""
        words = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if _json_asked(words):
                _json_error(exc.format_message(), ExitCode.USAGE)
            raise

    def invoke(self, ctx: click.Context) -> Any:
        if not self.notes:
            return self._invoke(ctx)
        from ._notes import download_progress_on_a_terminal, notes_in_json, notes_on_stderr

        if ctx.params.get("output") == "json":
            with notes_in_json():
                return self._invoke(ctx)

        with notes_on_stderr(), download_progress_on_a_terminal():
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerconaPgOperatorError as exc:
            _fail(ctx, str(exc), code_for(exc), exc.retryable)
        except click.UsageError as exc:
            if ctx.params.get("output") == "json":
                _json_error(exc.format_message(), ExitCode.USAGE)
            raise
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            # click's other errors (a file it cannot open) are about the command line; exit 1
            # means "changes" here.
            _fail(ctx, exc.format_message(), ExitCode.USAGE)
        except (KeyboardInterrupt, click.Abort):
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if ctx.meta.get("debug"):  # the traceback, then the table's code (1 is diff's only)
                import traceback

                click.echo(traceback.format_exc(), err=True, nl=False)
            _fail(
                ctx,
                internal_error_message(exc, "run the same command with --debug"),
                ExitCode.INTERNAL,
            )


class _Group(click.Group):
    """A command group whose commands may live in modules loaded when a command is asked for
    (``lazy_commands``: name -> module), so the credential plugin, which starts on every token
    refresh, loads its own module only; each command gets its --help epilog when first asked
    for (the environment switches it reads, its exit codes)."""

    command_class = _Command

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, str] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            import importlib

            importlib.import_module(self.lazy_commands[cmd_name])
        command = self.commands.get(cmd_name)
        if command is not None and not isinstance(command, click.Group) and not command.epilog:
            parents = [c.info_name for c in reversed(_chain(ctx)) if c.parent is not None]
            _describe(" ".join([*(p or "" for p in parents), cmd_name]), command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.Abort):
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None


_Group.group_class = _Group


def _chain(ctx: click.Context) -> list[click.Context]:
    chain = [ctx]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    return chain


def _describe(path: str, command: click.Command) -> None:
    """A command's --help epilog: the environment switches it reads (environment.AFFECTS) and
    its exit codes (exitcodes.COMMANDS). A hidden alias shares its command's and has none."""
    from . import environment
    from .exitcodes import COMMANDS, help_text

    if command.hidden or path not in COMMANDS:  # a test asserts every command is in the table
        return
    flags = {opt for param in command.params for opt in getattr(param, "opts", ())}
    switches = environment.help_text(environment.AFFECTS.get(path, ()), flags)
    codes = help_text(COMMANDS[path])
    command.epilog = f"{switches}\n\n{codes}" if switches else codes


class _PluginCommand(_Command):
    notes = False


class _PluginGroup(_Group):
    """The credential plugins' group: their commands show no notes."""

    command_class = _PluginCommand


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, params=_global_flags()
)
@click.version_option(package_name="percona-pg-operator")
def cli() -> None:
    """Install and upgrade the Percona Operator for PostgreSQL with Pulumi.

    Every command's --help lists its exit codes; the README has the whole table."""


class RepoUrl(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A chart repository flag's value, checked by the one rule for repository URLs
    (``formats.repo_url_problem``, as spec.helm.repo and the mirror variable); the error never
    quotes the value, which may carry a credential."""

    name = "URL|DIR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..formats import repo_url_problem

        problem = repo_url_problem(str(value))
        if problem is not None:
            self.fail(problem, param, ctx)
        return str(value)


OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people (plain lines when piped), or json for scripts.",
)


def table(*columns: str, title: str | None = None) -> Any:
    """A rich table whose cells wrap, words first, then anywhere (``fold``), never cut with an
    ellipsis: a link or a reason stays whole at 80 columns."""
    from rich.table import Table

    made = Table(title=title)
    for column in columns:
        made.add_column(column, overflow="fold")
    return made


def _console() -> Any:
    from rich.console import Console

    # markup=False: text from the cluster (a crVersion "[/]", an event message) is printed as
    # it is, never read as rich markup; colour comes only from Text styles set here.
    # Tables and styles keep their layout without colour when --no-color or NO_COLOR says so.
    return Console(highlight=False, soft_wrap=True, markup=False, no_color=not colour_wanted(True))
