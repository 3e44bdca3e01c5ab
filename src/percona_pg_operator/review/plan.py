"""The upgrade plan: the supported path between two chart versions, and what each step changes.

Every fact comes from the two real chart packages of a step (CRDs, ``values.yaml``, the
templates rendered by the real Helm engine with the chart's defaults) and from the version facts
in ``chart`` (irreversible steps, the crVersion lines each operator manages). The JSON form::

    {"from": "2.7.0", "to": "3.0.0", "steps": [{"from": ..., "to": ...,
      "crds": {"added": [...], "removed": [...], "changed": [{"name", "versions_added",
               "versions_removed", "storage_version": {"from", "to"}, "fields_added",
               "fields_removed"}]},
      "values": {"added": [...], "removed": [...], "changed": [{"key", "from", "to"}]},
      "rbac": {"added": [...], "removed": [...]}, "images": {"from": [...], "to": [...]},
      "warnings": [...]}]}
"""

from __future__ import annotations

import itertools
from typing import Any

from .. import defaults
from ..chart import ChartPackage, ChartRepository, load_managed_crds
from ..errors import ChartRepositoryError, UpgradeGuardError
from ..versions import IRREVERSIBLE_STEPS, parse_version, supported_cr_lines, upgrade_steps
from .render import render_chart

# Rendering with the chart's defaults needs a release and a namespace; their names do not change
# what is compared (rules, images).
PLAN_RELEASE = "pg-operator"
PLAN_NAMESPACE = "percona-postgres-operator"


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys to leaf values; a mapping with keys is walked, anything else is a leaf."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def schema_fields(schema: dict[str, Any], prefix: str) -> set[str]:
    """Dotted paths of every property in an OpenAPI schema (array items walked through)."""
    fields: set[str] = set()
    while schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema = schema["items"]
    for name, sub in (schema.get("properties") or {}).items():
        path = f"{prefix}.{name}"
        fields.add(path)
        if isinstance(sub, dict):
            fields |= schema_fields(sub, path)
    return fields


def _crd_facts(crd: dict[str, Any]) -> tuple[list[str], str, set[str]]:
    versions = crd["spec"]["versions"]
    served = sorted(v["name"] for v in versions if v.get("served"))
    storage = next((v for v in versions if v.get("storage")), versions[0])
    schema = (storage.get("schema") or {}).get("openAPIV3Schema") or {}
    spec_schema = (schema.get("properties") or {}).get("spec") or {}
    return served, storage["name"], schema_fields(spec_schema, "spec")


def _crd_changes(old: ChartPackage, new: ChartPackage) -> dict[str, Any]:
    before = {c["metadata"]["name"]: c for c in load_managed_crds(old).chart_objects()}
    after = {c["metadata"]["name"]: c for c in load_managed_crds(new).chart_objects()}
    changed = []
    for name in sorted(before.keys() & after.keys()):
        served_old, storage_old, fields_old = _crd_facts(before[name])
        served_new, storage_new, fields_new = _crd_facts(after[name])
        entry = {
            "name": name,
            "versions_added": sorted(set(served_new) - set(served_old)),
            "versions_removed": sorted(set(served_old) - set(served_new)),
            "storage_version": {"from": storage_old, "to": storage_new},
            "fields_added": sorted(fields_new - fields_old),
            "fields_removed": sorted(fields_old - fields_new),
        }
        if (
            entry["versions_added"]
            or entry["versions_removed"]
            or storage_old != storage_new
            or entry["fields_added"]
            or entry["fields_removed"]
        ):
            changed.append(entry)
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def _value_changes(old: ChartPackage, new: ChartPackage) -> dict[str, Any]:
    before, after = flatten(old.member_yaml("values.yaml")), flatten(new.member_yaml("values.yaml"))
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": [
            {"key": key, "from": before[key], "to": after[key]}
            for key in sorted(before.keys() & after.keys())
            if before[key] != after[key]
        ],
    }


def rbac_rules(objects: list[dict[str, Any]]) -> set[str]:
    """Every (group, resource, verb) the chart's Roles and ClusterRoles grant, as text."""
    rules = set()
    for obj in objects:
        if obj.get("kind") not in ("Role", "ClusterRole"):
            continue
        for rule in obj.get("rules") or []:
            for group in rule.get("apiGroups") or [""]:
                for resource in rule.get("resources") or []:
                    for verb in rule.get("verbs") or []:
                        rules.add(f"{group or 'core'}/{resource}:{verb}")
    return rules


def images(objects: list[dict[str, Any]]) -> list[str]:
    found = []
    for obj in objects:
        if obj.get("kind") != "Deployment":
            continue
        pod = obj["spec"]["template"]["spec"]
        for container in [*(pod.get("initContainers") or []), *pod["containers"]]:
            found.append(str(container["image"]))
    return sorted(found)


def _warnings(old: ChartPackage, new: ChartPackage) -> list[str]:
    warnings = []
    step = parse_version(new.version)[:2]
    if parse_version(old.version)[:2] < step and step in IRREVERSIBLE_STEPS:
        warnings.append(IRREVERSIBLE_STEPS[step])
    dropped = set(supported_cr_lines(old.app_version or old.version)) - set(
        supported_cr_lines(new.app_version or new.version)
    )
    for major, minor in sorted(dropped):
        warnings.append(
            f"operator {new.app_version or new.version} no longer manages PerconaPGClusters with "
            f"crVersion {major}.{minor}.x: raise their spec.crVersion before this step"
        )
    return warnings


def plan_step(old: ChartPackage, new: ChartPackage) -> dict[str, Any]:
    """What one chart step changes, read from the two packages."""
    rendered_old = render_chart(old, {}, release=PLAN_RELEASE, namespace=PLAN_NAMESPACE)
    rendered_new = render_chart(new, {}, release=PLAN_RELEASE, namespace=PLAN_NAMESPACE)
    rules_old, rules_new = rbac_rules(rendered_old), rbac_rules(rendered_new)
    return {
        "from": old.version,
        "to": new.version,
        "crds": _crd_changes(old, new),
        "values": _value_changes(old, new),
        "rbac": {
            "added": sorted(rules_new - rules_old),
            "removed": sorted(rules_old - rules_new),
        },
        "images": {"from": images(rendered_old), "to": images(rendered_new)},
        "warnings": _warnings(old, new),
    }


def upgrade_plan(
    repository: ChartRepository, running_version: str, target_version: str | None = None
) -> dict[str, Any]:
    """The supported path (newest patch of each minor the repository offers) and each step."""
    available = repository.versions(defaults.CHART_NAME)
    if running_version not in available:
        raise ChartRepositoryError(
            f"chart {defaults.CHART_NAME} {running_version} is not in {repository.url} "
            f"(available: {', '.join(available) or 'none'})"
        )
    target = target_version or upgrade_steps(None, available)[-1]
    if target not in available:
        raise ChartRepositoryError(
            f"chart {defaults.CHART_NAME} {target} is not in {repository.url} "
            f"(available: {', '.join(available)})"
        )
    if parse_version(target) < parse_version(running_version):
        raise UpgradeGuardError(
            f"{running_version} -> {target} is a downgrade, which Percona does not support"
        )
    reachable = [v for v in available if parse_version(v) <= parse_version(target)]
    path = upgrade_steps(running_version, reachable)
    if path and path[-1] != target and parse_version(path[-1])[:2] == parse_version(target)[:2]:
        path[-1] = target  # the asked-for patch of the last line
    versions = [running_version, *path]
    packages = [repository.fetch(defaults.CHART_NAME, v) for v in versions]
    steps = [plan_step(a, b) for a, b in itertools.pairwise(packages)]
    return {"from": running_version, "to": target, "steps": steps}
