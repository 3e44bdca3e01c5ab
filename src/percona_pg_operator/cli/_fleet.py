"""The fleet commands: preflight, preview, up, status, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import (
    PerconaPgOperatorError,
)
from ._base import OUTPUT, SCHEMA_VERSION, _Command, _console, cli, emit_json, table
from .exitcodes import ExitCode


@cli.group()
def fleet() -> None:
    """Roll the operator out across many clusters: preflight, preview, up (in waves), status,
    destroy."""


def _preflight_rows(fleet: Any, stacks: Any, concurrency: int) -> list[dict[str, Any]]:
    """Every cluster's preflight, run in parallel, with its stack's last outputs as `fleet up`
    reads them (``fleet.cluster_preflight``, the rollout's own)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from ..chart import stack_repository, target_package
    from ..fleet import cluster_preflight

    def key(cluster: Any) -> tuple[str, str]:
        return stack_repository(cluster.stack_input).url, cluster.target_version

    # Each target chart resolved once, before the clusters are read: a fleet shares a few.
    packages: dict[tuple[str, str], Any] = {}
    for cluster in fleet.clusters:
        if key(cluster) not in packages:
            try:
                packages[key(cluster)] = target_package(
                    cluster.stack_input, stack_repository(cluster.stack_input)
                )
            except PerconaPgOperatorError as exc:
                packages[key(cluster)] = exc

    def check(cluster: Any) -> dict[str, Any]:
        row: dict[str, Any] = {"name": cluster.name, "stack": cluster.stack}
        try:
            package = packages[key(cluster)]
            if isinstance(package, PerconaPgOperatorError):
                raise package
            report = cluster_preflight(cluster, stacks, package)
        except PerconaPgOperatorError as exc:
            unreadable = {
                "running_version": None,
                "target_version": cluster.target_version,
                "result": "unreadable",
            }
            return {**row, **unreadable, "reasons": [str(exc)]}
        result = "refused" if report.refused else "warn" if report.warnings() else "ok"
        reasons = [f"{c.name}: {c.reason}" for c in report.failures() + report.warnings()]
        versions = {
            "running_version": report.running_version,
            "target_version": report.target_version,
        }
        return {**row, **versions, "result": result, "reasons": reasons}

    progress = _Counter("preflight", len(fleet.clusters)) if sys.stderr.isatty() else None
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(check, cluster) for cluster in fleet.clusters]
        if progress is not None:
            for _ in as_completed(futures):
                progress.step()
            progress.finish()
        return [future.result() for future in futures]


def _version_text(version: str | None, unread: bool) -> str:
    """A running version as shown: "none" is known to be none, "unknown" could not be read."""
    return version or ("unknown" if unread else "none")


class _Counter:
    """``preflight 37/1000 clusters`` on one line of a terminal's stderr, as work finishes."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.done = what, total, 0

    def step(self) -> None:
        self.done += 1
        click.echo(f"\r{self.what} {self.done}/{self.total} clusters", err=True, nl=False)

    def finish(self) -> None:
        if self.done:
            click.echo("", err=True)


@fleet.command("preflight")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option("--concurrency", default=8, show_default=True, help="Clusters checked at once.")
@OUTPUT
def fleet_preflight(fleet_file: str, concurrency: int, output: str) -> None:
    """Run every cluster's preflight and show the waves, each cluster's from -> to, and who would
    be refused, before anything runs."""
    from ..fleet import load_fleet

    loaded = load_fleet(fleet_file)
    # The stacks' outputs are read through the Pulumi CLI, as `fleet up` reads them.
    stacks = _runner(loaded, None, "", "")
    rows = {row["name"]: row for row in _preflight_rows(loaded, stacks, concurrency)}
    document: dict[str, list[dict[str, Any]]] = {
        "waves": [
            {
                "name": wave.name,
                "max_concurrent": wave.wave.max_concurrent,
                # "2" or "10%": one type whatever the fleet file wrote.
                "failure_budget": str(wave.wave.failure_budget),
                "allowed_failures": wave.wave.allowed_failures(len(wave.clusters)),
                "failure_budget_text": wave.wave.budget_text(len(wave.clusters)),
                "soak_seconds": wave.wave.soak_seconds,
                "promotion": wave.wave.promotion,
                "clusters": [rows[c.name] for c in wave.clusters],
            }
            for wave in loaded.waves
        ]
    }
    if output == "json":
        emit_json(document)
    else:
        import textwrap

        for wave in document["waves"]:
            click.echo(
                f"wave {wave['name']} (at most {wave['max_concurrent']} at once, budget "
                f"{wave['failure_budget_text']}, soak {wave['soak_seconds']} s, "
                f"{wave['promotion']})"
            )
            for row in wave["clusters"]:
                running = _version_text(row["running_version"], row["result"] == "unreadable")
                click.echo(
                    f"  {row['name']:24s} {running:>8s} -> {row['target_version']:8s} "
                    f"{row['result']}"
                )
                for reason in row["reasons"]:
                    click.echo(
                        textwrap.fill(reason, 79, initial_indent=" " * 6, subsequent_indent=" " * 8)
                    )
    results = {r["result"] for r in rows.values()}
    code = (
        ExitCode.REFUSED
        if "refused" in results
        else ExitCode.UNREADABLE
        if "unreadable" in results
        else ExitCode.OK
    )
    raise click.exceptions.Exit(int(code))


# `fleet plan` was this command's name in 0.1.0; "plan" now means only an upgrade plan.
fleet.add_command(
    _Command(
        "plan",
        callback=fleet_preflight.callback,
        # Its own --debug/--no-color come with the class.
        params=[p for p in fleet_preflight.params if p.expose_value],
        help="Deprecated name of `fleet preflight`.",
        hidden=True,
        deprecated=True,
    )
)


def _runner(loaded: Any, remote_url: str | None, remote_branch: str, remote_path: str) -> Any:
    from ..fleet import AutomationRunner, RemoteSource

    remote = RemoteSource(remote_url, remote_branch, remote_path) if remote_url else None
    return AutomationRunner(
        Path(".fleet") / "workspaces", remote=remote, gate=loaded.fleet.rollout.health_gate
    )


REMOTE = [
    click.option("--remote-url", help="Run on Pulumi Deployments from this git repository."),
    click.option(
        "--remote-branch",
        default="refs/heads/main",
        show_default=True,
        help="The branch of --remote-url to run.",
    ),
    click.option("--remote-path", default=".", show_default=True, help="The project's folder."),
]


def _remote(fn: Any) -> Any:
    for option in reversed(REMOTE):
        fn = option(fn)
    return fn


@fleet.command("preview")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@OUTPUT
@_remote
def fleet_preview(
    fleet_file: str, output: str, remote_url: str | None, remote_branch: str, remote_path: str
) -> None:
    """`pulumi preview` of every cluster's stack (logs in .fleet/logs)."""
    from ..fleet import load_fleet

    loaded = load_fleet(fleet_file)
    runner = _runner(loaded, remote_url, remote_branch, remote_path)
    rows: list[dict[str, Any]] = []
    for cluster in loaded.clusters:
        log = Path(".fleet") / "logs" / f"{cluster.name}.preview.log"
        row: dict[str, Any] = {"cluster": cluster.name, "stack": cluster.stack, "log": str(log)}
        try:
            row.update(ok=True, changes=runner.preview(cluster, log), error="")
        except Exception as exc:  # one cluster's failure is reported, the others still run
            last = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
            row.update(ok=False, changes={}, error=last[0])
        rows.append(row)
        if output != "json":  # each line as its preview ends
            changes = ", ".join(f"{op} {n}" for op, n in sorted(row["changes"].items()))
            click.echo(f"{cluster.name:24s} {changes if row['ok'] else 'failed: ' + row['error']}")
    if output == "json":
        emit_json({"clusters": rows})
    failed = any(not row["ok"] for row in rows)
    raise click.exceptions.Exit(int(ExitCode.FAILED if failed else ExitCode.OK))


def _run_line(run: Any) -> str:
    seconds = f"{run.seconds:.1f}s" if run.seconds else ""
    text = (
        f"{run.cluster:24s} {run.wave:12s} {run.running_version or 'none':>8s} -> "
        f"{run.target_version:8s} {run.result:12s} {seconds}"
    )
    note = run.error or run.reason
    return text + (f"  {note}" if note else "")


def _runs_table(runs: list[Any]) -> Any:
    from rich.text import Text

    made = table("cluster", "wave", "running", "target", "result", "seconds", "error")
    colour = {"succeeded": "green", "skipped": "green", "not-started": "dim"}
    for run in runs:
        style = colour.get(run.result, "red")
        made.add_row(
            run.cluster,
            run.wave,
            run.running_version or "none",
            run.target_version,
            Text(run.result, style=style),
            f"{run.seconds:.1f}" if run.seconds else "",
            run.error or run.reason,
        )
    return made


def _writable(path: Path, what: str) -> None:
    """Fail before anything runs when ``path`` cannot be written (the report and the state are
    written after clusters changed: that is too late to find out). Checked without opening
    ``path`` itself (a FIFO there would block the open): it must be a regular file or absent,
    and its folder must take a new file (the write replaces it atomically)."""
    import stat
    import tempfile

    from ..errors import OutputFileError

    reason = None
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            reason = "it is not a regular file"
    except FileNotFoundError:
        pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    if reason is None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            ):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
    if reason is not None:
        raise OutputFileError(f"{path}: the {what} cannot be written ({reason})")


STATE = click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The rollout's state file (default: .fleet/<fleet file name>.state.json).",
)
REPORT = click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report here (always written, even when the run stops).",
)


def _state_file(fleet_file: str, given: Path | None) -> Path:
    return given or Path(".fleet") / f"{Path(fleet_file).stem}.state.json"


def _report_document(report: Any, report_file: Path | None) -> dict[str, Any]:
    """The run's JSON report, also written to ``report_file`` (whatever happened)."""
    document = {"schema_version": SCHEMA_VERSION, **report.to_json()}
    if report_file is not None:
        from .._files import atomic_write

        atomic_write(report_file, json.dumps(document, indent=2).encode())
    return document


@fleet.command("up")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option("--resume", is_flag=True, help="Continue from the state file after a stop.")
@click.option("--wave", "only_wave", help="Run only this wave.")
@click.option("--yes", is_flag=True, help="Promote manual waves without asking.")
@click.option("--force", is_flag=True, help="Run clusters already at the target and healthy.")
@STATE
@REPORT
@OUTPUT
@_remote
def fleet_up(
    fleet_file: str,
    resume: bool,
    only_wave: str | None,
    yes: bool,
    force: bool,
    state_file: Path | None,
    report_file: Path | None,
    output: str,
    remote_url: str | None,
    remote_branch: str,
    remote_path: str,
) -> None:
    """Roll out wave by wave. On a terminal a live table, then the final one; piped, one line
    per cluster as it finishes and nothing else on stdout; with --output json, only the JSON
    report on stdout (the lines go to stderr).

    A cluster that failed or was refused, or a rollout that stopped early, is FAILED."""
    from ..fleet import Rollout, load_fleet

    loaded = load_fleet(fleet_file)
    state = _state_file(fleet_file, state_file)
    _writable(state, "rollout state file")
    if report_file is not None:
        _writable(report_file, "report")
    runner = _runner(loaded, remote_url, remote_branch, remote_path)

    def confirm(question: str) -> bool:
        if yes:
            return True
        return sys.stdin.isatty() and click.confirm(question, default=False)

    console = _console()
    runs: dict[str, Any] = {}
    live: Any = None
    if console.is_terminal and output == "text":
        from rich.live import Live

        live = Live(console=console, auto_refresh=False)

    def on_event(run: Any) -> None:
        runs[run.cluster] = run
        if live is None:
            click.echo(_run_line(run), err=output == "json")
        else:
            live.update(_runs_table(list(runs.values())), refresh=True)

    rollout = Rollout(
        runner,
        state,
        Path(".fleet") / "logs",
        resume=resume,
        force=force,
        confirm=confirm,
        on_event=on_event,
    )
    try:
        if live is not None:
            with live:
                rollout.run(loaded.waves, only=only_wave)
        else:
            rollout.run(loaded.waves, only=only_wave)
    finally:
        # Whatever happened, what is known is written: no result is lost.
        report = rollout.report
        document = _report_document(report, report_file)
    if live is not None:
        console.print(_runs_table(report.runs))
    if output == "json":
        emit_json(document)
    if report.stopped:
        click.echo(f"stopped: {report.stopped}", err=True)
    raise click.exceptions.Exit(int(ExitCode.FAILED if report.failed else ExitCode.OK))


@fleet.command("destroy")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option(
    "--cluster",
    "clusters",
    multiple=True,
    help="Only this cluster (repeat for more); by default every cluster of the fleet.",
)
@click.option("--yes", is_flag=True, help="Destroy without asking.")
@STATE
@REPORT
@OUTPUT
@_remote
def fleet_destroy(
    fleet_file: str,
    clusters: tuple[str, ...],
    yes: bool,
    state_file: Path | None,
    report_file: Path | None,
    output: str,
    remote_url: str | None,
    remote_branch: str,
    remote_path: str,
) -> None:
    """`pulumi destroy` of each cluster's stack, the last wave first, one at a time; the first
    failure stops the rest. What each stack keeps in its cluster stays (the CRDs, the
    databases, the namespace unless deleteNamespaceOnDestroy). Asks first, unless --yes.

    The same report and state file as `fleet up`: a cluster destroyed is `destroyed`, and a
    later `fleet up` installs it again."""
    from ..fleet import Rollout, load_fleet

    loaded = load_fleet(fleet_file)
    names = set(clusters) or {c.name for c in loaded.clusters}
    state = _state_file(fleet_file, state_file)
    _writable(state, "rollout state file")
    if report_file is not None:
        _writable(report_file, "report")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("--yes is needed where there is no terminal to ask on")
        question = f"destroy the stacks of {len(names)} cluster(s): {', '.join(sorted(names))}?"
        if not click.confirm(question, default=False):
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED))
    runner = _runner(loaded, remote_url, remote_branch, remote_path)
    rollout = Rollout(
        runner,
        state,
        Path(".fleet") / "logs",
        on_event=lambda run: click.echo(_run_line(run), err=output == "json"),
    )
    try:
        rollout.destroy(loaded.waves, only=clusters)
    finally:
        report = rollout.report
        document = _report_document(report, report_file)
    if output == "json":
        emit_json(document)
    if report.stopped:
        click.echo(f"stopped: {report.stopped}", err=True)
    raise click.exceptions.Exit(int(ExitCode.FAILED if report.failed else ExitCode.OK))


@fleet.command("status")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@STATE
@OUTPUT
def fleet_status(fleet_file: str, state_file: Path | None, output: str) -> None:
    """One row per cluster: running version, health, last result."""
    from ..fleet import RolloutState, cluster_health, load_fleet

    loaded = load_fleet(fleet_file)
    state = RolloutState.load(_state_file(fleet_file, state_file))
    gate = loaded.fleet.rollout.health_gate
    rows: list[dict[str, Any]] = []
    unreadable = False
    for cluster in loaded.clusters:
        read = True
        try:
            health = cluster_health(cluster, gate.operator_ready, gate.databases_ready)
            running, healthy, reason = health.running_version, health.ok, health.reason
        except PerconaPgOperatorError as exc:
            running, healthy, reason = None, False, str(exc)
            unreadable, read = True, False
        last = state.runs.get(cluster.name)
        rows.append(
            {
                "name": cluster.name,
                "stack": cluster.stack,
                "running_version": running,
                "target_version": cluster.target_version,
                "healthy": healthy,
                "reason": reason,
                # The cluster could not be read: running_version null means unknown, not none.
                "unreadable": not read,
                "last_result": last.result if last else None,
                # Taken down by `fleet destroy`, and no operator runs: as it should be, so
                # not unhealthy (no exit 8 for it).
                "destroyed": bool(read and running is None and last and last.result == "destroyed"),
            }
        )
    if output == "json":
        emit_json({"clusters": rows})
    else:
        import textwrap

        for row in rows:
            shown = _version_text(row["running_version"], row["unreadable"])
            health_text = (
                "destroyed" if row["destroyed"] else "healthy" if row["healthy"] else "unhealthy"
            )
            result = row["last_result"] or "never run"
            click.echo(
                f"{row['name'][:24]:24s} {shown:>8s} -> {row['target_version']:8s} "
                f"{health_text:9s} last: {result}"
            )
            if not row["healthy"] and not row["destroyed"] and row["reason"]:
                indent = " " * 4
                reason = textwrap.fill(
                    row["reason"], 79, initial_indent=indent, subsequent_indent=indent
                )
                click.echo(reason)
    code = (
        ExitCode.UNREADABLE
        if unreadable
        else ExitCode.UNHEALTHY
        if not all(row["healthy"] or row["destroyed"] for row in rows)
        else ExitCode.OK
    )
    raise click.exceptions.Exit(int(code))


@fleet.command("schema")
def fleet_schema() -> None:
    """Print the JSON Schema of the fleet file."""
    from ..fleet import Fleet

    schema = Fleet.model_json_schema(by_alias=True, mode="validation")
    click.echo(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}, indent=2)
    )
