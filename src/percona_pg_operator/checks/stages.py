"""The deploy path's stages that need no Pulumi, each once, each handing its result on:

1. :func:`prepare`: stack input → the chart repository, the verified and staged chart, the Helm
   values, the credentials the resources deploy with (the only place each is worked out);
2. :func:`observe`: the cluster those credentials reach, read only, once (or why not);
3. :func:`decide`: one pure function over what was prepared and read: the running version,
   the verdict, the warnings, the databases that were ready, the namespace to take back.

The deploy layer registers from the :class:`Decision`, and the command line's ``preflight``
and the fleet decide through the same :func:`decide`, so a check means the same everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..chart import ChartRepository, ChartSource, resolve_chart, stack_repository
from ..cluster import ClusterCredentials, ClusterState, cluster_credentials
from ..cluster.read import inspect_cluster
from ..errors import (
    ClusterError,
    PerconaPgOperatorError,
    PreflightRefusedError,
    UpgradeGuardError,
)
from ..manifest import StackInput, build_helm_values
from ..versions import check_transition, crosses_api_group_move
from .preflight import PREFLIGHT_ENV, Preflight, StackState, evaluate, preflight_enabled


@dataclass(frozen=True)
class Prepared:
    """What a stack input turns into before the cluster is read."""

    stack_input: StackInput
    repository: ChartRepository
    chart: ChartSource
    values: dict[str, Any]
    # The credentials the resources deploy with; None when they deploy through a provider the
    # caller made and no provider_config says which cluster that is (they cannot be known).
    credentials: ClusterCredentials | None
    environ: Mapping[str, str] | None = None


def prepare(
    stack_input: StackInput,
    *,
    chart_repo: str | None = None,
    cache_dir: Path | None = None,
    project_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    callers_provider: bool = False,
) -> Prepared:
    """Resolve everything the stack input names, once. ``callers_provider``: the resources
    deploy through a provider the caller gave; its credentials are then those of
    ``provider_config`` when given, else unknown (never the ambient kubeconfig's)."""
    spec = stack_input.target.spec
    repository = stack_repository(stack_input, environ, chart_repo=chart_repo, cache_dir=cache_dir)
    chart = resolve_chart(
        repository,
        spec.helm.version,
        spec.helm.manage_crds,
        spec.helm_values,
        project_dir=project_dir,
        importing=spec.adopt.release,
    )
    config = stack_input.provider_config
    credentials = (
        cluster_credentials(config, environ) if config is not None or not callers_provider else None
    )
    return Prepared(
        stack_input=stack_input,
        repository=repository,
        chart=chart,
        values=build_helm_values(spec),
        credentials=credentials,
        environ=environ,
    )


@dataclass(frozen=True)
class Observed:
    """The read: what the cluster showed, or why it was not read, or the error it gave."""

    state: ClusterState | None = None
    # Why nothing was read on purpose: "preflight=False", "PERCONA_PG_OPERATOR_PREFLIGHT=off",
    # or "credentials" (a caller's provider whose cluster is unknown).
    skipped: str | None = None
    error: ClusterError | None = None


NO_CREDENTIALS = "credentials"


def observe(
    prepared: Prepared, preflight: bool | None, *, review: bool = False, **client_options: Any
) -> Observed:
    """Read the cluster the resources deploy to, with exactly their credentials, once; or say
    why not. ``preflight``: None follows the environment switch, False opts out. ``review``:
    also what the diff inside the release compares (a preview's): each CRD's whole object, and
    the CRDs of the running chart the target drops."""
    if preflight is False:
        return Observed(skipped="preflight=False")
    if preflight is None and not preflight_enabled(prepared.environ):
        return Observed(skipped=f"{PREFLIGHT_ENV}=off")
    if prepared.credentials is None:
        return Observed(skipped=NO_CREDENTIALS)
    crds = prepared.chart.crds
    try:
        state = inspect_cluster(
            prepared.stack_input,
            credentials=prepared.credentials,
            crd_names=crds.names if crds is not None else None,
            environ=prepared.environ,
            running_crds=review,
            raw_crds=review,
            **client_options,
        )
    except ClusterError as exc:
        return Observed(error=exc)
    return Observed(state=state)


@dataclass(frozen=True)
class Decision:
    """The verdict on one change, and what the registration and the verification need."""

    target_version: str
    running_version: str | None
    # The refusal, as the error it is (the upgrade guard's or the preflight's); None when the
    # change may go ahead.
    refusal: PerconaPgOperatorError | None = None
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # The PerconaPGClusters ("namespace/name") that must be ready again after the change.
    ready_databases: tuple[str, ...] = ()
    migrate_api_group: bool = False
    # The namespace exists, carries exactly this manifest's labels, and this stack's state does
    # not record it: left by this manifest's earlier stack (destroy keeps it); take it back.
    reclaim_namespace: bool = False
    # The Release keeps the chart reference its state records (a repository, as
    # project-planton's module installs it): see ``_keeps_release_source``.
    keep_release_source: bool = False
    # The preflight's report, when the cluster was read.
    report: Preflight | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def _no_credentials_message() -> str:
    return (
        "the live checks need the credentials the resources deploy with, and a provider given "
        "in the resource options does not show them: give provider_config for the same "
        "cluster, or preflight=False to deploy without the live checks (the ambient "
        "kubeconfig is never read in its place: it may be another cluster)"
    )


def _keeps_release_source(prepared: Prepared, stack: StackState | None) -> bool:
    """Whether the Release keeps the chart reference its state records rather than take this
    run's verified package: only while that reference is a repository (project-planton's Go
    module installs `pg-operator` from Percona's URL; this package never does) and the
    version and values are the ones recorded. Fetching the same chart another way is no reason
    for a Helm upgrade (a new revision, and Helm's hooks); the first step to another version or
    values installs from the verified package, and the stack keeps that from then on."""
    stored = stack.release if stack is not None else None
    return (
        stored is not None
        and stored.repository is not None
        and stored.version == prepared.chart.package.version
        and dict(stored.values) == dict(prepared.values)
    )


def decide(
    prepared: Prepared,
    observed: Observed,
    *,
    stack: StackState | None,
    dry_run: bool,
    running_hint: str | None = None,
    ready_hint: tuple[str, ...] = (),
) -> Decision:
    """The one decision of a run. Pure: no I/O, no clock.

    ``stack``: what this stack exported on its last update (None where unknown, for a
    component outside the stack program). ``running_hint``: the version the caller believes
    runs; used only where the cluster was not read, and never for the owner check.
    ``dry_run``: a preview, where an unreadable cluster is a warning rather than a refusal
    (unless managed CRDs make the preview itself impossible).
    """
    stack_input = prepared.stack_input
    spec = stack_input.target.spec
    package = prepared.chart.package
    target = package.version
    warnings: list[str] = []
    notes: list[str] = []
    keep_source = _keeps_release_source(prepared, stack)
    if keep_source:
        assert stack is not None and stack.release is not None
        notes.append(
            f"the Release keeps the chart it was installed with ({stack.release.chart} "
            f"{target} from {stack.release.repository}): same version, same values, so no Helm "
            "upgrade; the next change of either installs from the verified package"
        )

    if observed.state is not None:
        report = evaluate(stack_input, observed.state, package, stack=stack)
        warnings += [f"preflight {c.name}: {c.reason}" for c in report.warnings()]
        running = report.running_version
        if running_hint and running_hint != running:
            notes.append(
                f"running_version {running_hint} is a hint: the cluster shows "
                f"{running or 'no release'}, which the checks use"
            )
        state = observed.state
        ready = ready_hint or tuple(f"{d.namespace}/{d.name}" for d in state.databases if d.ready)
        return Decision(
            target_version=target,
            running_version=running,
            refusal=PreflightRefusedError(report.refusal_message()) if report.refused else None,
            warnings=tuple(warnings),
            notes=tuple(notes),
            ready_databases=ready,
            migrate_api_group=_crosses(running, target),
            reclaim_namespace=_reclaims(stack_input, state, stack),
            keep_release_source=keep_source,
            report=report,
        )

    # Not read: from the stack's state, else the hint.
    if observed.error is not None:
        reason = str(observed.error)
        if not dry_run:
            return _refused(
                target, PreflightRefusedError(f"preflight: cannot read the cluster: {reason}")
            )
        warnings.append(
            f"preflight: cannot read the cluster ({reason}); the preview goes on with the "
            "stack's state, and an update will stop until the cluster can be read"
        )
    elif observed.skipped == NO_CREDENTIALS:
        if not dry_run:
            return _refused(
                target, PreflightRefusedError(f"preflight: {_no_credentials_message()}")
            )
        warnings.append(f"preflight skipped at preview: {_no_credentials_message()}")
    elif observed.skipped is not None:
        warnings.append(
            f"{observed.skipped}: the live cluster is not checked; the upgrade guard uses "
            + ("the stack's state only" if stack is not None else "running_version only")
        )
    running = running_hint
    if stack is not None and stack.recorded_version is not None:
        running = stack.recorded_version
        if stack.deployed_by_upstream:
            notes.append(
                "this stack's outputs name a namespace but no chart_version: it was deployed "
                "by project-planton's Go module, which installs chart "
                f"{stack.recorded_version}; the upgrade guard starts from that version"
            )
    helm = spec.helm
    try:
        check_transition(
            running,
            target,
            allow_unsafe=helm.allow_unsafe_upgrade,
            acknowledged=helm.acknowledge_irreversible,
        )
    except UpgradeGuardError as exc:
        return _refused(target, exc, running)
    return Decision(
        target_version=target,
        running_version=running,
        warnings=tuple(warnings),
        notes=tuple(notes),
        ready_databases=ready_hint,
        migrate_api_group=_crosses(running, target),
        keep_release_source=keep_source,
    )


def _refused(target: str, refusal: PerconaPgOperatorError, running: str | None = None) -> Decision:
    return Decision(target_version=target, running_version=running, refusal=refusal)


def _crosses(running: str | None, target: str) -> bool:
    try:
        return crosses_api_group_move(running, target)
    except UpgradeGuardError:
        return False


def _reclaims(stack_input: StackInput, state: ClusterState, stack: StackState | None) -> bool:
    spec = stack_input.target.spec
    return (
        spec.create_namespace
        and not spec.adopt.namespace
        and state.namespace_exists
        and (stack is None or stack.namespace != spec.namespace)
        and stack_input.target.owns_namespace(state.namespace_labels)
    )
