"""``PerconaPostgresOperator``: the Pulumi component that installs the Percona operator.

It follows Pulumi's component contract: ``(name, args, opts)``, a type token, children named
from ``name`` and parented to the component, the Kubernetes provider taken from ``opts`` like any
component's (``provider=`` or ``providers=``), and ``register_outputs`` at the end. Everything
that can fail on bad input (the manifest, the chart, the credentials) is checked before the
component registers anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import outputs
from ..chart import (
    ChartRepository,
    ChartSource,
    ManagedCrds,
    cache_root,
    chart_repo_url,
    resolve_chart,
)
from ..checks.preflight import StackState
from ..cluster import ClusterCredentials, cluster_credentials
from ..errors import UpgradeGuardError
from ..manifest import (
    KubernetesPerconaPostgresOperator,
    StackInput,
    build_helm_values,
    database_namespaces,
    operator_image,
    parse_document,
)
from ..versions import check_transition, crosses_api_group_move
from ._safety import log_release_change, read_live, ready_databases, running_version
from .provider import build_provider, credentials_provider_args
from .verification import OperatorVerification

TYPE_TOKEN = "percona-pg-operator:index:PerconaPostgresOperator"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
# project-planton's Go module names its provider "kubernetes" (pulumikubernetesprovider, called
# from the module's main.go), its Namespace after the namespace and its Release after
# metadata.name, all at the top of the stack.
UPSTREAM_PROVIDER_NAME = "kubernetes"
# Release inputs the program never sets and a refresh reads back from the live release
# (pulumi-kubernetes#2578): ignored, so `pulumi up --refresh` reports no change that changes
# nothing. project-planton's module also lists `status`, an output, which ignore_changes does not
# apply to.
RELEASE_IGNORE_CHANGES = ["description", "resourceNames"]
# While adopting (spec.adopt.release), the import takes these from the live release instead of
# the program (Pulumi copies ignored inputs from what it reads), so the adoption run changes
# nothing in the cluster; the Release's own flags are not part of a Helm release at all.
ADOPT_RELEASE_IGNORE_CHANGES = [
    "values",
    "chart",
    "repositoryOpts",
    "timeout",
    "atomic",
    "cleanupOnFail",
    "skipAwait",
    "waitForJobs",
    "skipCrds",
    "createNamespace",
]
# While adopting the namespace, its labels stay as they are.
ADOPT_NAMESPACE_IGNORE_CHANGES = ["metadata.labels"]


class UpgradeRefusedError(UpgradeGuardError, pulumi.RunError):
    """An upgrade guard refusal that Pulumi shows as a plain message, without a traceback."""


def _guard(running: str | None, target: str, allow_unsafe: bool, acknowledged: str | None) -> str:
    try:
        check_transition(running, target, allow_unsafe=allow_unsafe, acknowledged=acknowledged)
    except UpgradeGuardError as exc:
        raise UpgradeRefusedError(str(exc)) from None
    return target


Manifest = StackInput | KubernetesPerconaPostgresOperator | Mapping[str, Any]


@dataclass(frozen=True)
class PerconaPostgresOperatorArgs:
    """What the component installs, and what it needs to know about what runs now.

    - ``manifest``: a stack input or a bare manifest, as a model or as its parsed YAML/JSON.
    - ``running_version``: the chart version running now (``None`` for a fresh install);
      the upgrade guard refuses unsupported steps from it before anything changes.
    - ``ready_databases``: the PerconaPGClusters that were ready before (``namespace/name``);
      the verification step requires them ready again.
    - ``upstream_aliases``: alias the provider, Namespace and Release to the names
      project-planton's Go module gives them at the top of the stack, so a stack that module
      deployed is updated in place. For the stack program; off by default, because in another
      program those top-level names may belong to something else.
    - ``preflight``: the component reads the live cluster before it registers anything (the
      preflight's checks, the live upgrade guard, the databases that were ready): ``None``
      (the default) follows ``PERCONA_PG_OPERATOR_PREFLIGHT`` (on unless set to ``off``),
      ``False`` opts out (with a warning), ``True`` always reads. With the live read, the
      version running now and the ready databases come from the cluster.
    - ``stack_state``: what this stack exported on its last update (the stack program reads
      it); without it the preflight cannot tell whether a release is this stack's own.
    """

    manifest: Manifest
    running_version: pulumi.Input[str | None] | None = None
    upstream_aliases: bool = False
    # PerconaPGClusters ("namespace/name") that were ready before this change: verification
    # requires them ready again. With the live read, the component takes them from the cluster.
    ready_databases: tuple[str, ...] = ()
    preflight: bool | None = None
    stack_state: StackState | None = None
    # What the component uses from outside, each with its default: the chart repository
    # (spec.helm.repo, else PERCONA_PG_OPERATOR_CHART_REPO, else Percona's), the package cache
    # ($XDG_CACHE_HOME/percona-pg-operator), the project folder the package is staged in for
    # the Release (the working directory, where Pulumi runs the program), the environment.
    chart_repo: str | None = None
    cache_dir: Path | None = None
    project_dir: Path | None = None
    environ: Mapping[str, str] | None = None


def _stack_input(manifest: Manifest) -> StackInput:
    if isinstance(manifest, StackInput):
        return manifest
    if isinstance(manifest, KubernetesPerconaPostgresOperator):
        return StackInput(target=manifest)
    return parse_document(manifest, "PerconaPostgresOperator args")


def _callers_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The Kubernetes provider the caller gave in ``opts`` (``provider=`` or ``providers=``)."""
    if opts is None:
        return None
    if opts.provider is not None and opts.provider.package == "kubernetes":
        return opts.provider
    providers = opts.providers
    if isinstance(providers, Mapping):
        return providers.get("kubernetes")
    return next((p for p in providers or [] if p.package == "kubernetes"), None)


class PerconaPostgresOperator(pulumi.ComponentResource):
    """Namespace, managed CRDs and the ``pg-operator`` Helm release, from one manifest.

    ``args`` is a :class:`PerconaPostgresOperatorArgs`, or just the manifest (a stack input, a
    bare manifest, or a mapping of either). The Kubernetes provider is the one in ``opts``; when
    there is none, one is built from the stack input's ``provider_config`` (or the ambient
    kubeconfig). When both are given, the caller's provider wins, with a warning.
    """

    namespace: pulumi.Output[str]
    """The operator's namespace (the Release's): the stack's first output, as upstream's."""
    release_name: pulumi.Output[str]
    """The Helm release's name (``metadata.name``)."""
    chart_version: pulumi.Output[str]
    """The ``pg-operator`` chart version the Release installed."""
    operator_version: pulumi.Output[str]
    """The running operator image's tag once verified; the chart's appVersion otherwise."""
    crds: pulumi.Output[list[str]]
    """The CRDs the stack manages (empty with ``helm.manageCrds: false``)."""

    def __init__(
        self,
        name: str,
        args: PerconaPostgresOperatorArgs | Manifest,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not isinstance(args, PerconaPostgresOperatorArgs):
            args = PerconaPostgresOperatorArgs(manifest=args)
        # Everything that can fail on bad input, before anything is registered.
        stack_input = _stack_input(args.manifest)
        target = stack_input.target
        spec = target.spec
        environ = args.environ
        repo = args.chart_repo or chart_repo_url(spec.helm.repo, environ)
        cache_dir = args.cache_dir or cache_root(environ)
        chart = resolve_chart(
            repo,
            spec.helm.version,
            spec.helm.manage_crds,
            spec.helm_values,
            project_dir=args.project_dir,
            importing=spec.adopt.release,
            cache_dir=cache_dir,
        )
        values = build_helm_values(spec)
        # The caller's provider, or the arguments of our own (credentials checked now).
        callers = _callers_provider(opts)
        source: pulumi.ProviderResource | k8s.ProviderArgs
        credentials: ClusterCredentials | None
        if callers is None:
            credentials = cluster_credentials(stack_input.provider_config, environ)
            source = credentials_provider_args(credentials, environ)
        else:
            source = callers
            # Only to read the cluster for the verification.
            config = stack_input.provider_config
            credentials = cluster_credentials(config, environ) if config is not None else None

        # The live read and the preflight's checks, before anything is registered.
        live = read_live(
            stack_input,
            chart.package,
            args.preflight,
            environ,
            ChartRepository(repo, cache_dir=cache_dir),
        )
        running = args.running_version
        ready = args.ready_databases
        if live is not None or running is None:
            stack = args.stack_state
            if stack is None and isinstance(running, str):
                stack = StackState(chart_version=running)
            if running is None or isinstance(running, str):
                running = running_version(stack_input, live, stack)
            if live is not None:
                ready = ready or ready_databases(live)

        # A plain version running now is guarded before anything is registered, so a refused
        # step registers nothing at all. One known only later (an Output) is guarded when it
        # resolves, and every child waits for that decision: each has an input derived from
        # the guarded version, and the SDK sends no registration before its inputs resolve
        # (so a refusal registers no provider, namespace, CRD or release).
        if running is None or isinstance(running, str):
            helm = spec.helm
            _guard(running, helm.version, helm.allow_unsafe_upgrade, helm.acknowledge_irreversible)

        super().__init__(TYPE_TOKEN, name, {}, opts)
        self.target = target
        self.chart: ChartSource = chart
        # Which chart source this run used (bundled, the cache, a download), in the run's log.
        pulumi.log.info(chart.package.describe_source(), resource=self)
        aliases = args.upstream_aliases
        version = self._guarded_version(running)

        def after_guard(value: Any) -> pulumi.Output[Any]:
            return version.apply(lambda _: value)

        provider: pulumi.ProviderResource
        if isinstance(source, k8s.ProviderArgs):
            source.enable_server_side_apply = after_guard(True)
            provider = build_provider(
                f"{name}-provider",
                source,
                pulumi.ResourceOptions(
                    parent=self, aliases=_top_level(UPSTREAM_PROVIDER_NAME, aliases)
                ),
            )
        else:
            provider = source
            if stack_input.provider_config is not None:
                pulumi.log.warn(
                    "both a Kubernetes provider in the resource options and "
                    f"provider_config ({stack_input.provider_config.provider}) were given: the "
                    "provider from the options deploys; provider_config is used only to read "
                    "the cluster for the verification",
                    resource=self,
                )
        self.provider = provider

        namespace_resource = None
        if spec.create_namespace:
            namespace_resource = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=after_guard(spec.namespace), labels=target.namespace_labels()
                ),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    provider=provider,
                    # Kept in the cluster on destroy unless asked: it holds the databases.
                    retain_on_delete=not spec.delete_namespace_on_destroy,
                    aliases=_top_level(spec.namespace, aliases),
                    # Adopting: import it (a no-op once it is in the stack with this ID).
                    import_=spec.namespace if spec.adopt.namespace else None,
                    ignore_changes=ADOPT_NAMESPACE_IGNORE_CHANGES if spec.adopt.namespace else None,
                ),
            )

        crd_group = self._crd_group(name, chart.crds, version, provider) if chart.crds else None
        depends_on: list[pulumi.Resource] = [crd_group] if crd_group is not None else []
        if namespace_resource is not None:
            depends_on.insert(0, namespace_resource)

        release = k8s.helm.v3.Release(
            f"{name}-release",
            k8s.helm.v3.ReleaseArgs(
                name=target.release_name,
                namespace=spec.namespace,
                version=version,
                values=values,
                atomic=True,
                cleanup_on_fail=True,
                skip_await=False,
                wait_for_jobs=True,
                timeout=spec.helm.timeout_seconds,
                create_namespace=False,
                skip_crds=spec.helm.manage_crds,
                # The verified package, staged in the project (chart/_source.py): never a
                # second, unchecked download by Helm inside the provider.
                chart=chart.install_path,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                depends_on=depends_on,
                ignore_changes=RELEASE_IGNORE_CHANGES
                + (ADOPT_RELEASE_IGNORE_CHANGES if spec.adopt.release else []),
                aliases=_top_level(target.release_name, aliases),
                # Adopting: import it by pulumi-kubernetes' Release ID, <namespace>/<name> (its
                # docs: `pulumi import kubernetes:helm.sh/v3:Release r <namespace>/<name>`); a
                # resource already in the stack with this ID is treated like any other
                # (pulumi/pulumi developer-docs/architecture/import.md), so it stays harmless.
                import_=f"{spec.namespace}/{target.release_name}" if spec.adopt.release else None,
            ),
        )
        self.release = release
        self.crd_group = crd_group

        # The Release sets each of these from the inputs above: never None once created.
        self.namespace = release.namespace.apply(lambda v: v or spec.namespace)
        self.release_name = release.name.apply(lambda v: v or target.release_name)
        self.chart_version = release.version.apply(lambda v: v or spec.helm.version)
        package = chart.package
        self.operator_version = (
            pulumi.Output.from_input(package.app_version)
            if package.app_version
            else release.status.apply(lambda status: status.app_version or "")
        )
        if live is not None and pulumi.runtime.is_dry_run():
            log_release_change(stack_input, live, release)
        self.verification = self._verification(
            name, running, ready, credentials, values, version, release
        )
        if self.verification is not None:
            chart_app = self.operator_version
            # The running image's tag, once verified; the chart's appVersion for a digest.
            self.operator_version = pulumi.Output.all(
                self.verification.operator_version, chart_app
            ).apply(lambda v: v[0] or v[1])
        self.crds = pulumi.Output.from_input(list(chart.crds.names) if chart.crds else [])
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """The stack outputs, the namespace first (project-planton's only output)."""
        exported = {
            outputs.NAMESPACE: self.namespace,
            outputs.RELEASE_NAME: self.release_name,
            outputs.CHART_VERSION: self.chart_version,
            outputs.OPERATOR_VERSION: self.operator_version,
            outputs.CRDS: self.crds,
        }
        if self.verification is not None:
            exported[outputs.VERIFIED_AT] = self.verification.verified_at
            exported[outputs.DATABASES_CHECKED] = self.verification.databases_checked
        return exported

    def _verification(
        self,
        name: str,
        running: pulumi.Input[str | None] | None,
        ready: tuple[str, ...],
        credentials: ClusterCredentials | None,
        values: dict[str, Any],
        version: pulumi.Output[str],
        release: k8s.helm.v3.Release,
    ) -> OperatorVerification | None:
        """The check after the Release (on by default; see spec.verify)."""
        spec = self.target.spec
        if not spec.verify.enabled:
            return None
        if credentials is None:
            pulumi.log.warn(
                "verification skipped: it cannot read the credentials of a provider given in "
                "the resource options; give provider_config too (the provider in the options "
                "still deploys), or set spec.verify.enabled: false to silence this",
                resource=self,
            )
            return None
        app_version = self.chart.package.app_version or spec.helm.version
        target = spec.helm.version
        migrate = pulumi.Output.from_input(running).apply(
            lambda running: crosses_api_group_move(running, target)
        )
        props: dict[str, Any] = {
            "kubeconfig": (
                pulumi.Output.secret(credentials.kubeconfig) if credentials.kubeconfig else None
            ),
            "context": credentials.context,
            "namespace": spec.namespace,
            "release": self.target.release_name,
            "image": operator_image(values, app_version),
            "crds": self.chart.crds.served_versions() if self.chart.crds else {},
            "migrateApiGroup": migrate,
            "readyBefore": sorted(ready),
            "databaseNamespaces": database_namespaces(spec),
            "timeoutSeconds": spec.verify.timeout_seconds,
            "pollSeconds": spec.verify.poll_seconds,
            "chartVersion": version,
            "valuesHash": hashlib.sha256(
                json.dumps(values, sort_keys=True, default=str).encode()
            ).hexdigest(),
        }
        return OperatorVerification(
            f"{name}-verification",
            props,
            pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )

    def _guarded_version(self, running: pulumi.Input[str | None] | None) -> pulumi.Output[str]:
        """The target chart version, resolved only once the upgrade guard has passed."""
        helm = self.target.spec.helm
        target, allow, ack = helm.version, helm.allow_unsafe_upgrade, helm.acknowledge_irreversible
        if running is None or isinstance(running, str):
            return pulumi.Output.from_input(_guard(running, target, allow, ack))
        return pulumi.Output.from_input(running).apply(  # type: ignore[arg-type]
            lambda prev: _guard(prev, target, allow, ack)
        )

    def _crd_group(
        self,
        name: str,
        crds: ManagedCrds,
        version: pulumi.Output[str],
        provider: pulumi.ProviderResource,
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


def _top_level(name: str, enabled: bool) -> list[pulumi.Alias] | None:
    """An alias to ``name`` at the top of the stack (no parent), where upstream put it."""
    return [pulumi.Alias(name=name, parent=pulumi.ROOT_STACK_RESOURCE)] if enabled else None


def retain_crds_on_delete(
    args: pulumi.ResourceTransformArgs,
) -> pulumi.ResourceTransformResult | None:
    """Deleting a CRD deletes every database of its kind: never delete one with the stack."""
    if args.type_ != CRD_TYPE:
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(retain_on_delete=True))
    return pulumi.ResourceTransformResult(props=args.props, opts=opts)
