"""The Pulumi program: load the stack input, build the component, export its outputs.

The component carries the safety (checks/stages.py: the live read, the preflight, the live
upgrade guard); the program adds what only a stack program knows: this stack's last outputs,
read from its backend, so the preflight can tell this stack's release from anyone else's.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pulumi

from .. import defaults, outputs
from ..checks.preflight import StackState, StoredRelease
from ..errors import ToolUnavailableError, internal_error_message
from ..manifest import StackInput, load_stack_input
from ._errors import run_errors
from ._resources import RELEASE_TYPE
from .component import PerconaPostgresOperator, PerconaPostgresOperatorArgs

# Set to see the traceback of an internal error in `pulumi up` instead of its one-line summary.
DEBUG_ENV = "PERCONA_PG_OPERATOR_DEBUG"


class ProgramError(pulumi.RunError):
    """An internal error Pulumi shows as one line, without a traceback."""


# The engine's built-in invoke behind stack references (pkg/resource/deploy/builtins.go,
# `pulumi:pulumi:readStackOutputs`): the outputs a stack's backend holds, read without
# registering a resource.
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
# Its sibling (same file): every resource's outputs in the stack's last checkpoint, by URN, with
# its type. Read only for a stack deployed before, for its Release's.
READ_STACK_RESOURCE_OUTPUTS = "pulumi:pulumi:readStackResourceOutputs"


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


def _invoke(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """``_invoke_once``, a few bounded tries (see READ_STACK_OUTPUTS_TRIES)."""
    failure: Exception | None = None
    for attempt in range(READ_STACK_OUTPUTS_TRIES):
        if attempt:
            time.sleep(READ_STACK_OUTPUTS_BACKOFF_SECONDS * attempt)
        try:
            return _invoke_once(token, args)
        except Exception as exc:  # the engine's error, as gRPC or the monitor raises it
            failure = exc
    raise ToolUnavailableError(f"cannot read this stack's last outputs from its backend: {failure}")


def _plain(value: Any) -> dict[str, Any]:
    from pulumi.runtime import rpc

    while rpc.is_rpc_secret(value):
        value = rpc.unwrap_rpc_secret(value)
    return dict(value) if isinstance(value, dict) else {}


def last_outputs(release_name: str) -> StackState:
    """What this stack exported on its last update (pulumi/pulumi#3722), and what its Release
    recorded (``StoredRelease``). A stack never deployed has neither.

    Read with the invoke rather than a ``StackReference`` to itself: a StackReference is a
    resource in the state holding the outputs from before the update that registered it, so
    every ``pulumi refresh`` after an update that changed an output would report it changed.
    The three outputs read are names and a version, never secret; of the Release, only its
    chart reference, version and values are kept.
    """
    this_stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    keys = (outputs.NAMESPACE, outputs.RELEASE_NAME, outputs.CHART_VERSION)
    exported = dict(_invoke(READ_STACK_OUTPUTS, {"name": this_stack}).get("outputs") or {})
    if not exported:
        return StackState()
    # The map comes wrapped as one secret when any output in the stack is (the provider's
    # kubeconfig): only the Release's chart reference, version and values are kept.
    resources = _plain(
        _invoke(READ_STACK_RESOURCE_OUTPUTS, {"stackName": this_stack}).get("outputs")
    )
    releases = [
        StoredRelease.from_outputs(recorded)
        for entry in map(_plain, resources.values())
        if entry.get("type") == RELEASE_TYPE
        and (recorded := _plain(entry.get("outputs"))).get("name") == release_name
    ]
    release = releases[0] if len(releases) == 1 else None
    return StackState.from_outputs({key: exported.get(key) for key in keys}, release)


def stay_on_upstream_chart(stack_input: StackInput, state: StackState) -> StackInput:
    """The chart version for a stack that project-planton's Go module installed, when the
    manifest names none: the one that runs. Upstream's manifest has no ``spec.helm`` at all
    (its CLI refuses one), so the same stack input keeps working after the move, on the same
    chart: on the move (the outputs are upstream's: ``defaults.UPSTREAM_CHART_VERSION``), and
    after it for as long as the Release holds upstream's chart reference (its recorded
    version). A version the manifest sets is the step it asks for, guarded as any other."""
    helm = stack_input.target.spec.helm
    if "version" in helm.model_fields_set:
        return stack_input
    stored = state.release
    if stored is not None and stored.repository is not None:
        version = stored.version
    elif state.deployed_by_upstream:
        version = defaults.UPSTREAM_CHART_VERSION
    else:
        return stack_input
    pulumi.log.info(
        f"chart {version}: the one project-planton's module installed on this stack (the "
        "manifest sets no spec.helm.version); set it to step up, one minor at a time"
    )
    spec = stack_input.target.spec
    spec = spec.model_copy(update={"helm": helm.model_copy(update={"version": version})})
    target = stack_input.target.model_copy(update={"spec": spec})
    return stack_input.model_copy(update={"target": target})


def run() -> PerconaPostgresOperator:
    """Build the stack. Bad input stops it with a plain message (``RunError``), no traceback."""
    try:
        with run_errors():
            stack_input = load_stack_input(config_value=pulumi_config_value, warn=pulumi.log.warn)
            stack_state = last_outputs(stack_input.target.release_name)
            stack_input = stay_on_upstream_chart(stack_input, stack_state)
        operator = PerconaPostgresOperator(
            stack_input.target.metadata.name,
            PerconaPostgresOperatorArgs(
                stack_input, upstream_aliases=True, stack_state=stack_state
            ),
        )
    except pulumi.RunError:
        raise  # a refusal or bad input, already in its words
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
