"""The ``percona-pg-operator`` command line. The one place that turns errors into exit codes.

Each command imports what it needs when it runs: ``credentials gke|eks`` is the kubeconfigs'
exec plugin, started on every token refresh, and must not load pydantic or the models.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import defaults
from .cluster import GKE_KEY_ENV
from .errors import (
    ChartRepositoryError,
    CredentialError,
    PerconaPgOperatorError,
    StackInputError,
    internal_error_message,
)
from .exitcodes import COMMANDS, ExitCode, code_for, help_text

if TYPE_CHECKING:
    from .cluster import ClusterState
    from .manifest import Spec, StackInput


def _summary(path: str, stack_input: StackInput) -> str:
    target = stack_input.target
    spec = target.spec
    res = spec.container.resources
    provider = stack_input.provider_config.provider if stack_input.provider_config else "ambient"
    return (
        f"{path}: ok: {target.metadata.name} -> namespace {spec.namespace}"
        f"{'' if spec.create_namespace else ' (existing)'}, chart pg-operator "
        f"{spec.helm.version}, limits {res.effective_limits['cpu']}/"
        f"{res.effective_limits['memory']}, requests {res.effective_requests['cpu']}/"
        f"{res.effective_requests['memory']}, credentials {provider}"
    )


def _debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta["debug"] = True


DEBUG_OPTION = click.Option(
    ["--debug"],
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_debug,
    help="Show the traceback of an internal error.",
)


def _fail(ctx: click.Context, message: str, code: ExitCode, retryable: bool = False) -> NoReturn:
    """The one way a command ends on an error: the message on stderr and, with --output json,
    a JSON document on stdout too (scripts parse stdout); then the table's exit code."""
    if ctx.params.get("output") == "json":
        error = {"code": int(code), "name": code.name, "message": message, "retryable": retryable}
        click.echo(json.dumps({"error": error}, indent=2))
    click.echo(f"Error: {message}", err=True)
    raise click.exceptions.Exit(int(code))


class _Command(click.Command):
    """Every command: ``--debug`` (also after the command's name), its exit codes in --help, and
    the package's errors turned into a message and the table's exit code (exitcodes.py).

    Anything else is a bug: one line that says so, and the traceback only with --debug.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(DEBUG_OPTION)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerconaPgOperatorError as exc:
            _fail(ctx, str(exc), code_for(exc), exc.retryable)
        except (click.exceptions.Exit, click.UsageError):
            raise
        except click.ClickException as exc:
            # click's other errors (a file it cannot open) are about the command line; exit 1
            # means "changes" here.
            _fail(ctx, exc.format_message(), ExitCode.USAGE)
        except (KeyboardInterrupt, click.Abort):
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if ctx.meta.get("debug"):
                raise
            _fail(
                ctx,
                internal_error_message(exc, "run the same command with --debug"),
                ExitCode.INTERNAL,
            )


class _Group(click.Group):
    command_class = _Command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, click.Abort):
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED)) from None


_Group.group_class = _Group


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="percona-pg-operator")
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_debug,
    help="Show the traceback of an internal error.",
)
def cli() -> None:
    """Install and upgrade the Percona Operator for PostgreSQL with Pulumi.

    Every command's --help lists its exit codes; the README has the whole table."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--offline", is_flag=True, help="Check raw helmValues only against a cached chart package."
)
def validate(files: Sequence[str], offline: bool) -> None:
    """Validate manifests or whole stack inputs; list every problem.

    Raw helmValues are checked against the chosen chart version's values when its package is
    cached or the repository answers (only the cache with --offline); otherwise a note says they
    were not."""
    from .manifest import read_file

    failed = 0
    for path in files:
        try:
            stack_input = read_file(path)
            _check_raw_values_if_possible(path, stack_input.target.spec, offline)
            click.echo(_summary(path, stack_input))
        except StackInputError as exc:
            failed += 1
            click.echo(str(exc), err=True)
    if failed:
        raise click.exceptions.Exit(int(ExitCode.INVALID_INPUT))


def _check_raw_values_if_possible(path: str, spec: Spec, offline: bool) -> None:
    """Raw helmValues against the chosen chart's values, when the package is in the cache or the
    repository answers; else say that they were not checked."""
    from .chart import ChartRepository, chart_repo_url, check_raw_values

    if not spec.helm_values:
        return
    try:
        repository = ChartRepository(chart_repo_url(spec.helm.repo))
        if offline:
            package = repository.cached(defaults.CHART_NAME, spec.helm.version)
            if package is None:
                raise ChartRepositoryError("not in the chart cache (--offline)")
        else:
            package = repository.fetch(defaults.CHART_NAME, spec.helm.version)
    except ChartRepositoryError as exc:
        click.echo(
            f"{path}: note: spec.helmValues not checked against chart pg-operator "
            f"{spec.helm.version}, which is not available: {exc}",
            err=True,
        )
        return
    check_raw_values(spec.helm_values, package)


class _Progress:
    """A one-line download indicator on a terminal's stderr."""

    def __init__(self) -> None:
        self.active = False

    def __call__(self, url: str, done: int, total: int | None) -> None:
        name = url.rsplit("/", 1)[-1]
        amount = f"{done * 100 // total}%" if total else f"{done // 1024} KiB"
        click.echo(f"\rdownloading {name} {amount}", err=True, nl=False)
        self.active = True

    def finish(self) -> None:
        if self.active:
            click.echo("", err=True)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--chart-repo", help="Chart repository (URL or directory); overrides spec and env.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one file per object here instead of a YAML stream on stdout.",
)
def render(file: str, chart_repo: str | None, output_dir: Path | None) -> None:
    """Render everything the stack would apply, as Kubernetes YAML, without a cluster."""
    from .manifest import read_file
    from .review.render import render_stack, to_yaml, write_objects

    stack_input = read_file(file)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        objects = render_stack(stack_input, chart_repo=chart_repo, progress=progress)
    finally:
        if progress is not None:
            progress.finish()
    if output_dir is None:
        click.echo(to_yaml(objects), nl=False)
    else:
        written = write_objects(objects, output_dir)
        click.echo(f"wrote {len(written)} objects to {output_dir}", err=True)


@cli.command()
@click.option("--stack-input", is_flag=True, help="The whole stack input, not just the manifest.")
def schema(stack_input: bool) -> None:
    """Print the JSON Schema of the manifest (for editor completion and CI checks)."""
    from .manifest import json_schema

    click.echo(json.dumps(json_schema(stack_input=stack_input), indent=2))


OUTPUT = click.option(
    "--output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A table on a terminal (plain lines when piped), or JSON.",
)


def _console() -> Any:
    from rich.console import Console

    # markup=False: text from the cluster (a crVersion "[/]", an event message) is printed as
    # it is, never read as rich markup; colour comes only from Text styles set here.
    return Console(highlight=False, soft_wrap=True, markup=False)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--to", "to_version", help="Check a step to this chart version instead of the spec's."
)
@OUTPUT
def preflight(file: str, to_version: str | None, output: str) -> None:
    """Read the cluster and run the program's checks: ok / warn / fail, each with its reason."""
    from .checks.preflight import run_preflight
    from .manifest import read_file

    stack_input = read_file(file)
    report = run_preflight(stack_input, target_version=to_version)
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        console = _console()
        if console.is_terminal:
            from rich.table import Table
            from rich.text import Text

            table = Table(title=f"preflight: chart {report.target_version}")
            for column in ("status", "check", "reason"):
                table.add_column(column)
            colour = {"ok": "green", "warn": "yellow", "fail": "red"}
            for check in report.checks:
                table.add_row(
                    Text(check.status, style=colour[check.status]), check.name, check.reason
                )
            console.print(table)
        else:
            from .checks.preflight import summary_lines

            for line in summary_lines(report.checks):
                click.echo(line)
    raise click.exceptions.Exit(int(ExitCode.REFUSED if report.refused else ExitCode.OK))


def status_json(state: ClusterState, available: list[str], error: str | None) -> dict[str, Any]:
    """The `status` document; its keys are listed in the README."""
    from dataclasses import asdict

    from .versions import upgrade_steps

    release = state.release
    installed = release.chart_version if release is not None else None
    return {
        "cluster": {"server": state.server, "version": state.server_version},
        "namespace": {"exists": state.namespace_exists},
        "release": (
            None
            if release is None
            else {
                "name": release.name,
                "namespace": release.namespace,
                "chart_version": release.chart_version,
                "operator_version": release.app_version,
                "status": release.status,
                "revision": release.revision,
                "last_deployed": release.last_deployed,
            }
        ),
        "operator": (
            None
            if state.deployment is None
            else {**asdict(state.deployment), "ready": state.deployment.ready}
        ),
        "crds": [asdict(c) for c in state.crds],
        "databases": [{**asdict(d), "ready": d.ready} for d in state.databases],
        "upgrade_path": {
            "from": installed,
            "newest": upgrade_steps(None, available)[-1] if available else None,
            "steps": upgrade_steps(installed, available) if available else [],
            "error": error,
        },
    }


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@OUTPUT
def status(file: str, output: str) -> None:
    """What runs now: release, operator, CRDs, databases, and the upgrade path from here."""
    from .chart import ChartRepository, chart_repo_url
    from .cluster.read import inspect_cluster, target_package
    from .manifest import read_file

    stack_input = read_file(file)
    spec = stack_input.target.spec
    repository = ChartRepository(chart_repo_url(spec.helm.repo))
    try:
        available, error = repository.versions(defaults.CHART_NAME), None
    except ChartRepositoryError as exc:
        available, error = [], str(exc)
    state = inspect_cluster(stack_input, target_package(stack_input))
    document = status_json(state, available, error)
    if output == "json":
        click.echo(json.dumps(document, indent=2))
        return
    _print_status(document)


def _print_status(doc: dict[str, Any]) -> None:
    console = _console()
    release, operator, path = doc["release"], doc["operator"], doc["upgrade_path"]
    lines = [f"cluster    {doc['cluster']['server']} (Kubernetes {doc['cluster']['version']})"]
    if release is None:
        lines.append("release    none")
    else:
        lines.append(
            f"release    {release['name']} in {release['namespace']}: chart "
            f"{release['chart_version']} (operator {release['operator_version']}), "
            f"{release['status']}, revision {release['revision']}"
        )
    if operator is not None:
        lines.append(
            f"operator   {operator['name']} {', '.join(operator['images'])}: "
            f"{operator['ready_replicas']}/{operator['replicas']} ready"
        )
    steps = " -> ".join(path["steps"]) or "none (at the newest)"
    lines.append(f"upgrade    {path['from'] or 'not installed'}: {steps}")
    if path["error"]:
        lines.append(f"           (repository unreadable: {path['error']})")
    for line in lines:
        console.print(line)
    if console.is_terminal:
        from rich.table import Table

        crds = Table("CRD", "served", "storage", "established", title="CRDs")
        for crd in doc["crds"]:
            crds.add_row(
                crd["name"],
                ", ".join(crd["served_versions"]) or "-",
                crd["storage_version"] or "-",
                "yes" if crd["established"] else ("no" if crd["exists"] else "missing"),
            )
        databases = Table("namespace", "name", "crVersion", "state", title="PerconaPGClusters")
        for db in doc["databases"]:
            databases.add_row(db["namespace"], db["name"], db["cr_version"], db["state"])
        console.print(crds)
        console.print(databases)
        return
    for crd in doc["crds"]:
        state = "established" if crd["established"] else ("present" if crd["exists"] else "missing")
        console.print(f"crd        {crd['name']}: {state}, storage {crd['storage_version'] or '-'}")
    for db in doc["databases"]:
        console.print(
            f"database   {db['namespace']}/{db['name']}: crVersion {db['cr_version']}, "
            f"{db['state']}"
        )


@cli.command()
@click.argument("new", type=click.Path(dir_okay=False))
@click.option(
    "--against",
    "against",
    type=click.Path(dir_okay=False),
    help="Another manifest or stack input (e.g. the one on the main branch).",
)
@click.option("--live", is_flag=True, help="What is deployed now (the release and live CRDs).")
@click.option("--chart-repo", help="Chart repository (URL or directory); overrides spec and env.")
@OUTPUT
def diff(new: str, against: str | None, live: bool, chart_repo: str | None, output: str) -> None:
    """Show every object the change adds, removes or changes, with a diff of its YAML."""
    from .manifest import build_helm_values, read_file
    from .review.diff import diff_objects, live_objects, rendered_objects, sensitive_values, summary

    if (against is None) == (not live):
        raise click.UsageError("give exactly one of --against FILE or --live")
    new_input = read_file(new)
    after = rendered_objects(new_input, chart_repo)
    secrets = sensitive_values(build_helm_values(new_input.target.spec))
    if against is not None:
        old_input = read_file(against)
        before = rendered_objects(old_input, chart_repo)
        secrets |= sensitive_values(build_helm_values(old_input.target.spec))
    else:
        from .cluster.read import inspect_cluster, target_package

        state = inspect_cluster(new_input, target_package(new_input))
        before = live_objects(new_input, state)
        running = state.last_deployed or state.release
        if running is not None:
            secrets |= sensitive_values(running.values)
    changes = diff_objects(before, after, secrets)
    if output == "json":
        document = {"summary": summary(changes), "changes": [c.to_json() for c in changes]}
        click.echo(json.dumps(document, indent=2, default=str))
    else:
        from .review.diff import to_text

        click.echo(to_text(changes, colour=sys.stdout.isatty()), nl=False)
    raise click.exceptions.Exit(int(ExitCode.CHANGES if changes else ExitCode.OK))


@cli.command("upgrade-plan")
@click.option("--from", "from_version", required=True, help="The chart version running now.")
@click.option("--to", "to_version", help="The target chart version; default: the newest.")
@click.option("--chart-repo", help="Chart repository (URL or directory); default as for render.")
@OUTPUT
def upgrade_plan(
    from_version: str, to_version: str | None, chart_repo: str | None, output: str
) -> None:
    """The supported path between two chart versions, and what each step changes."""
    from .chart import ChartRepository, chart_repo_url
    from .review.plan import upgrade_plan as build_plan

    plan = build_plan(ChartRepository(chart_repo or chart_repo_url(None)), from_version, to_version)
    if output == "json":
        click.echo(json.dumps(plan, indent=2, default=str))
        return
    path = " -> ".join([plan["from"], *(step["to"] for step in plan["steps"])])
    click.echo(f"upgrade path: {path}")
    for step in plan["steps"]:
        click.echo(f"\n{step['from']} -> {step['to']}")
        crds = step["crds"]
        for name in crds["added"]:
            click.echo(f"  + CRD {name}")
        for name in crds["removed"]:
            click.echo(f"  - CRD {name} (kept in the cluster)")
        for crd in crds["changed"]:
            storage = crd["storage_version"]
            moved = (
                f", storage {storage['from']} -> {storage['to']}"
                if storage["from"] != storage["to"]
                else ""
            )
            click.echo(
                f"  ~ CRD {crd['name']}: {len(crd['fields_added'])} fields added, "
                f"{len(crd['fields_removed'])} removed"
                + (f", versions +{crd['versions_added']}" if crd["versions_added"] else "")
                + (f", versions -{crd['versions_removed']}" if crd["versions_removed"] else "")
                + moved
            )
        values = step["values"]
        for key in values["added"]:
            click.echo(f"  + value {key}")
        for key in values["removed"]:
            click.echo(f"  - value {key}")
        for change in values["changed"]:
            click.echo(f"  ~ value {change['key']}: {change['from']!r} -> {change['to']!r}")
        rbac = step["rbac"]
        if rbac["added"] or rbac["removed"]:
            click.echo(f"  RBAC: {len(rbac['added'])} rules added, {len(rbac['removed'])} removed")
        click.echo(
            f"  images: {', '.join(step['images']['from'])} -> {', '.join(step['images']['to'])}"
        )
        for warning in step["warnings"]:
            click.echo(f"  ! {warning}")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do it without asking (needed when not on a terminal).")
@click.option("--timeout", default=600, show_default=True, help="Seconds Helm may wait.")
def repair(file: str, yes: bool, timeout: int) -> None:
    """Repair a release a killed run left pending: roll back to the last deployed revision, or
    uninstall a first install that never deployed (CRDs and databases stay)."""
    from .cluster import cluster_credentials
    from .cluster.read import inspect_cluster, target_package
    from .cluster.repair import execute, plan_repair, verify_repair
    from .manifest import read_file

    stack_input = read_file(file)
    target = stack_input.target
    package = target_package(stack_input)
    plan = plan_repair(
        inspect_cluster(stack_input, package), target.release_name, target.spec.namespace
    )
    click.echo(plan.describe())
    if plan.action == "none":
        return
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("not on a terminal: run again with --yes to do it")
        if not click.confirm("Do it?"):
            click.echo("not done", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED))
    credentials = cluster_credentials(stack_input.provider_config)
    execute(plan, credentials, timeout_seconds=timeout)
    click.echo(verify_repair(plan, inspect_cluster(stack_input, package)))


@cli.group()
def fleet() -> None:
    """Roll the operator out across many clusters: plan, preview, up (in waves), status."""


def _fleet_plan_rows(plan: Any, concurrency: int) -> list[dict[str, Any]]:
    """Every cluster's preflight, run in parallel (the stack's state is not read here)."""
    from concurrent.futures import ThreadPoolExecutor

    from .checks.preflight import run_preflight

    def check(cluster: Any) -> dict[str, Any]:
        row: dict[str, Any] = {"name": cluster.name, "stack": cluster.stack}
        try:
            report = run_preflight(cluster.stack_input)
        except PerconaPgOperatorError as exc:
            unreadable = {"from": None, "to": cluster.target_version, "result": "unreadable"}
            return {**row, **unreadable, "reasons": [str(exc)]}
        result = "refused" if report.refused else "warn" if report.warnings() else "ok"
        reasons = [f"{c.name}: {c.reason}" for c in report.failures() + report.warnings()]
        versions = {"from": report.installed_version, "to": report.target_version}
        return {**row, **versions, "result": result, "reasons": reasons}

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(check, plan.clusters))


@fleet.command("plan")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option("--concurrency", default=8, show_default=True, help="Clusters checked at once.")
@OUTPUT
def fleet_plan(fleet_file: str, concurrency: int, output: str) -> None:
    """Run every cluster's preflight and show the waves, each cluster's from -> to, and who would
    be refused, before anything runs."""
    from .fleet import load_fleet

    plan = load_fleet(fleet_file)
    rows = {row["name"]: row for row in _fleet_plan_rows(plan, concurrency)}
    document: dict[str, list[dict[str, Any]]] = {
        "waves": [
            {
                "name": wave.name,
                "max_concurrent": wave.wave.max_concurrent,
                "failure_budget": wave.wave.failure_budget,
                "allowed_failures": wave.wave.allowed_failures(len(wave.clusters)),
                "failure_budget_text": wave.wave.budget_text(len(wave.clusters)),
                "soak_seconds": wave.wave.soak_seconds,
                "promotion": wave.wave.promotion,
                "clusters": [rows[c.name] for c in wave.clusters],
            }
            for wave in plan.waves
        ]
    }
    if output == "json":
        click.echo(json.dumps(document, indent=2))
    else:
        for wave in document["waves"]:
            click.echo(
                f"wave {wave['name']} (at most {wave['max_concurrent']} at once, budget "
                f"{wave['failure_budget_text']}, soak {wave['soak_seconds']} s, "
                f"{wave['promotion']})"
            )
            for row in wave["clusters"]:
                click.echo(
                    f"  {row['name']:24s} {row['from'] or 'none':>8s} -> {row['to']:8s} "
                    f"{row['result']}"
                )
                for reason in row["reasons"]:
                    click.echo(f"      {reason}")
    results = {r["result"] for r in rows.values()}
    code = (
        ExitCode.REFUSED
        if "refused" in results
        else ExitCode.UNREADABLE
        if "unreadable" in results
        else ExitCode.OK
    )
    raise click.exceptions.Exit(int(code))


def _runner(plan: Any, remote_url: str | None, remote_branch: str, remote_path: str) -> Any:
    from .fleet import AutomationRunner, RemoteSource

    remote = RemoteSource(remote_url, remote_branch, remote_path) if remote_url else None
    return AutomationRunner(
        Path(".fleet") / "workspaces", remote=remote, gate=plan.fleet.rollout.health_gate
    )


REMOTE = [
    click.option("--remote-url", help="Run on Pulumi Deployments from this git repository."),
    click.option("--remote-branch", default="refs/heads/main", show_default=True),
    click.option("--remote-path", default=".", show_default=True, help="The project's folder."),
]


def _remote(fn: Any) -> Any:
    for option in reversed(REMOTE):
        fn = option(fn)
    return fn


@fleet.command("preview")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@_remote
def fleet_preview(
    fleet_file: str, remote_url: str | None, remote_branch: str, remote_path: str
) -> None:
    """`pulumi preview` of every cluster's stack (logs in .fleet/logs)."""
    from .fleet import load_fleet

    plan = load_fleet(fleet_file)
    runner = _runner(plan, remote_url, remote_branch, remote_path)
    failed = False
    for cluster in plan.clusters:
        try:
            summary = runner.preview(
                cluster, Path(".fleet") / "logs" / f"{cluster.name}.preview.log"
            )
            click.echo(f"{cluster.name:24s} {summary}")
        except Exception as exc:  # one cluster's failure is reported, the others still run
            failed = True
            click.echo(f"{cluster.name:24s} failed: {str(exc).strip().splitlines()[-1:]}")
    raise click.exceptions.Exit(int(ExitCode.FAILED if failed else ExitCode.OK))


def _run_line(run: Any) -> str:
    seconds = f"{run.seconds:.1f}s" if run.seconds else ""
    text = (
        f"{run.cluster:24s} {run.wave:12s} {run.from_version or 'none':>8s} -> "
        f"{run.to_version:8s} {run.result:12s} {seconds}"
    )
    return text + (f"  {run.error}" if run.error else "")


def _runs_table(runs: list[Any]) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table("cluster", "wave", "from", "to", "result", "seconds", "error")
    colour = {"succeeded": "green", "skipped": "green", "not-started": "dim"}
    for run in runs:
        style = colour.get(run.result, "red")
        table.add_row(
            run.cluster,
            run.wave,
            run.from_version or "none",
            run.to_version,
            Text(run.result, style=style),
            f"{run.seconds:.1f}" if run.seconds else "",
            run.error,
        )
    return table


def _writable(path: Path, what: str) -> None:
    """Fail before anything runs when ``path`` cannot be written (the report and the state are
    written after clusters changed: that is too late to find out)."""
    from .errors import StackInputError

    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise StackInputError(
            f"{path}: the {what} cannot be written ({exc.strerror or type(exc).__name__})"
        ) from None
    if not existed:
        path.unlink()


@fleet.command("up")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option("--resume", is_flag=True, help="Continue from the state file after a stop.")
@click.option("--wave", "only_wave", help="Run only this wave.")
@click.option("--yes", is_flag=True, help="Promote manual waves without asking.")
@click.option("--force", is_flag=True, help="Run clusters already at the target and healthy.")
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report here (always written, even when the rollout stops).",
)
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
    from .fleet import Rollout, load_fleet

    plan = load_fleet(fleet_file)
    stem = Path(fleet_file).stem
    state = state_file or Path(".fleet") / f"{stem}.state.json"
    _writable(state, "rollout state file")
    if report_file is not None:
        _writable(report_file, "report")
    runner = _runner(plan, remote_url, remote_branch, remote_path)

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
                rollout.run(plan.waves, only=only_wave)
        else:
            rollout.run(plan.waves, only=only_wave)
    finally:
        # Whatever happened, what is known is written: no result is lost.
        report = rollout.report
        document = json.dumps(report.to_json(), indent=2)
        if report_file is not None:
            report_file.write_text(document)
    if live is not None:
        console.print(_runs_table(report.runs))
    if output == "json":
        click.echo(document)
    if report.stopped:
        click.echo(f"stopped: {report.stopped}", err=True)
    raise click.exceptions.Exit(int(ExitCode.FAILED if report.failed else ExitCode.OK))


@fleet.command("status")
@click.argument("fleet_file", type=click.Path(dir_okay=False))
@click.option("--state", "state_file", type=click.Path(dir_okay=False, path_type=Path))
@OUTPUT
def fleet_status(fleet_file: str, state_file: Path | None, output: str) -> None:
    """One row per cluster: installed version, health, last result."""
    from .fleet import RolloutState, cluster_health, load_fleet

    plan = load_fleet(fleet_file)
    state = RolloutState.load(state_file or Path(".fleet") / f"{Path(fleet_file).stem}.state.json")
    gate = plan.fleet.rollout.health_gate
    rows = []
    unreadable = False
    for cluster in plan.clusters:
        try:
            health = cluster_health(cluster, gate.operator_ready, gate.databases_ready)
            installed, healthy, reason = health.installed_version, health.ok, health.reason
        except PerconaPgOperatorError as exc:
            installed, healthy, reason = None, False, str(exc)
            unreadable = True
        last = state.runs.get(cluster.name)
        rows.append(
            {
                "name": cluster.name,
                "stack": cluster.stack,
                "installed": installed,
                "target": cluster.target_version,
                "healthy": healthy,
                "reason": reason,
                "last_result": last.result if last else None,
            }
        )
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            health_text = "healthy" if row["healthy"] else f"unhealthy ({row['reason']})"
            click.echo(
                f"{row['name']:24s} {row['installed'] or 'none':>8s} (target {row['target']}) "
                f"{health_text}; last: {row['last_result'] or 'never run'}"
            )
    code = (
        ExitCode.UNREADABLE
        if unreadable
        else ExitCode.UNHEALTHY
        if not all(row["healthy"] for row in rows)
        else ExitCode.OK
    )
    raise click.exceptions.Exit(int(code))


@fleet.command("schema")
def fleet_schema() -> None:
    """Print the JSON Schema of the fleet file."""
    from .fleet import Fleet

    schema = Fleet.model_json_schema(by_alias=True, mode="validation")
    click.echo(
        json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}, indent=2)
    )


@cli.group()
def credentials() -> None:
    """Credential plugins for the kubeconfigs this package writes (kubectl exec format)."""


@credentials.command("gke")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, exists=True),
    help=f"Service-account key JSON; default: the base64 key in env {GKE_KEY_ENV}.",
)
def credentials_gke(key_file: str | None) -> None:
    """Print an ExecCredential with a GKE access token minted from a service-account key."""
    from .cluster import gke_exec_credential

    if key_file is not None:
        from ._yaml import InputError, read_input

        try:  # a regular file of bounded size: never a FIFO, a device or /dev/zero
            text = read_input(key_file)
        except InputError as exc:
            raise CredentialError(f"--key-file {key_file} {exc}") from None
        key = base64.b64encode(text.encode()).decode()
    else:
        key = os.environ.get(GKE_KEY_ENV, "")
        if not key:
            raise CredentialError(f"no service-account key: set {GKE_KEY_ENV} or --key-file")
    click.echo(json.dumps(gke_exec_credential(key)))


@credentials.command("eks")
@click.option("--cluster-name", required=True)
@click.option("--region", required=True)
@click.option("--role-arn", default=None, help="Assume this role first.")
def credentials_eks(cluster_name: str, region: str, role_arn: str | None) -> None:
    """Print an ExecCredential with an EKS token for the caller's AWS identity."""
    from .cluster import eks_exec_credential

    click.echo(json.dumps(eks_exec_credential(cluster_name, region, role_arn)))


def _attach_exit_codes(group: click.Group, prefix: str = "") -> None:
    """Each command's --help ends with its exit codes (exitcodes.COMMANDS)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            _attach_exit_codes(command, f"{path} ")
        else:
            command.epilog = help_text(COMMANDS[path])


_attach_exit_codes(cli)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="percona-pg-operator")
