"""The package's exception hierarchy.

Everything the package raises on purpose derives from :class:`PerconaPgOperatorError`; the CLI
turns these into a message and a non-zero exit code. Messages never carry credential values.
"""

from __future__ import annotations

from typing import NamedTuple


class PerconaPgOperatorError(Exception):
    """Base class of every error this package raises on purpose.

    ``retryable``: whether the same call may succeed later without anyone changing anything
    (no answer from a server, a 429 or 5xx); false for everything the input or a person must fix.
    """

    retryable: bool = False


class Problem(NamedTuple):
    """One thing wrong with an input: where, what was given, and why it is wrong.

    A NamedTuple rather than a dataclass: this module is imported by the credential plugin,
    which starts on every token refresh, and ``dataclasses`` costs it milliseconds."""

    path: str
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = self.path or "<root>"
        if self.value is None:
            return f"{where}: {self.message}"
        return f"{where}: {self.message} (got {self.value})"


class StackInputError(PerconaPgOperatorError):
    """The stack input could not be read, or is not a valid manifest. Lists every problem."""

    def __init__(self, summary: str, problems: list[Problem] | None = None) -> None:
        self.summary = summary
        self.problems = list(problems or [])
        lines = [summary, *(f"  - {p}" for p in self.problems)]
        super().__init__("\n".join(lines))


class CredentialError(PerconaPgOperatorError):
    """Cluster credentials that cannot be used here (a missing command, an unreadable file).

    Messages name the field or command, never a credential value.
    """


class ChartRepositoryError(PerconaPgOperatorError):
    """The chart could not be found, downloaded or verified."""


class UpgradeGuardError(PerconaPgOperatorError):
    """A chart version change that Percona does not support as one step."""


class RenderError(PerconaPgOperatorError):
    """Offline rendering could not run or failed."""


class ClusterError(PerconaPgOperatorError):
    """The target cluster could not be read. Messages name the object and the permission.

    ``status`` is the API server's HTTP status, when it answered; ``retryable`` says whether the
    same call may succeed later: true only for no answer (transport errors, timeouts), 429 and
    5xx. A 401, a 403 or a bad kubeconfig stays as it is until someone changes it.
    """

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.status = status
        self.retryable = retryable


class ClusterUnreachableError(ClusterError):
    """No answer from the API server (connection refused, timeout, TLS, bad credentials)."""


class ClusterPermissionError(ClusterError):
    """The API server refused a read (403): the message names the verb, resource and namespace."""


class RepairError(PerconaPgOperatorError):
    """The repair could not be done, or did not leave the release as planned."""


class FleetError(PerconaPgOperatorError):
    """A fleet rollout step failed (a stack's update, the Pulumi CLI missing)."""


class ToolUnavailableError(PerconaPgOperatorError):
    """A program the command runs is not there or does not work (the Pulumi CLI)."""


class UsageError(PerconaPgOperatorError):
    """A switch, flag or environment variable with a value it does not take; names it."""


class OutputFileError(PerconaPgOperatorError):
    """A file or folder the command was told to write (a report, a state file, a render folder)
    cannot be written there; names it and why."""


class PreflightRefusedError(PerconaPgOperatorError):
    """What the cluster shows makes the change unsafe; the message lists every reason."""


class VerificationError(PerconaPgOperatorError):
    """After the change, the operator, its CRDs or the databases did not come through in time.

    The message names each object with its conditions and newest events.
    """


def internal_error_message(exc: BaseException, debug_hint: str) -> str:
    """One line for an error that is not the input's fault (a bug): its type and the first line of
    its message, bounded, and how to get the traceback."""
    text = str(exc).strip()
    detail = text.splitlines()[0][:200] if text else ""
    return (
        f"internal error ({type(exc).__name__}{': ' + detail if detail else ''}); this is a bug: "
        f"please report it with the traceback ({debug_hint})"
    )
