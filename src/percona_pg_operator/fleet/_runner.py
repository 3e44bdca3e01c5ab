"""The runner that does the work: Pulumi's Automation API, one workspace per stack.

Each cluster's stack runs this package's own program (``percona_pg_operator.program.run``) in a
workspace folder of its own: `pulumi stack select/init` and config writes mutate the workspace's
settings files, and two at once in one folder race (pulumi/pulumi#8186), so concurrent stacks
never share one. Each `pulumi up` is its own CLI process, so updates run in parallel safely
(inline programs would share the Python SDK's process-wide state). The stack input goes into the
stack's config as a secret (`planton-cloud:stack-input`), encrypted in the stack's settings.

``--remote`` runs each stack on Pulumi Deployments instead, through the Automation API's remote
workspace (a git source holding this project).
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _yaml, defaults
from .._files import atomic_write, leads_out
from .._process import RUN_MARKER, DeadlinePassed, marked_deadline, run_bounded
from ..checks.preflight import StackState
from ..cluster.read import inspect_cluster
from ..errors import FleetError, ToolUnavailableError
from ._decide import cluster_preflight, start_decision
from ._load import FleetCluster
from ._model import HealthGate
from ._rollout import Health, StartDecision

PROGRAM = "from percona_pg_operator.program import run\n\nrun()\n"
CONFIG_SET_TIMEOUT_SECONDS = 120
# How long a stack's Automation API call may take before its Pulumi processes are killed: a
# selection or a preview; an update gets its release's and its verification's own timeouts on
# top (a Helm install that waits, then the check that waits for the databases).
STACK_CALL_SECONDS = 600.0


@dataclass(frozen=True)
class RemoteSource:
    """Where Pulumi Deployments gets the project: a git repository holding this program."""

    url: str
    branch: str = "refs/heads/main"
    project_path: str = "."


def _log_file(log: Path) -> Any:
    """A cluster's log under .fleet/logs, for appending: never through a link out of it."""
    if leads_out(log, log.parent.parent):
        raise FleetError(f"{log} leads out of {log.parent.parent} (a link): remove it")
    log.parent.mkdir(parents=True, exist_ok=True)
    return log.open("a", encoding="utf-8")


def pulumi_cli_missing() -> str | None:
    if shutil.which("pulumi") is None:
        return f"the Pulumi CLI is not installed ({defaults.PULUMI_INSTALL_URL})"
    return None


class AutomationRunner:
    """Runs, previews, cancels and checks one stack per cluster."""

    def __init__(
        self,
        work_root: Path,
        project: str = "percona-pg-operator",
        remote: RemoteSource | None = None,
        env: dict[str, str] | None = None,
        gate: HealthGate | None = None,
    ) -> None:
        missing = pulumi_cli_missing()
        if missing:
            raise ToolUnavailableError(f"the fleet's stacks run through the Pulumi CLI: {missing}")
        self.work_root = work_root
        self.project = project
        self.remote = remote
        self.env = dict(env or {})
        self.gate = gate or HealthGate()
        self._stacks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _workspace(self, cluster: FleetCluster) -> Path:
        folder = self.work_root / cluster.name
        if leads_out(folder / "Pulumi.yaml", self.work_root) or leads_out(folder, self.work_root):
            raise FleetError(f"{folder} leads out of {self.work_root} (a link): remove it")
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "__main__.py", PROGRAM.encode())
        project = {
            "name": self.project,
            "runtime": {
                "name": "python",
                # This interpreter's environment: the one that has this package.
                "options": {"toolchain": "pip", "virtualenv": sys.prefix},
            },
            "main": "__main__.py",
        }
        atomic_write(folder / "Pulumi.yaml", _yaml.dump(project).encode())
        return folder

    def stack(self, cluster: FleetCluster) -> Any:
        from ..deploy import automation

        with self._lock:
            if cluster.name in self._stacks:
                return self._stacks[cluster.name]
        document = _yaml.dump(cluster.stack_input.model_dump(by_alias=True, exclude_none=True))
        stack: Any
        if self.remote is not None:
            # Deployments gets the stack input as a secret environment variable.
            stack = automation.remote_stack(
                cluster.stack,
                self.remote.url,
                self.remote.branch,
                self.remote.project_path,
                self.env,
                {defaults.STACK_INPUT_YAML_ENV: document},
            )
        else:
            folder = self._workspace(cluster)
            # Each process the Automation API starts for this stack carries its marker, so a
            # call past its deadline is ended with all it started (_bounded).
            env = {**self.env, RUN_MARKER: self._token(cluster)}
            with self._bounded(cluster, STACK_CALL_SECONDS, "selecting the stack"):
                stack = automation.local_stack(cluster.stack, folder, env)
            self._set_stack_input(folder, cluster.stack, document)
        with self._lock:
            self._stacks[cluster.name] = stack
        return stack

    def _set_stack_input(self, folder: Path, stack: str, document: str) -> None:
        """The stack input into the stack's config as a secret, given on standard input.

        The Automation API's ``set_config`` passes the value as a command-line argument of
        ``pulumi config set``, which any local user can read in ``/proc/<pid>/cmdline`` (and
        which is capped at 128 KiB); ``pulumi config set`` reads the value from standard input
        when none is given, as the project's README tells people to do.
        """
        command = [
            "pulumi", "config", "set", "--secret", "--non-interactive",
            "--stack", stack, "--cwd", str(folder), defaults.STACK_INPUT_CONFIG_KEY,
        ]  # fmt: skip
        try:
            done = run_bounded(
                command,
                stdin=document,
                env={**os.environ, **self.env},
                timeout=CONFIG_SET_TIMEOUT_SECONDS,
            )
        except (OSError, DeadlinePassed) as exc:
            raise FleetError(f"pulumi config set for stack {stack} failed: {exc}") from None
        if done.returncode != 0:
            said = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            raise FleetError(f"pulumi config set for stack {stack} failed: {said[0][:300]}")

    def last_outputs(self, cluster: FleetCluster) -> StackState:
        """What the cluster's stack exported on its last update (none for a stack not created
        yet: read without creating it, so `fleet preflight` changes nothing)."""
        from ..deploy import automation

        with self._lock:
            known = self._stacks.get(cluster.name)
        if known is not None or self.remote is not None:
            stack = known or self.stack(cluster)
            with self._bounded(cluster, STACK_CALL_SECONDS, "reading its outputs"):
                outputs = stack.outputs()
            return StackState.from_outputs({k: v.value for k, v in outputs.items()})
        folder = self._workspace(cluster)
        return StackState.from_outputs(
            automation.local_stack_outputs(cluster.stack, folder, self.env)
        )

    def preflight(self, cluster: FleetCluster) -> StartDecision:
        return start_decision(cluster_preflight(cluster, self))

    def _token(self, cluster: FleetCluster) -> str:
        return f"{os.getpid()}-{id(self)}-{cluster.name}"

    @contextmanager
    def _bounded(self, cluster: FleetCluster, seconds: float, what: str) -> Iterator[None]:
        """A call of the Automation API for the cluster's stack, under a deadline: past it,
        every Pulumi process of that stack is killed and the call fails saying so. (Remote
        stacks run on Pulumi Deployments, which bounds them itself.)"""
        with marked_deadline(self._token(cluster), seconds) as expired:
            try:
                yield
            except Exception:
                if expired():
                    raise FleetError(
                        f"stack {cluster.stack}: {what} took longer than {seconds:g} s; its "
                        "Pulumi processes were stopped"
                    ) from None
                raise

    def up(self, cluster: FleetCluster, log: Path, cancelled: threading.Event) -> None:
        from ..deploy import automation

        spec = cluster.stack_input.target.spec
        seconds = STACK_CALL_SECONDS + spec.helm.timeout_seconds + spec.verify.timeout_seconds
        stack = self.stack(cluster)
        with _log_file(log) as out, self._bounded(cluster, seconds, "the update"):
            automation.up(stack, lambda line: out.write(line + "\n"))

    def preview(self, cluster: FleetCluster, log: Path) -> dict[str, int]:
        """What `pulumi preview` would do, counted by operation (create, update, same, ...)."""
        stack = self.stack(cluster)
        with _log_file(log) as out, self._bounded(cluster, STACK_CALL_SECONDS, "the preview"):
            result = stack.preview(on_output=lambda line: out.write(line + "\n"), color="never")
        return {str(getattr(op, "value", op)): int(n) for op, n in result.change_summary.items()}

    def destroy(self, cluster: FleetCluster, log: Path) -> None:
        """`pulumi destroy` of the cluster's stack (the program's retained objects stay: the
        namespace unless asked, the CRDs, the databases)."""
        spec = cluster.stack_input.target.spec
        seconds = STACK_CALL_SECONDS + spec.helm.timeout_seconds
        stack = self.stack(cluster)
        with _log_file(log) as out, self._bounded(cluster, seconds, "the destroy"):
            stack.destroy(on_output=lambda line: out.write(line + "\n"), color="never")

    def cancel(self, cluster: FleetCluster) -> None:
        stack = self.stack(cluster)
        with self._bounded(cluster, CONFIG_SET_TIMEOUT_SECONDS, "cancelling its update"):
            stack.cancel()

    def health(self, cluster: FleetCluster) -> Health:
        return cluster_health(cluster, self.gate.operator_ready, self.gate.databases_ready)


def cluster_health(cluster: FleetCluster, operator: bool = True, databases: bool = True) -> Health:
    """The status checks of the health gate: the operator ready, the databases ready."""
    stack_input = cluster.stack_input
    state = inspect_cluster(stack_input)
    release = state.release
    running = release.chart_version if release is not None else None
    problems = []
    if release is None:
        problems.append("no release of the operator")
    elif release.status != "deployed":
        # pending-install/upgrade/rollback (a run stopped half-way) or failed: never healthy.
        problems.append(f"the release is {release.status} at revision {release.revision}")
    if operator and (state.deployment is None or not state.deployment.ready):
        problems.append("the operator is not ready")
    if databases:
        down = [f"{d.namespace}/{d.name}" for d in state.databases if not d.ready]
        if down:
            problems.append("not ready: " + ", ".join(down))
    return Health(not problems, running, "; ".join(problems))
