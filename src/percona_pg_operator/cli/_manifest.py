"""The commands that read manifests only: validate, render, schema."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .. import defaults
from ..errors import (
    ChartRepositoryError,
    Problem,
    StackInputError,
)
from ._base import OUTPUT, RepoUrl, cli, emit_json
from .exitcodes import ExitCode

if TYPE_CHECKING:
    from ..manifest import Spec, StackInput


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


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--offline", is_flag=True, help="Check raw helmValues only against a cached chart package."
)
@OUTPUT
def validate(files: Sequence[str], offline: bool, output: str) -> None:
    """Validate manifests or whole stack inputs; list every problem, each under its file.

    Raw helmValues are checked against the chosen chart version's values when its package is
    cached or the repository answers (only the cache with --offline); otherwise a note says they
    were not."""
    from ..manifest import read_file

    results: list[dict[str, Any]] = []
    for path in files:
        result: dict[str, Any] = {"file": path, "valid": True, "problems": [], "notes": []}
        try:
            stack_input = read_file(path)
            notes = [
                _check_chart_version(stack_input.target.spec, offline),
                _check_raw_values_if_possible(stack_input.target.spec, offline),
            ]
            result["notes"] += [note for note in notes if note]
            result["summary"] = _summary(path, stack_input)
        except StackInputError as exc:
            # The chart's own check of helmValues too, in the same pass, when the schema's
            # problems leave the version and the values readable.
            extra = _raw_values_problems_anyway(path, exc, offline)
            if extra:
                exc = StackInputError(exc.summary, [*exc.problems, *extra])
            # Each error under its file, also one the chart's values raised (which names a
            # spec path only).
            problems = [{"path": p.path, "message": p.message} for p in exc.problems]
            result.update(valid=False, error=_under(path, exc.summary), problems=problems)
            result["text"] = _under(path, str(exc))
        results.append(result)
    invalid = [r for r in results if not r["valid"]]
    if output == "json":
        files_json = [{k: v for k, v in r.items() if k != "text"} for r in results]
        emit_json({"valid": not invalid, "files": files_json})
    else:
        for r in results:
            for note in r["notes"]:
                click.echo(f"{r['file']}: note: {note}", err=True)
            if r["valid"]:
                click.echo(r["summary"])
            else:
                click.echo(r["text"], err=True)
    if invalid:
        raise click.exceptions.Exit(int(ExitCode.INVALID_INPUT))


def _under(path: str, text: str) -> str:
    """An error's text under the file it belongs to."""
    return text if text.startswith(path) else f"{path}: {text}"


def _check_chart_version(spec: Spec, offline: bool) -> str | None:
    """Refuse a chart version outside the support table, or one the repository does not list
    (Percona's repository: the versions bundled here, no network); a note when the list cannot
    be read (a mirror with --offline, or no answer)."""
    from ..chart import BUNDLED, ChartRepository, chart_repo_url
    from ..chart._bundled import is_percona_repo
    from ..errors import Problem
    from ..versions import support_problem

    version = spec.helm.version
    problem = support_problem(version)
    repo = chart_repo_url(spec.helm.repo)
    if problem is None:
        listed: list[str] | None = None
        if is_percona_repo(repo):
            listed = list(BUNDLED)
        elif offline and not ChartRepository(repo).is_local:
            return f"spec.helm.version {version}: not checked against {repo} (--offline)"
        else:
            try:
                listed = ChartRepository(repo).versions(defaults.CHART_NAME)
            except ChartRepositoryError as exc:
                return f"spec.helm.version {version}: not checked against {repo}: {exc}"
        if version not in listed:
            problem = f"chart {version} is not in {repo} (it lists: {', '.join(listed) or 'none'})"
    if problem is None:
        return None
    raise StackInputError(
        "invalid stack input", [Problem("spec.helm.version", problem, repr(version))]
    )


def _raw_values_problems_anyway(path: str, exc: StackInputError, offline: bool) -> list[Problem]:
    """helmValues checked against the chart of a file the schema refused for something else:
    read from its YAML as written, when its chart version and helmValues are readable and the
    package is at hand; nothing otherwise (the schema's problems already say what to fix)."""
    from .. import _yaml
    from ..chart import ChartRepository, chart_repo_url, raw_values_problems
    from ..manifest import show_value

    if any(p.path.startswith(("spec.helm", "target.spec.helm")) for p in exc.problems):
        return []
    try:
        document = _yaml.load_input(_yaml.read_input(path))
    except _yaml.InputError:
        return []
    target = document.get("target", document) if isinstance(document, dict) else None
    spec = target.get("spec") if isinstance(target, dict) else None
    helm = (spec.get("helm") if isinstance(spec, dict) else None) or {}
    raw = spec.get("helmValues") if isinstance(spec, dict) else None
    version = helm.get("version", defaults.CHART_VERSION) if isinstance(helm, dict) else None
    repo = helm.get("repo") if isinstance(helm, dict) else None
    if not raw or not isinstance(raw, dict) or not isinstance(version, str):
        return []
    try:
        repository = ChartRepository(chart_repo_url(repo if isinstance(repo, str) else None))
        package = (
            repository.cached(defaults.CHART_NAME, version)
            if offline
            else repository.fetch(defaults.CHART_NAME, version)
        )
    except (ChartRepositoryError, StackInputError):
        return []
    if package is None:
        return []
    where = "target.spec" if document is not target else "spec"
    return [
        Problem(
            ".".join((where, *p.loc)),
            p.message,
            None if p.value is None else show_value(p.value),
        )
        for p in raw_values_problems(raw, package)
    ]


def _check_raw_values_if_possible(spec: Spec, offline: bool) -> str | None:
    """Raw helmValues against the chosen chart's values, when the package is in the cache or the
    repository answers; else the note that they were not checked."""
    from ..chart import ChartRepository, chart_repo_url, check_raw_values

    if not spec.helm_values:
        return None
    try:
        repository = ChartRepository(chart_repo_url(spec.helm.repo))
        if offline:
            package = repository.cached(defaults.CHART_NAME, spec.helm.version)
            if package is None:
                raise ChartRepositoryError("not in the chart cache (--offline)")
        else:
            package = repository.fetch(defaults.CHART_NAME, spec.helm.version)
    except ChartRepositoryError as exc:
        return (
            f"spec.helmValues not checked against chart pg-operator {spec.helm.version}, which "
            f"is not available: {exc}"
        )
    check_raw_values(spec.helm_values, package)
    return None


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--chart-repo",
    type=RepoUrl(),
    help="Chart repository (URL or directory); overrides spec and env.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "Write one file per object here instead of a YAML stream on stdout; replaces what an "
        "earlier render wrote there, refuses a folder holding other files."
    ),
)
def render(file: str, chart_repo: str | None, output_dir: Path | None) -> None:
    """Render everything the stack would apply, as Kubernetes YAML, without a cluster."""
    from ..manifest import read_file
    from ..review.render import render_stack, to_yaml, write_objects

    stack_input = read_file(file)
    objects = render_stack(stack_input, chart_repo=chart_repo)
    if output_dir is None:
        click.echo(to_yaml(objects), nl=False)
    else:
        written = write_objects(objects, output_dir)
        click.echo(f"wrote {len(written)} objects to {output_dir}", err=True)


@cli.command()
@click.option("--stack-input", is_flag=True, help="The whole stack input, not just the manifest.")
def schema(stack_input: bool) -> None:
    """Print the JSON Schema of the manifest (for editor completion and CI checks)."""
    from ..manifest import json_schema

    click.echo(json.dumps(json_schema(stack_input=stack_input), indent=2))
