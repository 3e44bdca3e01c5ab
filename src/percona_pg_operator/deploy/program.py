"""The Pulumi program: load the stack input, read the cluster, build the component, export.

Before anything changes, the preflight reads the live cluster (read only) and refuses an unsafe
change with its reasons; the upgrade guard works from the version the cluster runs. When the
cluster cannot be read, an update stops, and so does a preview of managed CRDs (their
ConfigGroup cannot be previewed without the cluster); any other preview warns and goes on with
the stack's state.
``PERCONA_PG_OPERATOR_PREFLIGHT=off`` skips the live checks (for runs with no cluster on
purpose: Pulumi mock tests, air-gapped reviews) and says so in one warning.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import defaults, outputs
from ..chart import ChartPackage
from ..checks.preflight import PREFLIGHT_ENV, StackState, evaluate, preflight_enabled
from ..cluster import ClusterState
from ..cluster.read import inspect_cluster, target_package
from ..errors import ClusterError, PerconaPgOperatorError, RenderError, internal_error_message
from ..manifest import StackInput, load_stack_input
from ..review.diff import release_change, summary, to_text
from .component import PerconaPostgresOperator, PerconaPostgresOperatorArgs

# Set to see the traceback of an internal error in `pulumi up` instead of its one-line summary.
DEBUG_ENV = "PERCONA_PG_OPERATOR_DEBUG"


class ProgramError(pulumi.RunError):
    """A refusal Pulumi shows as a plain message, without a traceback."""


# The engine's built-in invoke behind stack references (pkg/resource/deploy/builtins.go,
# `pulumi:pulumi:readStackOutputs`): the outputs a stack's backend holds, read without
# registering a resource.
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


# The file backend may be writing this very stack's checkpoint when the program starts, and a
# read at that moment fails ("failed to load checkpoint: EOF", seen on the real engine): a few
# bounded tries.
READ_STACK_OUTPUTS_TRIES = 5
READ_STACK_OUTPUTS_BACKOFF_SECONDS = 0.4


def pulumi_config_value() -> str | None:
    """The stack input from Pulumi config, when running inside a Pulumi program."""
    namespace, key = defaults.STACK_INPUT_CONFIG_KEY.split(":", 1)
    value: str | None = pulumi.Config(namespace).get(key)
    return value


def _invoke_once(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """One call of an engine invoke, straight to the resource monitor.

    ``pulumi.runtime.invoke`` records every failed call and fails the program when it ends,
    even when the caller caught the error and tried again, so a bounded retry must sit below it
    (the SDK's own ``get_resource`` calls the monitor the same way).
    """
    from google.protobuf import struct_pb2
    from pulumi.runtime import rpc, settings
    from pulumi.runtime.proto import resource_pb2

    request = resource_pb2.ResourceInvokeRequest(tok=token, args=struct_pb2.Struct())
    request.args.update(args)
    monitor = settings.get_monitor()
    if monitor is None:
        raise RuntimeError("no Pulumi engine to ask")
    response = monitor.Invoke(request)
    if response.failures:
        raise RuntimeError("; ".join(f.reason for f in response.failures))
    return dict(rpc.deserialize_properties(getattr(response, "return")) or {})


def last_outputs() -> StackState:
    """What this stack exported on its last update (pulumi/pulumi#3722). A stack never deployed
    has none.

    Read with the invoke rather than a ``StackReference`` to itself: a StackReference is a
    resource in the state holding the outputs from before the update that registered it, so
    every ``pulumi refresh`` after an update that changed an output would report it changed.
    The three values read are names and a version, never secret.
    """
    this_stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    keys = (outputs.NAMESPACE, outputs.RELEASE_NAME, outputs.CHART_VERSION)
    failure: Exception | None = None
    for attempt in range(READ_STACK_OUTPUTS_TRIES):
        if attempt:
            time.sleep(READ_STACK_OUTPUTS_BACKOFF_SECONDS * attempt)
        try:
            read = _invoke_once(READ_STACK_OUTPUTS, {"name": this_stack})
        except Exception as exc:  # the engine's error, as gRPC or the monitor raises it
            failure = exc
            continue
        exported = dict(read.get("outputs") or {})
        return StackState.from_outputs({key: exported.get(key) for key in keys})
    raise PerconaPgOperatorError(
        f"cannot read this stack's last outputs from its backend: {failure}"
    )


@dataclass(frozen=True)
class Live:
    """What the cluster showed, read once at the start of the run."""

    state: ClusterState
    package: ChartPackage


def read_live(stack_input: StackInput) -> Live | None:
    """The cluster as it is, or None when the preflight is off or (at preview) it cannot be
    read; an update stops when it cannot be read."""
    if not preflight_enabled():
        pulumi.log.warn(
            f"{PREFLIGHT_ENV}=off: the live cluster is not checked; the upgrade guard uses the "
            "stack's state only"
        )
        return None
    package = target_package(stack_input)
    try:
        return Live(inspect_cluster(stack_input, package), package)
    except ClusterError as exc:
        if not pulumi.runtime.is_dry_run():
            raise ProgramError(f"preflight: cannot read the cluster: {exc}") from None
        if stack_input.target.spec.helm.manage_crds:
            # pulumi-kubernetes refuses to construct a yaml/v2 ConfigGroup, preview or not,
            # while its cluster is unreachable (Construct in provider/pkg/provider/
            # provider_construct.go, v4.25.0): the preview would fail on the CRDs with the
            # provider's error, so it stops here with the reason instead.
            raise ProgramError(
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


def previous_chart_version(stack_input: StackInput, live: Live | None) -> str | None:
    """The chart version running now: the live release's, else the stack's state.

    The preflight's checks run here, before the component registers anything: a refusal stops
    the run with nothing registered, so nothing (not even the namespace) changes.
    """
    stack = last_outputs()
    if live is None:
        if stack.deployed_by_upstream:
            pulumi.log.info(
                "this stack's outputs name a namespace but no chart_version: it was deployed "
                "by project-planton's Go module, which installs chart "
                f"{stack.running_chart}; the upgrade guard starts from that version"
            )
        return stack.running_chart
    report = evaluate(stack_input, live.state, live.package, stack=stack)
    for check in report.warnings():
        pulumi.log.warn(f"preflight {check.name}: {check.reason}")
    if report.refused:
        raise ProgramError(report.refusal_message())
    return report.installed_version


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


def run() -> PerconaPostgresOperator:
    """Build the stack. Bad input stops it with a plain message (``RunError``), no traceback."""
    try:
        stack_input = load_stack_input(config_value=pulumi_config_value)
        live = read_live(stack_input)
        operator = PerconaPostgresOperator(
            stack_input.target.metadata.name,
            PerconaPostgresOperatorArgs(
                stack_input,
                previous_chart_version=previous_chart_version(stack_input, live),
                upstream_aliases=True,
                ready_databases=tuple(
                    f"{db.namespace}/{db.name}" for db in live.state.databases if db.ready
                )
                if live is not None
                else (),
            ),
        )
        if live is not None and pulumi.runtime.is_dry_run():
            log_release_change(stack_input, live, operator.release)
    except pulumi.RunError:
        raise  # a refusal (the program's or the upgrade guard's), already in its words
    except PerconaPgOperatorError as exc:
        raise ProgramError(str(exc)) from None
    except Exception as exc:  # a bug, not the input: one line, the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        raise ProgramError(
            internal_error_message(exc, f"set {DEBUG_ENV}=1 and run again")
        ) from None
    exported: dict[str, Any] = operator.outputs()
    for key, value in exported.items():
        pulumi.export(key, value)
    return operator
