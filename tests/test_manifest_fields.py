"""Manifest rules for the configuration fields: each bad value is refused at its path.

Pure validation: no chart package is read (the renders of the same fields are in test_render.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import CHART_VERSIONS, manifest

from percona_pg_operator.errors import StackInputError
from percona_pg_operator.manifest import parse_document

LEADER_ELECTION_VERSIONS = [v for v in CHART_VERSIONS if v >= "2.9.0"]


@pytest.mark.parametrize(
    ("namespaces", "fragment"),
    [
        (["team-a", "team-a"], "listed twice"),
        (["team-a", ""], "blank"),
        ([" team-a"], "blank or has surrounding spaces"),
        (["Team_A"], "DNS-1123"),
        ([], "non-empty"),
    ],
)
def test_tenancy_list_rejected(namespaces: list[str], fragment: str) -> None:
    with pytest.raises(StackInputError, match=fragment) as info:
        parse_document(manifest(tenancy={"mode": "namespaces", "namespaces": namespaces}), "t")
    assert info.value.problems[0].path.startswith("spec.tenancy")


@pytest.mark.parametrize(
    "image",
    [
        {"digest": "sha256:xyz"},
        {"tag": "bad tag"},
        {"repository": "UPPER/case"},
        {"pullPolicy": "Sometimes"},
        {"pullSecrets": ["Bad_Name"]},
    ],
)
def test_image_fields_rejected(image: dict[str, Any]) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(image=image), "t")
    assert info.value.problems[0].path.startswith("spec.image")


@pytest.mark.parametrize(
    "toleration",
    [
        {"key": "a", "operator": "Exists", "value": "x"},
        {"value": "x"},
        {"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5},
    ],
)
def test_bad_tolerations_rejected(toleration: dict[str, Any]) -> None:
    with pytest.raises(StackInputError, match="tolerations"):
        parse_document(manifest(scheduling={"tolerations": [toleration]}), "t")


@pytest.mark.parametrize(
    "version", [v for v in CHART_VERSIONS if v not in LEADER_ELECTION_VERSIONS]
)
@pytest.mark.parametrize(
    ("field", "value"),
    [("leaderElection", {"enabled": True}), ("featureGates", {"backupSnapshots": True})],
)
def test_newer_fields_on_older_charts_rejected(version: str, field: str, value: Any) -> None:
    doc = manifest(operator={field: value}, helm={"version": version})
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    (problem,) = info.value.problems
    assert problem.path == f"spec.operator.{field}"
    assert ">= 2.9.0" in problem.message and version in problem.message


@pytest.mark.parametrize(
    ("operator", "fragment"),
    [
        ({"leaderElection": {"leaseDuration": "10s"}}, "leaseDuration > renewDeadline"),
        ({"leaderElection": {"retryPeriod": "ten"}}, "Go duration"),
        ({"replicas": 2, "leaderElection": {"enabled": False}}, "needs leader election"),
        ({"logLevel": "LOUD"}, "logLevel"),
        ({"featureGates": {"Backup Snapshots": True}}, "feature gate"),
    ],
)
def test_operator_fields_rejected(operator: dict[str, Any], fragment: str) -> None:
    with pytest.raises(StackInputError, match=fragment):
        parse_document(manifest(operator=operator), "t")


def test_raw_value_clashing_with_typed_field_is_an_error() -> None:
    doc = manifest(
        operator={"disableTelemetry": True},
        container={"resources": {"limits": {"cpu": "2"}}},
        helmValues={"disableTelemetry": False, "resources": {"limits": {"cpu": "4"}}},
    )
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    problems = {p.path: p for p in info.value.problems}
    assert set(problems) == {
        "spec.helmValues.disableTelemetry",
        "spec.helmValues.resources.limits.cpu",
    }
    assert "spec.operator.disableTelemetry" in problems["spec.helmValues.disableTelemetry"].message
    assert "spec.container.resources" in problems["spec.helmValues.resources.limits.cpu"].message


def test_raw_tenancy_clash() -> None:
    doc = manifest(tenancy={"mode": "all_namespaces"}, helmValues={"watchAllNamespaces": False})
    with pytest.raises(StackInputError, match=r"spec\.helmValues\.watchAllNamespaces"):
        parse_document(doc, "t")


def test_pod_security_needs_a_created_namespace() -> None:
    doc = manifest(createNamespace=False, namespacePodSecurity={"level": "privileged"})
    with pytest.raises(StackInputError, match="only applies to a namespace this stack creates"):
        parse_document(doc, "t")
    # The default setting, spelled out (as a dumped model does), is not an error.
    doc = manifest(createNamespace=False, namespacePodSecurity={"level": "baseline"})
    assert parse_document(doc, "t").target.spec.create_namespace is False
