"""The preflight: read the live cluster, and refuse an unsafe change before anything changes.

One set of checks serves the Pulumi program (at preview and at up) and the ``preflight`` and
``status`` commands. The live reads are in ``cluster`` (read only); the version facts in
``chart``. Each check concludes ok, warn or fail with its reason; any fail refuses the change.

What each check reads and concludes:

- ``cluster``: ``GET /version`` — reachable, and the server's version.
- ``release``: the Helm release records (Secrets ``owner=helm,name=<release>``) — a release left
  ``pending-*`` or a failed first install is refused with the exact recovery.
- ``owner``: the release against the stack's last outputs — a release the stack did not create
  is refused with how to adopt or remove it (a warning where the stack's state is unknown).
- ``upgrade``: the live release's chart version (the stack's state only as fallback) against the
  target — Percona's one-minor-at-a-time path.
- ``namespace``: the Namespace — missing when it must exist, or present and not this stack's when
  the stack would create it.
- ``databases``: every ``PerconaPGCluster`` the operator watches — a ``spec.crVersion`` the target
  operator does not manage is refused, a cluster that is not ``ready`` is a warning.
- ``kubernetes``: the chart's ``kubeVersion`` constraint against the server's version.
- ``crds`` and ``operator``: the managed CRDs and the operator Deployment, for information.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .. import defaults, outputs
from ..chart import ChartPackage, load_managed_crds, stack_repository, target_package
from ..cluster import (
    ClusterState,
)
from ..cluster.read import inspect_cluster
from ..errors import UpgradeGuardError, UsageError
from ..manifest import KubernetesPerconaPostgresOperator, Spec, StackInput, watched_namespaces
from ..versions import check_transition, kube_version_satisfies, parse_version, supported_cr_lines

# The switch for runs with no cluster on purpose (Pulumi mock tests, air-gapped reviews).
PREFLIGHT_ENV = "PERCONA_PG_OPERATOR_PREFLIGHT"

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    reason: str


@dataclass(frozen=True)
class StoredRelease:
    """The Release as this stack's state last recorded it (its outputs repeat its inputs):
    how its chart was fetched, and the version and values it was installed with."""

    chart: str
    repository: str | None
    version: str
    values: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_outputs(cls, values: Mapping[str, Any]) -> StoredRelease | None:
        chart, version = values.get("chart"), values.get("version")
        if not isinstance(chart, str) or not isinstance(version, str):
            return None
        options = values.get("repositoryOpts")
        repo = options.get("repo") if isinstance(options, Mapping) else None
        stored = values.get("values")
        return cls(
            chart=chart,
            repository=repo if isinstance(repo, str) and repo else None,
            version=version,
            values=dict(stored) if isinstance(stored, Mapping) else {},
        )


@dataclass(frozen=True)
class StackState:
    """What the stack recorded on its last update: its outputs, and its Release's."""

    namespace: str | None = None
    release_name: str | None = None
    chart_version: str | None = None
    release: StoredRelease | None = None

    @classmethod
    def from_outputs(
        cls, values: Mapping[str, Any], release: StoredRelease | None = None
    ) -> StackState:
        def text(key: str) -> str | None:
            value = values.get(key)
            return str(value) if value else None

        return cls(
            namespace=text(outputs.NAMESPACE),
            release_name=text(outputs.RELEASE_NAME),
            chart_version=text(outputs.CHART_VERSION),
            release=release,
        )

    @property
    def deployed_by_upstream(self) -> bool:
        """project-planton's Go module exports only the namespace."""
        return self.namespace is not None and self.chart_version is None

    @property
    def recorded_version(self) -> str | None:
        """The chart version this stack's state says runs (upstream: the one it pins)."""
        if self.deployed_by_upstream:
            return defaults.UPSTREAM_CHART_VERSION
        return self.chart_version


@dataclass(frozen=True)
class Preflight:
    target_version: str
    running_version: str | None
    checks: list[Check]
    state: ClusterState | None = field(default=None, repr=False)

    @property
    def refused(self) -> bool:
        return any(c.status == "fail" for c in self.checks)

    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def refusal_message(self) -> str:
        """The one wording of a refusal (the CLI's, the program's, the fleet's)."""
        lines = [f"  - {c.name}: {c.reason}" for c in self.failures()]
        return "the preflight refused the change; nothing was changed:\n" + "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "target_version": self.target_version,
            "running_version": self.running_version,
            "refused": self.refused,
            "checks": [asdict(c) for c in self.checks],
        }


def preflight_enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    value = env.get(PREFLIGHT_ENV, "on").strip().lower()
    if value not in ("on", "off"):
        raise UsageError(f"env {PREFLIGHT_ENV} must be on or off, not {value!r}")
    return value == "on"


def run_preflight(
    stack_input: StackInput,
    *,
    target_version: str | None = None,
    stack: StackState | None = None,
    environ: Mapping[str, str] | None = None,
    package: ChartPackage | None = None,
    **client_options: Any,
) -> Preflight:
    """Fetch the target chart (unless the caller resolved ``package`` already), read the
    cluster, and evaluate every check (the command line's and the fleet's preflight; the
    component goes through ``stages``)."""
    if package is None:
        repository = stack_repository(stack_input, environ)
        package = target_package(stack_input, repository, target_version)
    state = inspect_cluster(
        stack_input,
        crd_names=load_managed_crds(package).names,
        environ=environ,
        **client_options,
    )
    return evaluate(stack_input, state, package, stack=stack)


def evaluate(
    stack_input: StackInput,
    state: ClusterState,
    package: ChartPackage,
    *,
    stack: StackState | None,
) -> Preflight:
    """Every check on what was read. ``stack`` is None where the stack's state is unknown."""
    target = stack_input.target
    spec = target.spec
    release = state.release
    live_version = release.chart_version if release is not None else None
    running = live_version or (stack.recorded_version if stack is not None else None)
    checks = [
        Check("cluster", "ok", f"Kubernetes {state.server_version or 'of unknown version'}"),
        _release_check(state, target.release_name, spec.namespace),
        *_owner_check(state, target.release_name, spec, stack),
        _upgrade_check(running, package.version, spec, stack, live_version),
        _namespace_check(state, target, stack),
        _databases_check(state, package.app_version or package.version, spec),
        _kubernetes_check(state, package),
        _crds_check(state),
        _operator_check(state),
    ]
    return Preflight(
        target_version=package.version, running_version=running, checks=checks, state=state
    )


def _release_check(state: ClusterState, name: str, namespace: str) -> Check:
    release = state.release
    if release is None:
        return Check("release", "ok", f"no release {name} in {namespace}: a fresh install")
    where = f"-n {namespace}"
    if release.chart_name and release.chart_name != defaults.CHART_NAME:
        return Check(
            "release",
            "fail",
            f"release {name} in {namespace} is chart {release.chart_name}, not "
            f"{defaults.CHART_NAME}: choose another metadata.name",
        )
    deployed = state.last_deployed
    if release.pending:
        recovery = (
            f"roll back to the last deployed revision: helm rollback {name} "
            f"{deployed.revision} {where}"
            if deployed is not None
            else f"no revision was ever deployed: helm uninstall {name} {where} "
            "(CRDs and databases stay)"
        )
        return Check(
            "release",
            "fail",
            f"release {name} is {release.status} at revision {release.revision}: a run stopped "
            f"half-way and Helm refuses to change it; {recovery} (or percona-pg-operator "
            "repair MANIFEST --yes), then run again; a killed `pulumi up` also leaves its "
            "stack locked on a self-managed backend: `pulumi cancel` removes the lock",
        )
    if release.status == "failed" and deployed is None:
        return Check(
            "release",
            "fail",
            f"the first install of release {name} failed (revision {release.revision}): "
            f"helm uninstall {name} {where} (CRDs and databases stay), then run again",
        )
    if release.status == "failed" and deployed is not None:
        return Check(
            "release",
            "warn",
            f"the last change to release {name} failed (revision {release.revision}); revision "
            f"{deployed.revision} (chart {deployed.chart_version}) runs; this run upgrades it",
        )
    return Check(
        "release",
        "ok",
        f"release {name}: chart {release.chart_version} (operator {release.app_version}), "
        f"{release.status}, revision {release.revision}",
    )


def _owner_check(
    state: ClusterState, name: str, spec: Spec, stack: StackState | None
) -> list[Check]:
    release = state.release
    namespace = spec.namespace
    if release is None:
        if spec.adopt.release:
            return [Check("owner", "warn", f"spec.adopt.release: no release {name} to adopt")]
        return []
    found = f"chart {release.chart_version}, {release.status}"
    if stack is None:
        return [
            Check(
                "owner",
                "warn",
                f"release {name} found ({found}); its owner is unknown here (no stack state)",
            )
        ]
    ours = stack.release_name == name or (
        stack.deployed_by_upstream and stack.namespace == namespace
    )
    if ours:
        if spec.adopt.release:
            return [
                Check(
                    "owner",
                    "warn",
                    f"release {name} is this stack's now: remove spec.adopt.release so that "
                    "the manifest's values apply",
                )
            ]
        return [Check("owner", "ok", f"release {name} is this stack's")]
    if spec.adopt.release:
        if spec.helm.version != release.chart_version:
            return [
                Check(
                    "owner",
                    "fail",
                    f"adopting release {name} ({found}): the import must match what runs; set "
                    f"spec.helm.version: {release.chart_version} for the adoption run, and "
                    "upgrade on a later one",
                )
            ]
        return [
            Check(
                "owner",
                "ok",
                f"adopting release {name} ({found}): imported into the stack on this run, "
                "changing nothing in the cluster",
            )
        ]
    return [
        Check(
            "owner",
            "fail",
            f"release {name} ({found}) exists in {namespace} but this stack did not create it "
            "(its outputs name no such release); adopt it with spec.adopt.release: true (see "
            f"the README, Adopting), or remove it: helm uninstall {name} -n {namespace} (CRDs "
            "and databases stay)",
        )
    ]


def _upgrade_check(
    running: str | None,
    target: str,
    spec: Spec,
    stack: StackState | None,
    live_version: str | None,
) -> Check:
    allow_unsafe = spec.helm.allow_unsafe_upgrade
    try:
        check_transition(
            running,
            target,
            allow_unsafe=allow_unsafe,
            acknowledged=spec.helm.acknowledge_irreversible,
        )
    except UpgradeGuardError as exc:
        return Check("upgrade", "fail", str(exc))
    source = ""
    if (
        live_version is not None
        and stack is not None
        and stack.recorded_version not in (None, live_version)
    ):
        source = (
            f" (the stack's state says {stack.recorded_version}; the cluster runs {live_version})"
        )
    if running is None:
        return Check("upgrade", "ok", f"a fresh install of chart {target}")
    if running == target:
        return Check("upgrade", "ok", f"chart {target} runs already{source}")
    note = " (unsafe steps allowed by spec.helm.allowUnsafeUpgrade)" if allow_unsafe else ""
    return Check("upgrade", "ok", f"chart {running} -> {target}: a supported step{note}{source}")


def _namespace_check(
    state: ClusterState, target: KubernetesPerconaPostgresOperator, stack: StackState | None
) -> Check:
    spec = target.spec
    name = spec.namespace
    if not spec.create_namespace:
        if state.namespace_exists:
            return Check("namespace", "ok", f"namespace {name} exists")
        return Check(
            "namespace",
            "fail",
            f"namespace {name} does not exist and createNamespace is false: create it, or set "
            "createNamespace: true",
        )
    if not state.namespace_exists:
        return Check("namespace", "ok", f"namespace {name} will be created")
    if stack is not None and stack.namespace == name:
        return Check("namespace", "ok", f"namespace {name} is this stack's")
    if target.owns_namespace(state.namespace_labels) and not spec.adopt.namespace:
        return Check(
            "namespace",
            "ok",
            f"namespace {name} carries this manifest's labels (kind, name and id): this "
            "manifest's stack created it and a destroy kept it; this run takes it back",
        )
    if stack is None:
        return Check(
            "namespace",
            "warn",
            f"namespace {name} exists; its owner is unknown here: with createNamespace: true a "
            "stack that did not create it would take it over",
        )
    if spec.adopt.namespace:
        return Check(
            "namespace", "ok", f"adopting namespace {name}: imported into the stack on this run"
        )
    return Check(
        "namespace",
        "fail",
        f"namespace {name} exists and this stack did not create it; with createNamespace: true "
        "the stack would take it over (and deleteNamespaceOnDestroy would delete it): set "
        "createNamespace: false to install into it, or spec.adopt.namespace: true to adopt it",
    )


def _databases_check(state: ClusterState, operator_version: str, spec: Spec) -> Check:
    scope = {
        "own_namespace": f"namespace {spec.namespace}",
        "namespaces": "namespaces " + ", ".join(watched_namespaces(spec)),
        "all_namespaces": "all namespaces",
    }[spec.tenancy.mode]
    if not state.databases:
        return Check("databases", "ok", f"no PerconaPGCluster in {scope}")
    lines = supported_cr_lines(operator_version)
    names = ", ".join(f"{major}.{minor}.x" for major, minor in lines)
    unsupported, unknown, not_ready = [], [], []
    for db in state.databases:
        label = f"{db.namespace}/{db.name}"
        try:
            line = parse_version(db.cr_version)[:2]
        except UpgradeGuardError:
            unknown.append(f"{label} (crVersion {db.cr_version or 'unset'})")
        else:
            if line not in lines:
                unsupported.append(f"{label} (crVersion {db.cr_version})")
        if not db.ready:
            not_ready.append(f"{label} ({db.state})")
    if unsupported:
        return Check(
            "databases",
            "fail",
            f"operator {operator_version} manages crVersion {names} only; these would be left "
            f"on an unsupported version: {', '.join(unsupported)}; raise their spec.crVersion "
            "first (https://docs.percona.com/percona-operator-for-postgresql/3.0.0/"
            "update-operator.html)",
        )
    problems = []
    if unknown:
        problems.append("crVersion unreadable: " + ", ".join(unknown))
    if not_ready:
        problems.append("not ready: " + ", ".join(not_ready))
    if problems:
        return Check("databases", "warn", "; ".join(problems))
    return Check(
        "databases",
        "ok",
        f"{len(state.databases)} PerconaPGCluster(s) in {scope}, all ready, crVersion in {names}",
    )


def _kubernetes_check(state: ClusterState, package: ChartPackage) -> Check:
    constraint = package.kube_version
    server = state.server_version
    if not constraint:
        return Check(
            "kubernetes",
            "ok",
            f"chart {package.version} declares no kubeVersion; the server runs {server}",
        )
    try:
        fits = kube_version_satisfies(str(constraint), server)
    except (ValueError, UpgradeGuardError):
        return Check(
            "kubernetes",
            "warn",
            f"cannot compare the server version {server!r} with kubeVersion {constraint!r}",
        )
    if fits:
        return Check("kubernetes", "ok", f"Kubernetes {server} meets kubeVersion {constraint}")
    return Check(
        "kubernetes",
        "fail",
        f"Kubernetes {server} is outside chart {package.version}'s kubeVersion {constraint}",
    )


def _crds_check(state: ClusterState) -> Check:
    missing = [c.name for c in state.crds if not c.exists]
    pending = [c.name for c in state.crds if c.exists and not c.established]
    if pending:
        return Check("crds", "warn", "not Established: " + ", ".join(pending))
    present = len(state.crds) - len(missing)
    reason = f"{present} of the chart's {len(state.crds)} CRDs present and Established"
    return Check("crds", "ok", reason + (f"; to create: {len(missing)}" if missing else ""))


def _operator_check(state: ClusterState) -> Check:
    deployment = state.deployment
    if deployment is None:
        if state.release is None:
            return Check("operator", "ok", "no operator yet")
        return Check("operator", "warn", "the release exists but no operator Deployment was found")
    images = ", ".join(deployment.images)
    health = f"{deployment.ready_replicas}/{deployment.replicas} ready"
    if not deployment.ready:
        return Check("operator", "warn", f"{deployment.name} ({images}) is not ready: {health}")
    return Check("operator", "ok", f"{deployment.name} ({images}), {health}")


def summary_lines(checks: Sequence[Check]) -> list[str]:
    width = max((len(c.name) for c in checks), default=0)
    return [f"{c.status:4s}  {c.name:{width}s}  {c.reason}" for c in checks]
