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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import outputs
from ..chart import ChartSource
from ..checks.preflight import StackState
from ..checks.stages import Decision, Prepared, decide, observe, prepare
from ..manifest import (
    KubernetesPerconaPostgresOperator,
    StackInput,
    database_namespaces,
    operator_image,
    parse_document,
)
from ..versions import check_transition
from ._errors import run_errors
from ._report import log_decision, log_release_change
from ._resources import Namespace, Release
from .crds import ManagedCrdSet
from .provider import build_provider, credentials_provider_args
from .verification import KEPT, OperatorVerification

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
# While the Release keeps the repository chart reference its state records (decide's
# ``keep_release_source``: project-planton's module installed it, and neither version nor values
# change), these stay as recorded; any of them would make the provider run a Helm upgrade.
KEEP_SOURCE_IGNORE_CHANGES = ["chart", "repositoryOpts", "timeout", "skipCrds"]
# While adopting the namespace, its labels stay as they are.
ADOPT_NAMESPACE_IGNORE_CHANGES = ["metadata.labels"]
# The label the API server sets on every Namespace (https://kubernetes.io/docs/reference/labels-
# annotations-taints/#kubernetes-io-metadata-name): an import reads it into the state's inputs,
# where the program never sets it, so it is never a change.
SERVER_NAMESPACE_LABEL = 'metadata.labels["kubernetes.io/metadata.name"]'


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
    verified_at: pulumi.Output[str]
    """When the verification after the change passed (UTC, ISO 8601); empty when
    ``verify.enabled`` is false."""
    databases_checked: pulumi.Output[list[str]]
    """The PerconaPGClusters the verification found ready (``namespace/name``)."""

    def __init__(
        self,
        name: str,
        args: PerconaPostgresOperatorArgs | Manifest,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        if not isinstance(args, PerconaPostgresOperatorArgs):
            args = PerconaPostgresOperatorArgs(manifest=args)
        callers = _callers_provider(opts)
        hint = args.running_version
        # prepare → read → decide, each once, before anything is registered.
        with run_errors():
            prepared = prepare(
                _stack_input(args.manifest),
                chart_repo=args.chart_repo,
                cache_dir=args.cache_dir,
                project_dir=args.project_dir,
                environ=args.environ,
                callers_provider=callers is not None,
            )
            # A preview also logs the change inside the release, which compares the live CRDs.
            observed = observe(prepared, args.preflight, review=pulumi.runtime.is_dry_run())
            decision = decide(
                prepared,
                observed,
                stack=args.stack_state,
                dry_run=pulumi.runtime.is_dry_run(),
                running_hint=hint if isinstance(hint, str) else None,
                ready_hint=args.ready_databases,
            )
            if decision.refusal is not None:
                raise decision.refusal
        super().__init__(TYPE_TOKEN, name, {}, opts)
        self.target = prepared.stack_input.target
        self.chart: ChartSource = prepared.chart
        # Which chart source this run used (bundled, the cache, a download), in the run's log.
        pulumi.log.info(prepared.chart.package.describe_source(), resource=self)
        log_decision(decision, self)
        config = prepared.stack_input.provider_config
        if callers is not None and config is not None:
            pulumi.log.warn(_both_providers(config.provider), resource=self)
        # An Output hint (the cluster not read) is guarded when it resolves; every child waits.
        unread = observed.state is None and hint is not None and not isinstance(hint, str)
        version = _guarded_version(hint if unread else None, self.target.spec.helm)
        provider = callers or self._own_provider(name, prepared, version, args.upstream_aliases)
        self.provider = provider
        namespace = self._namespace(name, provider, version, args.upstream_aliases, decision)
        self.crd_set = self._crds(name, prepared, version, provider)
        depends = [r for r in (namespace, self.crd_set) if r is not None]
        self.release = release = self._release(
            name, prepared, decision, version, provider, depends, args
        )
        if observed.state is not None and pulumi.runtime.is_dry_run():
            package, values = prepared.chart.package, prepared.values
            log_release_change(prepared.stack_input, observed.state, package, values, release)
        self.verification = self._verification(name, prepared, decision, version, release)
        self._set_outputs(release)
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
            exported[outputs.VERIFIED_AT] = self.verified_at
            exported[outputs.DATABASES_CHECKED] = self.databases_checked
        return exported

    # -- registration, from what was prepared and decided --------------------------------------

    def _own_provider(
        self, name: str, prepared: Prepared, version: pulumi.Output[str], aliases: bool
    ) -> pulumi.ProviderResource:
        """Our own provider, from exactly the credentials the read used."""
        assert prepared.credentials is not None  # prepared without a caller's provider
        source = credentials_provider_args(prepared.credentials, prepared.environ)
        # Resolved only once the guard has passed: a refused step registers no provider.
        source.enable_server_side_apply = version.apply(lambda _: True)
        alias = _top_level(UPSTREAM_PROVIDER_NAME, aliases)
        return build_provider(
            f"{name}-provider", source, pulumi.ResourceOptions(parent=self, aliases=alias)
        )

    def _namespace(
        self,
        name: str,
        provider: pulumi.ProviderResource,
        version: pulumi.Output[str],
        aliases: bool,
        decision: Decision,
    ) -> Namespace | None:
        spec = self.target.spec
        if not spec.create_namespace:
            return None
        # Adopting: import it (a no-op once it is in the stack with this ID), its labels as they
        # are for that run. Taking back what this manifest's earlier stack left (its labels are
        # this manifest's): import it as it is.
        take = spec.adopt.namespace or decision.reclaim_namespace
        ignore = [SERVER_NAMESPACE_LABEL]
        if spec.adopt.namespace:
            ignore = ADOPT_NAMESPACE_IGNORE_CHANGES
        return Namespace(
            f"{name}-namespace",
            {
                "name": version.apply(lambda _: spec.namespace),
                "labels": self.target.namespace_labels(),
            },
            pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                # Kept in the cluster on destroy unless asked: it holds the databases.
                retain_on_delete=not spec.delete_namespace_on_destroy,
                aliases=_top_level(spec.namespace, aliases),
                import_=spec.namespace if take else None,
                ignore_changes=ignore,
            ),
        )

    def _release(
        self,
        name: str,
        prepared: Prepared,
        decision: Decision,
        version: pulumi.Output[str],
        provider: pulumi.ProviderResource,
        depends_on: Sequence[pulumi.Resource],
        args: PerconaPostgresOperatorArgs,
    ) -> Release:
        target = self.target
        spec = target.spec
        adopt = spec.adopt.release
        ignore = RELEASE_IGNORE_CHANGES + (ADOPT_RELEASE_IGNORE_CHANGES if adopt else [])
        if decision.keep_release_source:
            ignore += [key for key in KEEP_SOURCE_IGNORE_CHANGES if key not in ignore]
        return Release(
            f"{name}-release",
            {
                "name": target.release_name,
                "namespace": spec.namespace,
                "version": version,
                "values": prepared.values,
                "atomic": True,
                "cleanupOnFail": True,
                "skipAwait": False,
                "waitForJobs": True,
                "timeout": spec.helm.timeout_seconds,
                "createNamespace": False,
                "skipCrds": spec.helm.manage_crds,
                # The verified package, staged in the project (chart/_source.py): never a
                # second, unchecked download by Helm inside the provider.
                "chart": prepared.chart.install_path,
            },
            pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                depends_on=list(depends_on),
                ignore_changes=ignore,
                aliases=_top_level(target.release_name, args.upstream_aliases),
                # Adopting: import it by pulumi-kubernetes' Release ID, <namespace>/<name> (its
                # docs: `pulumi import kubernetes:helm.sh/v3:Release r <namespace>/<name>`); a
                # resource already in the stack with this ID is treated like any other
                # (pulumi/pulumi developer-docs/architecture/import.md), so it stays harmless.
                import_=f"{spec.namespace}/{target.release_name}" if adopt else None,
            ),
        )

    def _set_outputs(self, release: Release) -> None:
        spec = self.target.spec
        # The Release sets each of these from the inputs above: never None once created.
        self.namespace = release.namespace.apply(lambda v: v or spec.namespace)
        self.release_name = release.name.apply(lambda v: v or self.target.release_name)
        self.chart_version = release.version.apply(lambda v: v or spec.helm.version)
        package = self.chart.package
        chart_app: pulumi.Output[str] = (
            pulumi.Output.from_input(package.app_version)
            if package.app_version
            else release.status.apply(lambda status: str((status or {}).get("appVersion") or ""))
        )
        self.operator_version = chart_app
        if self.verification is not None:
            # The running image's tag, once verified; the chart's appVersion for a digest.
            self.operator_version = pulumi.Output.all(
                self.verification.operator_version, chart_app
            ).apply(lambda v: v[0] or v[1])
        crds = self.chart.crds
        self.crds = pulumi.Output.from_input(list(crds.names) if crds else [])
        # On the component in every language (the package's schema); stack outputs only when
        # verified (``outputs``).
        if self.verification is not None:
            self.verified_at = self.verification.verified_at
            self.databases_checked = self.verification.databases_checked
        else:
            self.verified_at = pulumi.Output.from_input("")
            self.databases_checked = pulumi.Output.from_input([])

    def _verification(
        self,
        name: str,
        prepared: Prepared,
        decision: Decision,
        version: pulumi.Output[str],
        release: Release,
    ) -> OperatorVerification | None:
        """The check after the Release (on by default; see spec.verify), with exactly the
        credentials the deploy uses."""
        spec = self.target.spec
        if not spec.verify.enabled:
            return None
        credentials = prepared.credentials
        if credentials is None:
            pulumi.log.warn(
                "verification skipped: it cannot read the credentials of a provider given in "
                "the resource options; give provider_config too (the provider in the options "
                "still deploys), or set spec.verify.enabled: false to silence this",
                resource=self,
            )
            return None
        package = self.chart.package
        values = prepared.values
        props: dict[str, Any] = {
            "kubeconfig": (
                pulumi.Output.secret(credentials.kubeconfig) if credentials.kubeconfig else None
            ),
            "context": credentials.context,
            "namespace": spec.namespace,
            "release": self.target.release_name,
            "image": operator_image(values, package.app_version or spec.helm.version),
            "crds": self.chart.crds.served_versions() if self.chart.crds else {},
            "migrateApiGroup": decision.migrate_api_group,
            "readyBefore": sorted(decision.ready_databases),
            "databaseNamespaces": database_namespaces(spec),
            "timeoutSeconds": spec.verify.timeout_seconds,
            "pollSeconds": spec.verify.poll_seconds,
            "chartVersion": version,
            KEPT: {
                "namespace": (
                    spec.namespace
                    if spec.create_namespace and not spec.delete_namespace_on_destroy
                    else ""
                ),
                "crds": list(self.chart.crds.names) if self.chart.crds else [],
            },
            "valuesHash": hashlib.sha256(
                json.dumps(values, sort_keys=True, default=str).encode()
            ).hexdigest(),
        }
        return OperatorVerification(
            f"{name}-verification",
            props,
            pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )

    def _crds(
        self,
        name: str,
        prepared: Prepared,
        version: pulumi.Output[str],
        provider: pulumi.ProviderResource,
    ) -> pulumi.Resource | None:
        """Every CRD of the chart, applied server-side before the Release, never deleted: one
        resource keyed by the set's digest (deploy/crds.py), with exactly the credentials the
        deploy uses; through the caller's provider when those are unknown."""
        crds, source = self.chart.crds, self.chart
        if crds is None:
            return None
        credentials = prepared.credentials
        if credentials is None or source.crds_path is None:
            return self._crd_group(name, version, provider)
        return ManagedCrdSet(
            f"{name}-crds",
            {
                "kubeconfig": (
                    pulumi.Output.secret(credentials.kubeconfig) if credentials.kubeconfig else None
                ),
                "context": credentials.context,
                "names": list(crds.names),
                "digest": crds.digest,
                "manifest": source.crds_path,
                # Resolved only once the upgrade guard has passed: no CRD changes on a refused
                # step.
                "chartVersion": version,
            },
            pulumi.ResourceOptions(parent=self),
        )

    def _crd_group(
        self, name: str, version: pulumi.Output[str], provider: pulumi.ProviderResource
    ) -> k8s.yaml.v2.ConfigGroup:
        """With a provider from the resource options and no provider_config, the credentials
        are unknown: the CRDs go through that provider, each a resource of its own (slower: the
        engine checks and diffs every CRD on each run), each retained on delete."""
        crds = self.chart.crds
        assert crds is not None
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


def _both_providers(config: str | None) -> str:
    return (
        f"both a Kubernetes provider in the resource options and provider_config ({config}) were "
        "given: the provider from the options deploys; provider_config is read for the live "
        "checks and the verification, so it must name the same cluster"
    )


def _guarded_version(running: pulumi.Input[str | None] | None, helm: Any) -> pulumi.Output[str]:
    """The target chart version; with a running version known only later (an Output), resolved
    only once the upgrade guard has passed on it, so every child waits for that decision (the
    SDK sends no registration before its inputs resolve)."""
    target, allow, ack = helm.version, helm.allow_unsafe_upgrade, helm.acknowledge_irreversible
    if running is None:
        return pulumi.Output.from_input(target)

    def guard(previous: str | None) -> str:
        with run_errors():
            check_transition(previous, target, allow_unsafe=allow, acknowledged=ack)
        return str(target)

    return pulumi.Output.from_input(running).apply(guard)  # type: ignore[arg-type]


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
