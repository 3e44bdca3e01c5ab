"""The commands that read a cluster: preflight, status, diff, upgrade-plan, repair."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from .. import defaults
from ..errors import (
    ChartRepositoryError,
)
from ._base import OUTPUT, _console, cli, colour_wanted, emit_json, table
from ._target import STACK, cluster_flags, read_target
from .exitcodes import ExitCode

if TYPE_CHECKING:
    from ..cluster import ClusterState


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@STACK
@click.option(
    "--to", "target_version", help="Check a step to this chart version instead of the spec's."
)
@cluster_flags
@OUTPUT
def preflight(
    file: str | None,
    stack_name: str | None,
    target_version: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    output: str,
) -> None:
    """Read the cluster and run the program's checks: ok / warn / fail, each with its reason."""
    from ..checks.preflight import run_preflight

    stack_input, environ, stack = read_target(
        file, kubeconfig, kube_context, chart_repo, stack_name
    )
    report = run_preflight(stack_input, target_version=target_version, stack=stack, environ=environ)
    if output == "json":
        emit_json(report.to_json())
    else:
        console = _console()
        if console.is_terminal:
            console.print(preflight_table(report))
        else:
            from ..checks.preflight import summary_lines

            for line in summary_lines(report.checks):
                click.echo(line)
    raise click.exceptions.Exit(int(ExitCode.REFUSED if report.refused else ExitCode.OK))


def preflight_table(report: Any) -> Any:
    from rich.text import Text

    made = table("status", "check", "reason", title=f"preflight: chart {report.target_version}")
    colour = {"ok": "green", "warn": "yellow", "fail": "red"}
    for check in report.checks:
        made.add_row(Text(check.status, style=colour[check.status]), check.name, check.reason)
    return made


def status_json(
    state: ClusterState, available: list[str], error: str | None, raw: bool = False
) -> dict[str, Any]:
    """The `status` document; its keys are listed in the README. Each CRD's whole object (1.3
    MB for chart 3.0's) only with ``raw``."""
    from dataclasses import asdict, fields

    from ..errors import UpgradeGuardError
    from ..versions import upgrade_steps

    release = state.release
    running = release.chart_version if release is not None else None
    try:
        newest = upgrade_steps(None, available)[-1] if available else None
        steps = upgrade_steps(running, available) if available else []
    except UpgradeGuardError as exc:  # a release whose chart version is not one: said, not 4
        newest, steps, error = None, [], error or str(exc)
    crds = [
        {f.name: getattr(c, f.name) for f in fields(c) if raw or f.name != "raw"}
        for c in state.crds
    ]
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
        "crds": crds,
        "databases": [{**asdict(d), "ready": d.ready} for d in state.databases],
        "upgrade_path": {"from": running, "newest": newest, "steps": steps, "error": error},
    }


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@STACK
@cluster_flags
@click.option("--raw", is_flag=True, help="With -o json: each CRD's whole live object too.")
@OUTPUT
def status(
    file: str | None,
    stack_name: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    raw: bool,
    output: str,
) -> None:
    """What runs now: release, operator, CRDs, databases, and the upgrade path from here."""
    from ..chart import stack_repository
    from ..cluster.read import inspect_cluster

    stack_input, environ, _ = read_target(file, kubeconfig, kube_context, chart_repo, stack_name)
    repository = stack_repository(stack_input, environ)
    try:
        available, error = repository.versions(defaults.CHART_NAME), None
    except ChartRepositoryError as exc:
        available, error = [], str(exc)
    state = inspect_cluster(stack_input, environ=environ, raw_crds=raw)
    document = status_json(state, available, error, raw=raw)
    if output == "json":
        emit_json(document)
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
        crds = table("CRD", "served", "storage", "established", title="CRDs")
        for crd in doc["crds"]:
            crds.add_row(
                crd["name"],
                ", ".join(crd["served_versions"]) or "-",
                crd["storage_version"] or "-",
                "yes" if crd["established"] else ("no" if crd["exists"] else "missing"),
            )
        databases = table("namespace", "name", "crVersion", "state", title="PerconaPGClusters")
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
@click.option(
    "--full", is_flag=True, help="Each CRD's whole diff too (by default: the fields that change)."
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=200),
    default=None,
    help="Text output: at most this many bytes, the summary and the workloads first (a pull "
    "request comment holds 65,536 characters).",
)
@cluster_flags
@OUTPUT
def diff(
    new: str,
    against: str | None,
    live: bool,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    output: str,
    full: bool = False,
    max_bytes: int | None = None,
) -> None:
    """Show every object the change adds, removes or changes: a summary first, then a diff of
    each object's YAML, workloads first and CRDs last."""
    from ..manifest import build_helm_values, read_file
    from ..review.diff import (
        diff_objects,
        live_objects,
        rendered_objects,
        sensitive_values,
        summary,
    )
    from ..review.render import fetch_package

    if (against is None) == (not live):
        raise click.UsageError("give exactly one of --against FILE or --live")
    if not live and (kubeconfig or kube_context):
        raise click.UsageError("--kubeconfig and --context read the cluster: use them with --live")
    new_input, environ, _ = read_target(new, kubeconfig, kube_context, chart_repo)
    package = fetch_package(new_input, chart_repo=chart_repo)
    after = rendered_objects(new_input, package=package)
    secrets = sensitive_values(build_helm_values(new_input.target.spec))
    if against is not None:
        old_input = read_file(against)
        # The same chart on both sides is resolved once.
        same = _chart_of(old_input, chart_repo) == _chart_of(new_input, chart_repo)
        old_package = package if same else fetch_package(old_input, chart_repo=chart_repo)
        before = rendered_objects(old_input, package=old_package)
        secrets |= sensitive_values(build_helm_values(old_input.target.spec))
    else:
        from ..cluster.read import inspect_cluster

        state = inspect_cluster(new_input, environ=environ, running_crds=True, raw_crds=True)
        before = live_objects(new_input, state)
        running = state.last_deployed or state.release
        if running is not None:
            secrets |= sensitive_values(running.values)
    changes = diff_objects(before, after, secrets)
    if output == "json":
        document = {"summary": summary(changes), "changes": [c.to_json() for c in changes]}
        emit_json(document)
    else:
        from ..review.diff import clip, to_text

        coloured = colour_wanted(sys.stdout.isatty()) and max_bytes is None
        text = clip(to_text(changes, colour=coloured, full=full), max_bytes)
        click.echo(text, nl=False, color=coloured)
    raise click.exceptions.Exit(int(ExitCode.CHANGES if changes else ExitCode.OK))


def _chart_of(stack_input: Any, chart_repo: str | None) -> tuple[str, str]:
    """The repository and version a stack input's chart comes from."""
    from ..chart import chart_repo_url

    helm = stack_input.target.spec.helm
    return chart_repo or chart_repo_url(helm.repo), helm.version


@cli.command("upgrade-plan")
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@STACK
@click.option(
    "--from",
    "running_version",
    help="The chart version running now; default with FILE: the live release's.",
)
@click.option(
    "--to",
    "target_version",
    help="The target chart version; default: FILE's spec.helm.version, else the newest.",
)
@cluster_flags
@OUTPUT
def upgrade_plan(
    file: str | None,
    stack_name: str | None,
    running_version: str | None,
    target_version: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    output: str,
) -> None:
    """The supported path between two chart versions, and what each step changes.

    With FILE (a manifest or stack input) the path starts at the version the cluster's release
    runs and ends at the manifest's, from the manifest's chart repository."""
    from ..chart import ChartRepository, chart_repo_url
    from ..review.plan import upgrade_plan as build_plan

    if file is None and stack_name is None:
        if running_version is None:
            raise click.UsageError(
                "give FILE or --stack (to read the running version), or --from VERSION"
            )
        if kubeconfig or kube_context:
            raise click.UsageError("--kubeconfig and --context read FILE's cluster: give FILE")
        repository = ChartRepository(chart_repo or chart_repo_url(None))
    else:
        from ..chart import stack_repository
        from ..cluster.read import inspect_cluster

        stack_input, environ, _ = read_target(
            file, kubeconfig, kube_context, chart_repo, stack_name
        )
        repository = stack_repository(stack_input, environ)
        target_version = target_version or stack_input.target.spec.helm.version
        if running_version is None:
            release = inspect_cluster(stack_input, environ=environ).release
            if release is None or not release.chart_version:
                raise click.UsageError(
                    f"no release {stack_input.target.release_name} runs in namespace "
                    f"{stack_input.target.spec.namespace}, so there is nothing to plan from: "
                    "give --from VERSION"
                )
            running_version = release.chart_version
    plan = build_plan(repository, running_version, target_version)
    if output == "json":
        emit_json(plan)
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
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@STACK
@click.option("--yes", is_flag=True, help="Do it without asking (needed when not on a terminal).")
@click.option("--timeout", default=600, show_default=True, help="Seconds Helm may wait.")
@cluster_flags
@OUTPUT
def repair(
    file: str | None,
    stack_name: str | None,
    yes: bool,
    timeout: int,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    output: str,
) -> None:
    """Repair a release a killed run left pending: roll back to the last deployed revision, or
    uninstall a first install that never deployed (CRDs and databases stay)."""
    from ..cluster import cluster_credentials
    from ..cluster.read import inspect_cluster
    from ..cluster.repair import confirm_repair, decide_repair, execute

    stack_input, environ, _ = read_target(file, kubeconfig, kube_context, chart_repo, stack_name)
    target = stack_input.target
    # Read only the cluster: no chart is needed to repair a release, so none is fetched.
    plan = decide_repair(
        inspect_cluster(stack_input, environ=environ), target.release_name, target.spec.namespace
    )
    document: dict[str, Any] = {
        "action": plan.action,
        "release": plan.release,
        "namespace": plan.namespace,
        "revision": plan.revision,
        "reason": plan.reason,
        "done": False,
        "result": None,
    }
    if output == "json":
        if plan.action == "none":
            emit_json(document)
            return
    else:
        click.echo(plan.describe())
    if plan.action == "none":
        return
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("not on a terminal: run again with --yes to do it")
        if not click.confirm("Do it?"):
            click.echo("not done", err=True)
            raise click.exceptions.Exit(int(ExitCode.INTERRUPTED))
    credentials = cluster_credentials(stack_input.provider_config, environ)
    execute(plan, credentials, timeout_seconds=timeout)
    result = confirm_repair(plan, inspect_cluster(stack_input, environ=environ))
    if output == "json":
        emit_json({**document, "done": True, "result": result})
    else:
        click.echo(result)
