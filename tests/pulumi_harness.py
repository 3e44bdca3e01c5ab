"""Run Pulumi code under Pulumi's mocks and record everything the engine would be told.

``MockResourceArgs`` hides a registration's parent, dependencies, provider reference, retain-on-
delete and secretness, so a recording monitor keeps the raw ``RegisterResource`` requests.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor, _resolve_callbacks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
CONFIG_GROUP_TYPE = "kubernetes:yaml/v2:ConfigGroup"
PROVIDER_TYPE = "pulumi:providers:kubernetes"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"
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

    def is_secret(self, key: str) -> bool:
        value = self.raw.get(key)
        return isinstance(value, dict) and SECRET_SIG in value.values()


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self, previous_outputs: dict[str, Any] | None = None, app_version: str = "9.9.9"):
        self.previous_outputs = previous_outputs or {}
        self.app_version = app_version

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == STACK_REFERENCE_TYPE:
            state = {"name": args.name, "outputs": self.previous_outputs, "secretOutputNames": []}
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

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Keeps each raw registration; the transforms are the program's own callables."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = json_format.MessageToDict(request.object)
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    provider=request.provider,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    raw=raw,
                    retain_on_delete=bool(request.retainOnDelete),
                    custom=request.custom,
                    transforms=_resolve_callbacks(request.transforms),
                )
            )
        return response


@dataclass
class Run:
    registrations: list[Registration]
    stack_outputs: dict[str, Any]
    value: Any

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str) -> Registration:
        found = self.of_type(type_)
        assert len(found) == 1, f"expected one {type_}, got {[r.name for r in found]}"
        return found[0]

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
) -> Run:
    """Run ``fn`` as a Pulumi program under mocks; wait for every registration and output."""
    mocks = mocks or RecordingMocks()
    settings.ROOT.set(None)
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project="percona-pg-operator", stack="test", preview=False, monitor=monitor
    )
    pulumi.runtime.set_all_config(config or {})
    holder: dict[str, Any] = {}

    def body() -> None:
        holder["value"] = fn()
        root = settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        holder["outputs"] = _sync_await(pulumi.Output.from_input(exported).future())

    try:
        _sync_await(run_pulumi_func(body))
    except Exception:
        _drop_failed_futures()
        raise
    return Run(monitor.registrations, holder.get("outputs") or {}, holder.get("value"))


def _drop_failed_futures() -> None:
    """A failed program leaves futures whose error was already raised to the test; mark them
    retrieved so asyncio does not report "exception was never retrieved" at exit."""
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.Future) and obj.done() and not obj.cancelled():
            obj.exception()
