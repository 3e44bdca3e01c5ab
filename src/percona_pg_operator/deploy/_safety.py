"""The component's own safety: before it registers anything, it reads the live cluster (read
only), runs the preflight's checks, and takes the version running now and the databases that
were ready from what the cluster shows, so that every program using the component gets the
same refusals as the stack program, not only the one that passes the running version by hand.

When the cluster cannot be read, an update stops, and so does a preview of managed CRDs (their
ConfigGroup cannot be previewed without the cluster); any other preview warns and goes on with
the stack's state. ``preflight=False`` (or ``PERCONA_PG_OPERATOR_PREFLIGHT=off``) skips the live
checks and says so in one warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ..chart import ChartPackage, ChartRepository
from ..checks.preflight import PREFLIGHT_ENV, StackState, evaluate, preflight_enabled
from ..cluster import ClusterState
from ..cluster.read import inspect_cluster
from ..errors import ClusterError, PreflightRefusedError, RenderError
from ..manifest import StackInput
from ..review.diff import release_change, summary, to_text


class PreflightRefusal(PreflightRefusedError, pulumi.RunError):
    """A refusal Pulumi shows as a plain message, without a traceback."""


@dataclass(frozen=True)
class Live:
    """What the cluster showed, read once before the component registers anything."""

    state: ClusterState
    package: ChartPackage


def read_live(
    stack_input: StackInput,
    package: ChartPackage,
    preflight: bool | None,
    environ: Mapping[str, str] | None = None,
    repository: ChartRepository | None = None,
) -> Live | None:
    """The cluster as it is, or None when the preflight is off or (at preview) the cluster
    cannot be read; an update stops when it cannot be read. ``package`` is the run's one
    resolved chart package."""
    if preflight is False or (preflight is None and not preflight_enabled(environ)):
        switch = "preflight=False" if preflight is False else f"{PREFLIGHT_ENV}=off"
        pulumi.log.warn(
            f"{switch}: the live cluster is not checked; the upgrade guard uses the stack's "
            "state only"
        )
        return None
    try:
        return Live(inspect_cluster(stack_input, package, environ, repository), package)
    except ClusterError as exc:
        if not pulumi.runtime.is_dry_run():
            raise PreflightRefusal(f"preflight: cannot read the cluster: {exc}") from None
        if stack_input.target.spec.helm.manage_crds:
            # pulumi-kubernetes refuses to construct a yaml/v2 ConfigGroup, preview or not,
            # while its cluster is unreachable (Construct in provider/pkg/provider/
            # provider_construct.go, v4.25.0): the preview would fail on the CRDs with the
            # provider's error, so it stops here with the reason instead.
            raise PreflightRefusal(
                f"preflight: cannot read the cluster ({exc}); the preview stops: the managed "
                "CRDs are applied through pulumi-kubernetes' yaml/v2 ConfigGroup, which cannot "
                "be previewed without the cluster (with spec.helm.manageCrds: false a preview "
                "goes on with the stack's state)"
            ) from None
        pulumi.log.warn(
            f"preflight: cannot read the cluster ({exc}); the preview goes on with the "
            "stack's state, and an update will stop until the cluster can be read"
        )
        return None


def running_version(
    stack_input: StackInput, live: Live | None, stack: StackState | None
) -> str | None:
    """The chart version running now: the live release's, else the stack's state. The
    preflight's checks run here: a refusal stops the run with nothing registered."""
    if live is None:
        if stack is None:
            return None
        if stack.deployed_by_upstream:
            pulumi.log.info(
                "this stack's outputs name a namespace but no chart_version: it was deployed "
                "by project-planton's Go module, which installs chart "
                f"{stack.recorded_version}; the upgrade guard starts from that version"
            )
        return stack.recorded_version
    report = evaluate(stack_input, live.state, live.package, stack=stack)
    for check in report.warnings():
        pulumi.log.warn(f"preflight {check.name}: {check.reason}")
    if report.refused:
        raise PreflightRefusal(report.refusal_message())
    return report.running_version


def ready_databases(live: Live) -> tuple[str, ...]:
    return tuple(f"{db.namespace}/{db.name}" for db in live.state.databases if db.ready)


def log_release_change(stack_input: StackInput, live: Live, release: pulumi.Resource) -> None:
    """At preview, what the update changes inside the release: one line on the Release, the
    whole diff at debug level (``pulumi preview --debug``). Needs the render extra."""
    try:
        changes = release_change(stack_input, live.state)
    except RenderError as exc:
        pulumi.log.debug(f"no release diff at preview: {exc}", resource=release)
        return
    if changes is None:
        return
    pulumi.log.info(f"inside the release: {summary(changes)}", resource=release)
    pulumi.log.debug(to_text(changes, crd_yaml=False), resource=release)
