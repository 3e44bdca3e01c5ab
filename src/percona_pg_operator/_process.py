"""Child processes under a deadline: each runs in a session (and process group) of its own, and
when the deadline passes the whole group is killed, so no grandchild it started outlives it.
For a library that starts processes and hands out none (the Automation API), the processes of
one run carry a marker in their environment, and past the deadline every marked one is killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

# The environment variable that marks the processes of one bounded run started by a library
# that hands out no process handle (the Automation API): its value is the run's token.
RUN_MARKER = "PERCONA_PG_OPERATOR_RUN"


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


def kill_marked(token: str, variable: str = RUN_MARKER) -> list[int]:
    """SIGKILL every process whose environment carries ``variable=token`` (read from /proc:
    Linux; elsewhere none is found). Returns the pids killed."""
    mark = f"{variable}={token}".encode()
    killed = []
    for proc in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if mark in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
    return killed


@contextmanager
def marked_deadline(token: str, seconds: float) -> Iterator[Callable[[], bool]]:
    """While inside, the processes marked with ``token`` are killed once ``seconds`` pass; the
    value given says whether that happened (the caller's call then fails, and says why)."""
    fired = threading.Event()

    def expire() -> None:
        fired.set()
        kill_marked(token)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield fired.is_set
    finally:
        timer.cancel()
