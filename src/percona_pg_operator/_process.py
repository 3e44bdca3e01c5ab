"""Child processes under a deadline: each runs in a session (and process group) of its own, and
when the deadline passes the whole group is killed, so no grandchild it started outlives it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


class DeadlinePassed(Exception):
    """The process gave no answer in time; it and every process of its group were killed."""


def kill_group(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """SIGKILL the process's whole group (it leads one: ``start_new_session=True``)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.wait()


def run_bounded(
    command: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end within ``timeout`` seconds; else kill its group and raise
    :class:`DeadlinePassed`. An OSError (not installed, not runnable) is the caller's."""
    proc = subprocess.Popen(
        list(command),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise DeadlinePassed(f"no answer within {timeout:g} s") from None
    except BaseException:
        kill_group(proc)
        raise
    # A grandchild still holding on after the process ended is the process's: it goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(list(command), proc.returncode, out, err)
