"""The one function that turns a spec into the chart's Helm values, and the checks it relies on.

The Release and the offline renderer both call :func:`build_helm_values`, so what is rendered is
what is applied. Chart values (identical keys in charts 2.7.0 to 3.0.0 unless noted):
https://github.com/percona/percona-helm-charts/blob/main/charts/pg-operator/values.yaml

Three layers, lowest first: the module's defaults (operator resources), the raw
``spec.helm_values``, then the typed fields the manifest sets. A chart value that a typed field
owns (:data:`VALUE_OWNERS`) must be set through that field, so that its checks (tenancy, image,
quantities) cannot be bypassed: a raw value under it is an error naming the field unless it equals
what the field sets. The manifest model runs :func:`values_problems` when it is built, so a spec
that reaches :func:`build_helm_values` is known to be consistent; the raw values the typed fields
do not own are checked against the chart version's own values in ``_raw_values``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import defaults
from .._keys import to_snake
from .._merge import deep_merge
from ..versions import CHART_FIELD_MIN_VERSION, parse_version

if TYPE_CHECKING:  # the spec runs values_problems() to validate itself
    from ._kubernetes import CpuMemory
    from ._spec import Spec

# Which typed spec field owns each top-level chart value: raw helmValues may not set these.
VALUE_OWNERS = {
    "resources": "spec.container.resources",
    "watchNamespace": "spec.tenancy",
    "watchAllNamespaces": "spec.tenancy",
    "image": "spec.image",
    "operatorImageRepository": "spec.image.repository",
    "imagePullPolicy": "spec.image.pullPolicy",
    "imagePullSecrets": "spec.image.pullSecrets",
    "nodeSelector": "spec.scheduling.nodeSelector",
    "tolerations": "spec.scheduling.tolerations",
    "affinity": "spec.scheduling.affinity",
    "replicaCount": "spec.operator.replicas",
    "logLevel": "spec.operator.logLevel",
    "logStructured": "spec.operator.logStructured",
    "disableTelemetry": "spec.operator.disableTelemetry",
    "leaderElectionEnabled": "spec.operator.leaderElection.enabled",
    "leaseName": "spec.operator.leaderElection.leaseName",
    "leaseDuration": "spec.operator.leaderElection.leaseDuration",
    "renewDeadline": "spec.operator.leaderElection.renewDeadline",
    "retryPeriod": "spec.operator.leaderElection.retryPeriod",
    "featureGates": "spec.operator.featureGates",
    "podAnnotations": "spec.operator.podAnnotations",
}


def watched_namespaces(spec: Spec) -> list[str]:
    """The list for mode ``namespaces``: as given, plus the operator's own when missing."""
    names = list(spec.tenancy.namespaces)
    if spec.namespace not in names:
        names.append(spec.namespace)
    return names


def database_namespaces(spec: Spec) -> list[str] | None:
    """Where the operator looks for PerconaPGClusters (None: every namespace)."""
    mode = spec.tenancy.mode
    if mode == "all_namespaces":
        return None
    if mode == "namespaces":
        return watched_namespaces(spec)
    return [spec.namespace]


def _set_fields(cpu_memory: CpuMemory) -> dict[str, str]:
    return {k: v for k in ("cpu", "memory") if (v := getattr(cpu_memory, k)) is not None}


def _default_values(spec: Spec) -> dict[str, Any]:
    """The module's own defaults, for what the manifest leaves unset (raw values may override)."""
    res = spec.container.resources
    resources: dict[str, dict[str, str]] = {}
    for kind, given, effective in (
        ("limits", res.limits, res.effective_limits),
        ("requests", res.requests, res.effective_requests),
    ):
        unset = {k: v for k, v in effective.items() if getattr(given, k) is None}
        if unset:
            resources[kind] = unset
    return {"resources": resources} if resources else {}


def _typed_values(spec: Spec) -> dict[str, Any]:
    """The chart values the manifest's typed fields set explicitly."""
    values: dict[str, Any] = {}
    res = spec.container.resources
    resources = {
        k: part
        for k, cm in (("limits", res.limits), ("requests", res.requests))
        if (part := _set_fields(cm))
    }
    if resources:
        values["resources"] = resources

    if "tenancy" in spec.model_fields_set:
        mode = spec.tenancy.mode
        values["watchAllNamespaces"] = mode == "all_namespaces"
        values["watchNamespace"] = (
            ",".join(watched_namespaces(spec)) if mode == "namespaces" else ""
        )

    image = spec.image
    if image.tag or image.digest:
        ref = image.repository or defaults.IMAGE_REPOSITORY
        ref += f":{image.tag}" if image.tag else ""
        ref += f"@{image.digest}" if image.digest else ""
        values["image"] = ref
    elif image.repository:
        values["operatorImageRepository"] = image.repository
    if image.pull_policy:
        values["imagePullPolicy"] = image.pull_policy
    if image.pull_secrets:
        values["imagePullSecrets"] = [{"name": name} for name in image.pull_secrets]

    scheduling = spec.scheduling
    if scheduling.node_selector:
        values["nodeSelector"] = dict(scheduling.node_selector)
    if scheduling.tolerations:
        values["tolerations"] = [
            t.model_dump(by_alias=True, exclude_none=True) for t in scheduling.tolerations
        ]
    if scheduling.affinity is not None:
        affinity = scheduling.affinity.model_dump(by_alias=True, exclude_unset=True)
        if affinity:
            values["affinity"] = affinity

    op = spec.operator
    scalars: tuple[tuple[str, object], ...] = (
        ("replicaCount", op.replicas),
        ("logLevel", op.log_level),
        ("logStructured", op.log_structured),
        ("disableTelemetry", op.disable_telemetry),
    )
    for key, value in scalars:
        if value is not None:
            values[key] = value
    election = op.leader_election
    if election is not None:
        election_values: tuple[tuple[str, object], ...] = (
            ("leaderElectionEnabled", election.enabled),
            ("leaseName", election.lease_name),
            ("leaseDuration", election.lease_duration),
            ("renewDeadline", election.renew_deadline),
            ("retryPeriod", election.retry_period),
        )
        for key, value in election_values:
            if value is not None:
                values[key] = value
    if op.feature_gates is not None:
        values["featureGates"] = dict(op.feature_gates)
    if op.pod_annotations:
        values["podAnnotations"] = dict(op.pod_annotations)
    return values


def _same_quantity(raw: Any, typed: Any) -> bool:
    """`cpu: "2"` and `cpu: 2000m` are the same quantity, as the API server sees them."""
    from ..formats import parse_quantity

    try:
        return bool(parse_quantity(str(raw)) == parse_quantity(str(typed)))
    except ValueError:
        return False


@dataclass(frozen=True)
class ValueProblem:
    """A field of the spec (camelCase path under ``spec``) that the chart values cannot take."""

    loc: tuple[str, ...]
    message: str
    value: Any = None


_MISSING = object()


def _owned(raw: dict[str, Any], typed: Any, path: tuple[str, ...]) -> list[ValueProblem]:
    """Raw values under a key a typed field owns: each must be set through that field. A raw
    value equal to what the field sets (quantities by value: ``"2"`` is ``2000m``) is redundant,
    not a conflict, and passes."""
    problems: list[ValueProblem] = []
    for key, value in raw.items():
        here = (*path, key)
        if not path and key not in VALUE_OWNERS:
            continue  # not owned: checked against the chart version's values instead
        owner = VALUE_OWNERS[here[0]]
        given = typed.get(key, _MISSING) if isinstance(typed, dict) else _MISSING
        if isinstance(value, dict) and isinstance(given, dict):
            problems += _owned(value, given, here)
            continue
        if given is not _MISSING and (
            value == given or (here[0] == "resources" and _same_quantity(value, given))
        ):
            continue
        sets = f", which sets it to {given!r}" if given is not _MISSING else ""
        problems.append(
            ValueProblem(
                loc=("helmValues", *here),
                message=f"is owned by {owner}{sets}: set it there, not in helmValues",
                value=value,
            )
        )
    return problems


def chart_support_problems(spec: Spec) -> list[ValueProblem]:
    """Fields the chosen chart version does not have, each with the first version that does."""
    version = parse_version(spec.helm.version)
    problems = []
    for field_path, minimum in CHART_FIELD_MIN_VERSION.items():
        node: Any = spec
        for part in field_path:
            node = getattr(node, to_snake(part))
        if node is not None and version < parse_version(minimum):
            problems.append(
                ValueProblem(
                    loc=field_path,
                    message=(
                        f"needs chart pg-operator >= {minimum}; spec.helm.version is "
                        f"{spec.helm.version}"
                    ),
                )
            )
    return problems


def values_problems(spec: Spec) -> list[ValueProblem]:
    """Everything that keeps this spec's values from being built for its chart version."""
    return chart_support_problems(spec) + _owned(spec.helm_values, _typed_values(spec), ())


def build_helm_values(spec: Spec) -> dict[str, Any]:
    """The chart values for this (validated, hence consistent) spec."""
    merged = deep_merge(_default_values(spec), spec.helm_values)
    return deep_merge(merged, _typed_values(spec))


def operator_image(values: dict[str, Any], app_version: str) -> str:
    """The operator image the chart runs for these values (templates/_helpers.tpl
    ``postgres-operator.image``: ``image`` if set, else ``operatorImageRepository:appVersion``)."""
    if values.get("image"):
        return str(values["image"])
    repository = values.get("operatorImageRepository") or defaults.IMAGE_REPOSITORY
    return f"{repository}:{app_version}"
