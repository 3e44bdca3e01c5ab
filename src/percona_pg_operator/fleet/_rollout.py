"""The rollout: waves in order, bounded concurrency, failure budgets, soak, health gates, resume.

The orchestration knows nothing of Pulumi: it drives a :class:`Runner` (the Automation API one
in ``_runner.py``, a scripted one in the tests) and records every cluster's result in a state
file, written atomically after each change, so a stopped rollout resumes where it stopped.

- A cluster already at the target version and healthy is skipped (unless forced); one that
  succeeded in an earlier run is not run again on ``--resume``.
- Every cluster's preflight runs before it starts; a refused cluster never starts and counts
  against the wave's failure budget.
- Once a wave's failures exceed its budget nothing new starts, the running ones finish, and the
  rollout stops. After a wave: its soak time, then the health gate on each of its clusters.
- Ctrl-C stops starting clusters and cancels the running updates (the runner's ``cancel``:
  ``stack.cancel()``), then writes the state.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, get_args

from .. import _yaml
from .._files import atomic_write
from ..errors import OutputFileError, Problem, StackInputError
from ._load import FleetCluster, WaveClusters

Result = Literal[
    "succeeded",
    "failed",
    "refused",
    "skipped",
    "cancelled",
    "not-started",
    "unhealthy",
    "destroyed",
]
FAILED: tuple[Result, ...] = ("failed", "refused", "unhealthy", "cancelled")


@dataclass
class ClusterRun:
    """One cluster's outcome."""

    cluster: str
    stack: str
    wave: str
    running_version: str | None
    target_version: str
    result: Result
    seconds: float = 0.0
    # What went wrong (failed, refused, unhealthy, cancelled).
    error: str = ""
    # Why a cluster was not run although nothing went wrong (skipped).
    reason: str = ""


@dataclass(frozen=True)
class StartDecision:
    """What a runner reports before a change: may it start, and from which version."""

    ok: bool
    running_version: str | None
    reason: str = ""


@dataclass(frozen=True)
class Health:
    ok: bool
    running_version: str | None
    reason: str = ""


class Runner(Protocol):
    def preflight(self, cluster: FleetCluster) -> StartDecision: ...

    def up(self, cluster: FleetCluster, log: Path, cancelled: threading.Event) -> None:
        """Raise on failure; return when the update succeeded."""

    def cancel(self, cluster: FleetCluster) -> None: ...

    def health(self, cluster: FleetCluster) -> Health: ...

    def destroy(self, cluster: FleetCluster, log: Path) -> None:
        """`pulumi destroy` of the cluster's stack; raises on failure."""


# The state file: far above any fleet's (a few hundred bytes per cluster), far below what would
# take long to read; read only if it is a regular file.
MAX_STATE_BYTES = 16 << 20
_RESULTS: frozenset[str] = frozenset(get_args(Result))
_LEGACY_KEYS = {"from_version": "running_version", "to_version": "target_version"}


def fleet_digest(clusters: list[FleetCluster]) -> str:
    """Which rollout a state file belongs to: every cluster's name, stack and target version."""
    identity = sorted((c.name, c.stack, c.target_version) for c in clusters)
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]


def _run_from(name: str, data: Any, where: str) -> ClusterRun:
    """One run of the state file, checked field by field (it is input like any other)."""
    if not isinstance(data, dict):
        raise StackInputError(f"{where}: runs.{name} is not an object")
    # State files written by 0.1.0 name the versions from_version/to_version.
    data = {_LEGACY_KEYS.get(key, key): value for key, value in data.items()}
    texts = ("cluster", "stack", "wave", "target_version", "result")
    problems = [
        Problem(f"runs.{name}.{key}", "must be a string")
        for key in texts
        if not isinstance(data.get(key), str)
    ]
    if not isinstance(data.get("running_version"), str | None):
        problems.append(Problem(f"runs.{name}.running_version", "must be a string or null"))
    seconds = data.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        problems.append(Problem(f"runs.{name}.seconds", "must be a number"))
    for key in ("error", "reason"):
        if not isinstance(data.get(key, ""), str):
            problems.append(Problem(f"runs.{name}.{key}", "must be a string"))
    if data.get("result") not in _RESULTS and not problems:
        problems.append(Problem(f"runs.{name}.result", f"must be one of {sorted(_RESULTS)}"))
    unknown = sorted(set(data) - {*texts, "running_version", "seconds", "error", "reason"})
    problems += [Problem(f"runs.{name}.{key}", "unknown field") for key in unknown[:5]]
    if problems:
        raise StackInputError(f"{where}: not a rollout state file", problems)
    return ClusterRun(
        cluster=data["cluster"],
        stack=data["stack"],
        wave=data["wave"],
        running_version=data.get("running_version"),
        target_version=data["target_version"],
        result=data["result"],
        seconds=float(seconds),
        error=data.get("error", ""),
        reason=data.get("reason", ""),
    )


@dataclass
class RolloutState:
    """The state file: every cluster's last result, and the rollout (fleet digest) it is of."""

    runs: dict[str, ClusterRun] = field(default_factory=dict)
    fleet: str = ""

    @classmethod
    def load(cls, path: Path, fleet: str | None = None) -> RolloutState:
        """The state at ``path`` (empty if there is none). With ``fleet``, a state file of
        another rollout (other clusters, stacks or target versions) is refused."""
        try:
            text = _yaml.read_input(path, max_bytes=MAX_STATE_BYTES)
        except _yaml.InputError as exc:
            if str(exc) == "no such file":
                return cls()
            raise StackInputError(f"{path}: the rollout state file {exc}") from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise StackInputError(f"{path}: not a rollout state file (not JSON)") from None
        if not isinstance(data, dict) or not isinstance(data.get("runs"), dict):
            raise StackInputError(f"{path}: not a rollout state file (no runs object)")
        recorded = data.get("fleet", "")
        if not isinstance(recorded, str):
            raise StackInputError(f"{path}: not a rollout state file (fleet is not a string)")
        if fleet is not None and recorded != fleet:
            raise StackInputError(
                f"{path} is the state of another rollout (other clusters, stacks or target "
                "versions than this fleet file's): run without --resume to start afresh, or give "
                "this rollout's own --state"
            )
        runs = {name: _run_from(str(name), run, str(path)) for name, run in data["runs"].items()}
        return cls(runs, recorded)

    def save(self, path: Path) -> None:
        document = {
            "fleet": self.fleet,
            "runs": {name: asdict(run) for name, run in self.runs.items()},
        }
        atomic_write(path, json.dumps(document, indent=2).encode())


@dataclass
class Report:
    runs: list[ClusterRun]
    stopped: str = ""  # why the rollout stopped early, if it did

    @property
    def failed(self) -> bool:
        return bool(self.stopped) or any(r.result in FAILED for r in self.runs)

    def to_json(self) -> dict[str, Any]:
        return {
            "stopped": self.stopped or None,
            "clusters": [asdict(r) for r in self.runs],
        }


Event = Callable[[ClusterRun], None]


def _reason(exc: BaseException) -> str:
    """An error as one bounded line for the report: its last non-empty line, or its type."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:500] if lines else type(exc).__name__


# A destroy's target version: nothing installed (a string, as every target_version).
DESTROYED_TARGET = "none"


def _ran(state: RolloutState, cluster: str) -> str | None:
    """The version the state says runs on a cluster: its last run's target, if that
    succeeded (or was skipped at the target); unknown otherwise."""
    last = state.runs.get(cluster)
    if last is None or last.result not in ("succeeded", "skipped"):
        return None
    return last.target_version


def _run(
    cluster: FleetCluster,
    wave: WaveClusters,
    result: Result,
    running_version: str | None = None,
    error: str = "",
) -> ClusterRun:
    return ClusterRun(
        cluster.name,
        cluster.stack,
        wave.name,
        running_version,
        cluster.target_version,
        result,
        error=error,
    )


@dataclass
class Rollout:
    runner: Runner
    state_file: Path
    log_dir: Path
    resume: bool = False
    force: bool = False
    confirm: Callable[[str], bool] = lambda _question: False
    on_event: Event = lambda _run: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    cancelled: threading.Event = field(default_factory=threading.Event)

    report: Report = field(default_factory=lambda: Report([]))

    def run(self, waves: list[WaveClusters], only: str | None = None) -> Report:
        """Every wave in order (or only one); the report, also kept as ``self.report`` while the
        rollout runs, so a caller can write what is known even if it stops on an error."""
        names = [w.name for w in waves]
        if only is not None and only not in names:
            raise StackInputError(f"no wave {only!r}; the waves are {', '.join(names)}")
        digest = fleet_digest([c for w in waves for c in w.clusters])
        state = (
            RolloutState.load(self.state_file, fleet=digest)
            if self.resume
            else RolloutState(fleet=digest)
        )
        state.fleet = digest
        self._save_first(state)
        report = self.report
        for index, wave in enumerate(waves):
            if only is not None and wave.name != only:
                continue
            manual = index and only is None and wave.wave.promotion == "manual"
            if manual and not self.confirm(f"promote to wave {wave.name}?"):
                report.stopped = f"waiting for promotion to wave {wave.name}"
                self._not_started(wave, report, state)
                break
            stopped = self._wave(wave, state, report)
            state.save(self.state_file)
            if stopped:
                report.stopped = stopped
                for later in waves[index + 1 :]:
                    if only is None:
                        self._not_started(later, report, state)
                break
        state.save(self.state_file)
        return report

    def destroy(self, waves: list[WaveClusters], only: Collection[str] = ()) -> Report:
        """Each cluster's stack destroyed (``only``: these clusters), the last wave first and in
        a wave its clusters in reverse order, one at a time: the first failure stops the rest,
        which are reported not started. Each result goes into the state file as `fleet up`'s
        do (``destroyed``), so a later `fleet up` installs those clusters again."""
        known = {c.name for w in waves for c in w.clusters}
        unknown = sorted(set(only) - known)
        if unknown:
            raise StackInputError(f"no cluster {', '.join(map(repr, unknown))} in this fleet")
        state = RolloutState.load(self.state_file)
        state.fleet = state.fleet or fleet_digest([c for w in waves for c in w.clusters])
        self._save_first(state)
        report = self.report
        order = [
            (cluster, wave)
            for wave in reversed(waves)
            for cluster in reversed(wave.clusters)
            if not only or cluster.name in only
        ]
        for index, (cluster, wave) in enumerate(order):
            start = self.clock()
            run = _run(cluster, wave, "destroyed", running_version=_ran(state, cluster.name))
            # Nothing of the operator's is installed after a destroy.
            run.target_version = DESTROYED_TARGET
            try:
                self.runner.destroy(cluster, self.log_dir / f"{cluster.name}.destroy.log")
            except Exception as exc:  # this cluster's result; the others do not start
                run.result, run.error = "failed", _reason(exc)
            run.seconds = round(self.clock() - start, 3)
            self._record(state, report, run)
            if run.result == "failed":
                report.stopped = f"the destroy of {cluster.name} failed"
                for later, later_wave in order[index + 1 :]:
                    self._record(state, report, _run(later, later_wave, "not-started"))
                break
        return report

    def _save_first(self, state: RolloutState) -> None:
        """Write the state before anything runs: an unwritable state file stops here."""
        try:
            state.save(self.state_file)
        except OSError as exc:
            raise OutputFileError(
                f"{self.state_file}: the rollout state file cannot be written "
                f"({exc.strerror or type(exc).__name__})"
            ) from None

    # -- one wave --------------------------------------------------------------------------------

    def _record(self, state: RolloutState, report: Report, run: ClusterRun) -> None:
        state.runs[run.cluster] = run
        report.runs = [r for r in report.runs if r.cluster != run.cluster] + [run]
        state.save(self.state_file)
        self.on_event(run)

    def _not_started(self, wave: WaveClusters, report: Report, state: RolloutState) -> None:
        for cluster in wave.clusters:
            if cluster.name not in {r.cluster for r in report.runs}:
                previous = state.runs.get(cluster.name)
                if previous is not None and previous.result == "succeeded":
                    continue
                self._record(state, report, _run(cluster, wave, "not-started"))

    def _wave(self, wave: WaveClusters, state: RolloutState, report: Report) -> str:
        allowed = wave.wave.allowed_failures(len(wave.clusters))
        failures = 0
        pending = list(wave.clusters)
        running: dict[Future[ClusterRun], FleetCluster] = {}
        with ThreadPoolExecutor(max_workers=wave.wave.max_concurrent) as pool:
            try:
                while pending or running:
                    while (
                        pending
                        and len(running) < wave.wave.max_concurrent
                        and failures <= allowed
                        and not self.cancelled.is_set()
                    ):
                        cluster = pending[0]
                        started = self._start(cluster, wave, state, report)
                        pending.pop(0)  # only now: a Ctrl-C above leaves it not started
                        if started is None:
                            continue
                        if started in ("refused", "failed"):
                            failures += 1
                            continue
                        running[pool.submit(self._up, cluster, wave, started)] = cluster
                    if not running:
                        break
                    done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        running.pop(future)
                        run = future.result()
                        self._record(state, report, run)
                        failures += run.result in FAILED
            except KeyboardInterrupt:
                self.cancelled.set()
                for cluster in running.values():
                    self.runner.cancel(cluster)
                for future in list(running):
                    self._record(state, report, future.result())
                running.clear()
        for cluster in pending:
            self._record(state, report, _run(cluster, wave, "not-started"))
        if self.cancelled.is_set():
            return "cancelled (Ctrl-C): no new cluster started, running updates were cancelled"
        if failures > allowed:
            return f"wave {wave.name}: {failures} failed, more than its budget of {allowed}"
        return self._after_wave(wave, report, state)

    def _start(
        self, cluster: FleetCluster, wave: WaveClusters, state: RolloutState, report: Report
    ) -> str | None:
        """None: nothing to do; "refused" or "failed" (recorded); else the running version to
        start from."""
        previous = state.runs.get(cluster.name)
        done = previous is not None and previous.result in ("succeeded", "skipped")
        if (
            self.resume
            and previous is not None
            and done
            and previous.target_version == cluster.target_version
        ):
            report.runs.append(previous)
            return None
        target = cluster.target_version
        try:
            check = self.runner.preflight(cluster)
        except Exception as exc:  # an unreadable cluster, an Automation API error: its failure
            failed = _run(
                cluster, wave, "failed", None, f"the preflight could not run: {_reason(exc)}"
            )
            self._record(state, report, failed)
            return "failed"
        if not check.ok:
            refused = _run(cluster, wave, "refused", check.running_version, check.reason)
            self._record(state, report, refused)
            return "refused"
        if not self.force and check.running_version == target:
            health = self._health(cluster)
            if health.ok:
                skipped = _run(cluster, wave, "skipped", target)
                skipped.reason = "at the target and healthy"
                self._record(state, report, skipped)
                return None
        return check.running_version or ""

    def _health(self, cluster: FleetCluster) -> Health:
        """The runner's health check; one that cannot be made is unhealthy, with the reason."""
        try:
            return self.runner.health(cluster)
        except Exception as exc:
            return Health(
                False, None, f"the health check could not read the cluster: {_reason(exc)}"
            )

    def _up(self, cluster: FleetCluster, wave: WaveClusters, running: str) -> ClusterRun:
        start = self.clock()
        run = _run(cluster, wave, "succeeded", running or None)
        try:
            self.runner.up(cluster, self.log_dir / f"{cluster.name}.log", self.cancelled)
        except Exception as exc:  # the runner's error, whatever it is, is this cluster's result
            run.result = "cancelled" if self.cancelled.is_set() else "failed"
            run.error = _reason(exc)
        run.seconds = round(self.clock() - start, 3)
        return run

    def _after_wave(self, wave: WaveClusters, report: Report, state: RolloutState) -> str:
        if wave.wave.soak_seconds:
            self.sleep(wave.wave.soak_seconds)
        unhealthy = []
        for cluster in wave.clusters:
            run = state.runs.get(cluster.name)
            if run is None or run.result not in ("succeeded", "skipped"):
                continue
            health = self._health(cluster)
            if not health.ok:
                run.result = "unhealthy"
                run.error = health.reason
                self._record(state, report, run)
                unhealthy.append(cluster.name)
        if unhealthy:
            return f"wave {wave.name}: the health gate failed for {', '.join(unhealthy)}"
        return ""
