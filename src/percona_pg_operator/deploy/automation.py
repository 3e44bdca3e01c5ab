"""Pulumi's Automation API, for the fleet: one stack per cluster, selected or created in a
workspace folder of its own (or on Pulumi Deployments), updated, previewed and cancelled.

Only this module (with the rest of ``deploy/``) imports Pulumi; the fleet drives it through the
functions here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from .. import defaults
from .._process import DeadlinePassed, run_bounded
from ..errors import FleetError, StackInputError, ToolUnavailableError


def local_stack(name: str, folder: Path, env: Mapping[str, str]) -> Any:
    """The stack ``name`` of the project in ``folder``, created when it does not exist."""
    return auto.create_or_select_stack(
        name,
        work_dir=str(folder),
        opts=auto.LocalWorkspaceOptions(work_dir=str(folder), env_vars=dict(env)),
    )


# A read of a stack's config or outputs through the Pulumi CLI (the backend may be remote): past
# this, the CLI and every process it started are killed.
READ_TIMEOUT_SECONDS = 120.0


class _NoSuchStack(Exception):
    pass


def _pulumi_json(
    args: list[str], where: str, project_dir: Path, env: Mapping[str, str] | None
) -> dict[str, Any]:
    """``pulumi ARGS --json`` in ``project_dir``, under a deadline, as a JSON object. Run as the
    CLI itself (its documented JSON output), since the Automation API bounds no command."""
    command = ["pulumi", *args, "--json", "--non-interactive", "--cwd", str(project_dir)]
    try:
        done = run_bounded(command, timeout=READ_TIMEOUT_SECONDS, env={**os.environ, **(env or {})})
    except OSError as exc:
        raise ToolUnavailableError(
            f"{where} reads the stack through the Pulumi CLI, which cannot run here "
            f"({exc.strerror or type(exc).__name__}): install it ({defaults.PULUMI_INSTALL_URL}) "
            "or put it on PATH"
        ) from None
    except DeadlinePassed as exc:
        error = ToolUnavailableError(f"{where}: the Pulumi CLI gave {exc}; it was stopped")
        error.retryable = True
        raise error from None
    if done.returncode != 0:
        reason = _last_error_line(done.stderr)
        if "no stack named" in reason:
            raise _NoSuchStack(reason)
        raise ToolUnavailableError(f"{where}: the Pulumi CLI could not read the stack: {reason}")
    try:
        document = json.loads(done.stdout or "{}")
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ToolUnavailableError(f"{where}: the Pulumi CLI did not print a JSON object")
    return document


def local_stack_outputs(name: str, folder: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The last outputs of stack ``name`` of the project in ``folder``, read without creating
    it: a stack that does not exist yet has none."""
    args = ["stack", "output", "--show-secrets", "--stack", name]
    try:
        return _pulumi_json(args, f"stack {name}", folder, env)
    except _NoSuchStack:
        return {}


def read_stack(
    name: str, project_dir: Path, env: Mapping[str, str] | None = None
) -> tuple[str | None, dict[str, Any]]:
    """A stack's ``planton-cloud:stack-input`` (decrypted) and its last outputs, read as
    ``pulumi config`` and ``pulumi stack output`` read them: from the project in
    ``project_dir``, where the stack's settings file is, and its backend."""
    where = f"--stack {name}"
    try:
        config = _pulumi_json(
            ["config", "--show-secrets", "--stack", name], where, project_dir, env
        )
        last = _pulumi_json(
            ["stack", "output", "--show-secrets", "--stack", name], where, project_dir, env
        )
    except _NoSuchStack:
        raise StackInputError(f"{where}: the backend has no such stack") from None
    entry = config.get(defaults.STACK_INPUT_CONFIG_KEY)
    value = entry.get("value") if isinstance(entry, dict) else None
    return (value if isinstance(value, str) else None), last


def _last_error_line(text: str) -> str:
    """The reason in a CommandError's text: its last ``error:`` line (never a config value:
    the CLI does not print them in errors)."""
    lines = [line.strip() for line in text.splitlines() if line.strip().startswith("error:")]
    return lines[-1].removeprefix("error:").strip() if lines else "the Pulumi CLI failed"


def remote_stack(
    name: str,
    url: str,
    branch: str,
    project_path: str,
    env: Mapping[str, str],
    secrets: Mapping[str, str],
) -> Any:
    """The stack on Pulumi Deployments, from a git source; ``secrets`` as secret variables."""
    variables: dict[str, str | auto.Secret] = {
        **env,
        **{key: auto.Secret(value) for key, value in secrets.items()},
    }
    return auto.create_or_select_remote_stack_git_source(
        name,
        url,
        branch=branch,
        project_path=project_path,
        opts=auto.RemoteWorkspaceOptions(env_vars=variables),
    )


def up(stack: Any, on_output: Callable[[str], object]) -> None:
    """``pulumi up``; a failure is a FleetError with the reasons from its Diagnostics."""
    try:
        stack.up(on_output=on_output, color="never")
    except auto.CommandError as exc:
        raise FleetError(f"pulumi up failed: {failure_reason(str(exc))}") from None


# Diagnostics that only say that something else failed.
_GENERIC_ERRORS = (
    "update failed",
    "an unhandled error occurred",
    "resource monitor has terminated",
    "preview failed",
)


def failure_reason(command_error: str, limit: int = 500) -> str:
    """What made a `pulumi up` fail, from the Automation API's CommandError text: each specific
    ``error:`` line of the Diagnostics section with the resource it belongs to. The error's last
    line is its empty ``stderr:`` (seen on the real engine), which says nothing."""
    reasons: list[str] = []
    resource = ""
    in_diagnostics = False
    for line in command_error.splitlines():
        stripped = line.strip()
        if stripped == "Diagnostics:":
            in_diagnostics = True
            continue
        if not in_diagnostics:
            continue
        if line and not line.startswith(" "):  # "Resources:", "Duration:": the section ended
            break
        if line.startswith("  ") and not line.startswith("   ") and stripped.endswith("):"):
            resource = stripped.rstrip(":")
            continue
        if stripped.startswith("error: "):
            message = stripped.removeprefix("error: ").strip()
            if message and not message.lower().startswith(_GENERIC_ERRORS):
                reasons.append(f"{resource}: {message}" if resource else message)
    text = "; ".join(dict.fromkeys(reasons)) or "see the stack's log"
    return text if len(text) <= limit else text[: limit - 1] + "…"
