"""The command line's exit codes: one table for every command, and which error gets which.

No code means two things. 0, 1 and 2 keep the meanings scripts already know: success, "there
are changes" (``diff``, as ``kubectl diff`` and ``git diff --exit-code``), and a usage error
(click's). 130 is an interruption (128 + SIGINT), as shells report it. The README's table and each
command's ``--help`` are generated from :data:`MEANINGS`; tests check both.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from ..errors import (
    ChartRepositoryError,
    ClusterError,
    CredentialError,
    FleetError,
    OutputFileError,
    PreflightRefusedError,
    RenderError,
    RepairError,
    StackInputError,
    ToolUnavailableError,
    UpgradeGuardError,
    UsageError,
    VerificationError,
)


class ExitCode(IntEnum):
    OK = 0
    CHANGES = 1
    USAGE = 2
    INVALID_INPUT = 3
    REFUSED = 4
    UNREADABLE = 5
    UNAVAILABLE = 6
    FAILED = 7
    UNHEALTHY = 8
    INTERNAL = 9
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "done: nothing refused, failed or unhealthy (diff: nothing changes)",
    ExitCode.CHANGES: "diff only: something changes",
    ExitCode.USAGE: "the command line is wrong (an unknown option, a missing argument, a "
    "switch's value, a file it names that cannot be written), or --yes is needed where "
    "there is no terminal to ask on",
    ExitCode.INVALID_INPUT: "a manifest, stack input, fleet file or state file is not valid; "
    "every problem is listed with its path",
    ExitCode.REFUSED: "a check refused the change (the preflight, the upgrade guard); the "
    "reasons say what to do",
    ExitCode.UNREADABLE: "the cluster cannot be read: no answer, credentials rejected or not "
    "usable, a permission missing",
    ExitCode.UNAVAILABLE: "the chart or a tool is not available (the chart repository, a "
    "download, the Helm engine)",
    ExitCode.FAILED: "the change ran and did not come through (the verification, a repair, a "
    "cluster of a fleet rollout)",
    ExitCode.UNHEALTHY: "fleet status: a cluster is unhealthy",
    ExitCode.INTERNAL: "an internal error (a bug): add --debug for the traceback",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C), or the question was answered no",
}

# The package's errors, most specific first; anything else of the package's is FAILED.
ERRORS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (OutputFileError, ExitCode.USAGE),
    (StackInputError, ExitCode.INVALID_INPUT),
    (UpgradeGuardError, ExitCode.REFUSED),
    (PreflightRefusedError, ExitCode.REFUSED),
    (ClusterError, ExitCode.UNREADABLE),
    (CredentialError, ExitCode.UNREADABLE),
    (ChartRepositoryError, ExitCode.UNAVAILABLE),
    (RenderError, ExitCode.UNAVAILABLE),
    (ToolUnavailableError, ExitCode.UNAVAILABLE),
    (VerificationError, ExitCode.FAILED),
    (RepairError, ExitCode.FAILED),
    (FleetError, ExitCode.FAILED),
)

# What each command may exit with (besides USAGE, INTERNAL and INTERRUPTED, which every command
# may): its --help lists these.
COMMON = (ExitCode.USAGE, ExitCode.INTERNAL, ExitCode.INTERRUPTED)
COMMANDS: dict[str, tuple[ExitCode, ...]] = {
    "validate": (ExitCode.OK, ExitCode.INVALID_INPUT),
    "render": (ExitCode.OK, ExitCode.INVALID_INPUT, ExitCode.UNAVAILABLE),
    "schema": (ExitCode.OK,),
    "preflight": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.REFUSED,
        ExitCode.UNREADABLE,
        ExitCode.UNAVAILABLE,
    ),
    "status": (ExitCode.OK, ExitCode.INVALID_INPUT, ExitCode.UNREADABLE, ExitCode.UNAVAILABLE),
    "diff": (
        ExitCode.OK,
        ExitCode.CHANGES,
        ExitCode.INVALID_INPUT,
        ExitCode.UNREADABLE,
        ExitCode.UNAVAILABLE,
    ),
    "upgrade-plan": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.REFUSED,
        ExitCode.UNREADABLE,
        ExitCode.UNAVAILABLE,
    ),
    "repair": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.UNREADABLE,
        ExitCode.UNAVAILABLE,
        ExitCode.FAILED,
    ),
    "fleet preflight": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.REFUSED,
        ExitCode.UNREADABLE,
        ExitCode.UNAVAILABLE,
    ),
    "fleet preview": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.UNAVAILABLE,
        ExitCode.FAILED,
    ),
    "fleet up": (ExitCode.OK, ExitCode.INVALID_INPUT, ExitCode.UNAVAILABLE, ExitCode.FAILED),
    "fleet destroy": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.UNAVAILABLE,
        ExitCode.FAILED,
    ),
    "fleet status": (
        ExitCode.OK,
        ExitCode.INVALID_INPUT,
        ExitCode.UNREADABLE,
        ExitCode.UNHEALTHY,
    ),
    "fleet schema": (ExitCode.OK,),
    "credentials gke": (ExitCode.OK, ExitCode.UNREADABLE),
    "credentials eks": (ExitCode.OK, ExitCode.UNREADABLE),
}


def code_for(exc: BaseException) -> ExitCode:
    """The exit code of one of the package's errors (FAILED for one the table does not name)."""
    return next((code for kind, code in ERRORS if isinstance(exc, kind)), ExitCode.FAILED)


def help_text(codes: Iterable[ExitCode]) -> str:
    """The ``Exit codes`` section of a command's --help (click keeps ``\\b`` blocks as they are),
    wrapped to fit 80 columns."""
    import textwrap

    lines = [
        textwrap.fill(
            MEANINGS[code],
            width=78,
            initial_indent=f"  {int(code):>3}  ",
            subsequent_indent=" " * 7,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for code in [*codes, *COMMON]
    ]
    return "\b\nExit codes:\n" + "\n".join(lines)


def markdown_table() -> str:
    """The README's table."""
    rows = [f"| {int(code)} | `{code.name}` | {MEANINGS[code]} |" for code in ExitCode]
    return "\n".join(["| code | name | meaning |", "|---:|---|---|", *rows])
