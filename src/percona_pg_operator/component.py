"""``PerconaPostgresOperator``: the Pulumi component that installs the Percona operator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults, outputs
from .chart import (
    ChartSource,
    ManagedCrds,
    build_helm_values,
    chart_repo_url,
    check_transition,
    resolve_chart,
)
from .cluster import build_provider
from .errors import UpgradeGuardError
from .manifest import KubernetesPerconaPostgresOperator, StackInput

TYPE_TOKEN = "percona-pg-operator:index:PerconaPostgresOperator"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


class UpgradeRefusedError(UpgradeGuardError, pulumi.RunError):
    """An upgrade guard refusal that Pulumi shows as a plain message, without a traceback."""


def _guard(previous: str | None, target: str, allow_unsafe: bool) -> str:
    try:
        check_transition(previous, target, allow_unsafe=allow_unsafe)
    except UpgradeGuardError as exc:
        raise UpgradeRefusedError(str(exc)) from None
    return target


class PerconaPostgresOperator(pulumi.ComponentResource):
    """Namespace, managed CRDs and the ``pg-operator`` Helm release, from one manifest.

    ``previous_chart_version`` is the chart version deployed now (``None`` for a fresh
    install); the upgrade guard refuses unsupported steps from it before anything changes.
    """

    namespace: pulumi.Output[Any]
    release_name: pulumi.Output[Any]
    chart_version: pulumi.Output[Any]
    operator_version: pulumi.Output[Any]
    crds: pulumi.Output[Any]

    def __init__(
        self,
        name: str,
        stack_input: StackInput | KubernetesPerconaPostgresOperator,
        *,
        provider: k8s.Provider | None = None,
        previous_chart_version: pulumi.Input[str | None] | None = None,
        chart: ChartSource | None = None,
        environ: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, {}, opts)
        if isinstance(stack_input, KubernetesPerconaPostgresOperator):
            stack_input = StackInput(target=stack_input)
        target = stack_input.target
        spec = target.spec
        self.target = target
        self.chart: ChartSource = chart or resolve_chart(
            chart_repo_url(spec.helm.repo, environ), spec.helm.version, spec.helm.manage_crds
        )

        if provider is None:
            provider = build_provider(
                f"{name}-provider",
                stack_input.provider_config,
                opts=pulumi.ResourceOptions(parent=self),
                environ=environ,
            )
        self.provider = provider

        namespace_resource = None
        if spec.create_namespace:
            namespace_resource = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=spec.namespace, labels=target.namespace_labels()
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )

        version = self._guarded_version(previous_chart_version)
        crd_group = (
            self._crd_group(name, self.chart.crds, version, provider) if self.chart.crds else None
        )
        depends_on: list[pulumi.Resource] = [crd_group] if crd_group is not None else []
        if namespace_resource is not None:
            depends_on.insert(0, namespace_resource)

        release = k8s.helm.v3.Release(
            f"{name}-release",
            k8s.helm.v3.ReleaseArgs(
                name=target.release_name,
                namespace=spec.namespace,
                version=version,
                values=build_helm_values(spec),
                atomic=True,
                cleanup_on_fail=True,
                skip_await=False,
                wait_for_jobs=True,
                timeout=spec.helm.timeout_seconds,
                create_namespace=False,
                skip_crds=spec.helm.manage_crds,
                **self._chart_args(),
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=depends_on),
        )
        self.release = release
        self.crd_group = crd_group

        self.namespace = release.namespace
        self.release_name = release.name
        self.chart_version = release.version
        package = self.chart.package
        self.operator_version = (
            pulumi.Output.from_input(package.app_version)
            if package is not None and package.app_version
            else release.status.apply(lambda status: status.app_version or "")
        )
        self.crds = pulumi.Output.from_input(self.chart.crds.names if self.chart.crds else [])
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        return {
            outputs.NAMESPACE: self.namespace,
            outputs.RELEASE_NAME: self.release_name,
            outputs.CHART_VERSION: self.chart_version,
            outputs.OPERATOR_VERSION: self.operator_version,
            outputs.CRDS: self.crds,
        }

    def _guarded_version(self, previous: pulumi.Input[str | None] | None) -> pulumi.Output[str]:
        """The target chart version, resolved only once the upgrade guard has passed."""
        helm = self.target.spec.helm
        target, allow = helm.version, helm.allow_unsafe_upgrade
        if previous is None or isinstance(previous, str):
            return pulumi.Output.from_input(_guard(previous, target, allow))
        return pulumi.Output.from_input(previous).apply(  # type: ignore[arg-type]
            lambda prev: _guard(prev, target, allow)
        )

    def _chart_args(self) -> dict[str, Any]:
        local = self.chart.local_package_path
        if local is not None:
            return {"chart": local}
        return {
            "chart": defaults.CHART_NAME,
            "repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=self.chart.repo),
        }

    def _crd_group(
        self, name: str, crds: ManagedCrds, version: pulumi.Output[str], provider: k8s.Provider
    ) -> k8s.yaml.v2.ConfigGroup:
        """Every CRD of the chart, applied server-side by the provider, each retained on delete.

        The CRDs (0.6-2 MB) travel as one YAML string that the Kubernetes provider parses, instead
        of as nested objects that the Python SDK would serialize node by node on every preview.
        """
        return k8s.yaml.v2.ConfigGroup(
            f"{name}-crds",
            # Resolved only once the upgrade guard has passed: no CRD changes on a refused step.
            yaml=version.apply(lambda _: crds.manifest),
            resource_prefix=name,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                retain_on_delete=True,
                # retainOnDelete is not inherited by a component's children: set it on each CRD.
                transforms=[retain_crds_on_delete],
            ),
        )


def retain_crds_on_delete(
    args: pulumi.ResourceTransformArgs,
) -> pulumi.ResourceTransformResult | None:
    """Deleting a CRD deletes every database of its kind: never delete one with the stack."""
    if args.type_ != CRD_TYPE:
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
    return pulumi.ResourceTransformResult(props=args.props, opts=opts)
