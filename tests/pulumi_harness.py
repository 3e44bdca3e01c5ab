"""Run Pulumi code under Pulumi's mocks and record everything the engine would be told.

Built on Pulumi's public testing API: ``pulumi.runtime.set_mocks`` and ``@pulumi.runtime.test``
run the program, ``Mocks.new_resource`` sees each resource's type, name, inputs, provider and
transforms. Two things that API does not show are taken from one place each, and
``test_pulumi_harness.py`` fails with a clear message if a Pulumi release changes them:

- a registration's parent, dependencies, retain-on-delete, aliases and secret markers travel only
  in the ``RegisterResource`` request, so ``RecordingMonitor`` (the ``monitor`` that
  ``set_mocks`` accepts) keeps the raw request;
- the stack's exported outputs are the root ``Stack`` resource's ``outputs``.

Each run happens in a copy of the current ``contextvars`` context, so the root stack, settings
and config of one run never leak into the next (Pulumi keeps them in context variables).
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockMonitor

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
CONFIG_GROUP_TYPE = "kubernetes:yaml/v2:ConfigGroup"
PROVIDER_TYPE = "pulumi:providers:kubernetes"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
# The engine's built-in invoke the program reads its own last outputs with.
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
READ_STACK_RESOURCE_OUTPUTS = "pulumi:pulumi:readStackResourceOutputs"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
COMPONENT_TYPE = "percona-pg-operator:index:PerconaPostgresOperator"


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    dependencies: list[str]
    provider: str
    inputs: dict[str, Any]
    raw: dict[str, Any]
    retain_on_delete: bool
    custom: bool
    transforms: list[Any]
    aliases: list[dict[str, Any]]
    import_id: str
    ignore_changes: list[str]

    def is_secret(self, key: str) -> bool:
        value = self.raw.get(key)
        return isinstance(value, dict) and SECRET_SIG in value.values()


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        previous_outputs: dict[str, Any] | None = None,
        app_version: str = "9.9.9",
        previous_resources: dict[str, Any] | None = None,
    ):
        self.previous_outputs = previous_outputs or {}
        # The last checkpoint's resources, as readStackResourceOutputs gives them: URN ->
        # {"type": ..., "outputs": {...}}.
        self.previous_resources = previous_resources or {}
        self.app_version = app_version
        # (type, name) -> the transforms declared in the resource's options (public API).
        self.transforms: dict[tuple[str, str], list[Any]] = {}
        # Every registration, also when the program fails part-way.
        self.registrations: list[Registration] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.transforms[(args.typ, args.name)] = list(args.transforms)
        state = dict(args.inputs)
        if args.typ == DYNAMIC_TYPE and args.name.endswith("-crds"):
            # What the CRD set reports once applied: a mark per CRD.
            state["applied"] = {name: f"uid-{name}/1" for name in args.inputs.get("names", [])}
        elif args.typ == DYNAMIC_TYPE:
            # What the verification reports once the cluster came through.
            state.update(
                operator_version=self.app_version,
                verified_at="2026-11-26T00:00:00Z",
                databases_checked=[],
            )
        elif args.typ == RELEASE_TYPE:
            state["status"] = {
                "appVersion": self.app_version,
                "chart": args.inputs.get("chart"),
                "name": args.inputs.get("name"),
                "namespace": args.inputs.get("namespace"),
                "version": args.inputs.get("version"),
                "revision": 1,
                "status": "deployed",
            }
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        if args.token == READ_STACK_OUTPUTS:
            name = args.args.get("name")
            return {"name": name, "outputs": self.previous_outputs, "secretOutputNames": []}
        if args.token == READ_STACK_RESOURCE_OUTPUTS:
            return {"name": args.args.get("stackName"), "outputs": self.previous_resources}
        return {}


class RecordingMonitor(MockMonitor):
    """Keeps each raw registration request: the one place this harness reads engine messages."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording_mocks = mocks
        self.registrations = mocks.registrations

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    provider=request.provider,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    raw=json_format.MessageToDict(request.object),
                    retain_on_delete=bool(request.retainOnDelete),
                    custom=request.custom,
                    transforms=self.recording_mocks.transforms.get(
                        (request.type, request.name), []
                    ),
                    aliases=[json_format.MessageToDict(a) for a in request.aliases],
                    import_id=request.importId,
                    ignore_changes=list(request.ignoreChanges),
                )
            )
        return response


@dataclass
class Run:
    registrations: list[Registration]
    stack_outputs: dict[str, Any]
    value: Any
    # (level name, message) of everything the program logged through pulumi.log.
    logs: list[tuple[str, str]]

    def logged(self, level: str) -> list[str]:
        return [message for name, message in self.logs if name == level]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
        return found[0]

    def dynamic(self, suffix: str) -> list[Registration]:
        """The dynamic resources named ``<component>-<suffix>``: ``verification``, ``crds``."""
        return [r for r in self.of_type(DYNAMIC_TYPE) if r.name.endswith(f"-{suffix}")]

    def verification(self) -> Registration:
        (found,) = self.dynamic("verification")
        return found

    def crd_set(self) -> Registration:
        (found,) = self.dynamic("crds")
        return found

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.registrations if r.urn == urn)

    def plain_text(self) -> str:
        """Everything registered and exported, as text, minus the values marked secret.

        What a credential scan must not find a credential in: the plain part of the state.
        """
        return json.dumps(
            {
                "registrations": [_without_secrets(r.raw) for r in self.registrations],
                "outputs": _without_secrets(self.stack_outputs),
            },
            default=str,
        )


def _without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if SECRET_SIG in value.values():
            return "[secret]"
        return {k: _without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secrets(v) for v in value]
    return value


def run_pulumi(
    fn: Callable[[], Any],
    mocks: RecordingMocks | None = None,
    config: dict[str, str] | None = None,
    preview: bool = False,
) -> Run:
    """Run ``fn`` as a Pulumi program under mocks; wait for every registration and output."""
    return contextvars.copy_context().run(_run, fn, mocks or RecordingMocks(), config, preview)


def _run(
    fn: Callable[[], Any], mocks: RecordingMocks, config: dict[str, str] | None, preview: bool
) -> Run:
    monitor = RecordingMonitor(mocks)
    logs = _LogRecorder()
    pulumi.runtime.set_mocks(
        mocks,
        project="percona-pg-operator",
        stack="test",
        preview=preview,
        monitor=monitor,
        logger=logs.logger,
    )
    pulumi.runtime.set_all_config(config or {})
    holder: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def program() -> pulumi.Output[None]:
        holder["value"] = fn()
        exported = dict(stack_outputs())
        return pulumi.Output.from_input(exported).apply(lambda v: holder.update(outputs=v))

    try:
        program()
    except Exception:
        _drop_failed_futures()
        raise
    return Run(
        monitor.registrations, holder.get("outputs") or {}, holder.get("value"), logs.records
    )


_LOGGER_IDS = itertools.count()


class _LogRecorder(logging.Handler):
    """The mock engine's logger (``set_mocks(logger=...)``): keeps what the program logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[str, str]] = []
        self.logger = logging.getLogger(f"pulumi-harness.{next(_LOGGER_IDS)}")
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelname, record.getMessage()))


def stack_outputs() -> dict[str, Any]:
    """What the program exported: the root Stack resource's outputs."""
    root = pulumi.runtime.get_root_resource()
    outputs: dict[str, Any] = root.outputs  # type: ignore[union-attr]
    return outputs


def _drop_failed_futures() -> None:
    """A failed program leaves futures whose error was already raised to the test; mark them
    retrieved so asyncio does not report "exception was never retrieved" at exit."""
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()
