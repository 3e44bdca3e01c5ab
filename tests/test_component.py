"""The component under Pulumi mocks: what it registers, how, and what it exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLES, manifest
from pulumi_harness import (
    COMPONENT_TYPE,
    CRD_TYPE,
    NAMESPACE_TYPE,
    PROVIDER_TYPE,
    RELEASE_TYPE,
    RecordingMocks,
    run_pulumi,
)

from percona_pg_operator import PerconaPostgresOperator, outputs
from percona_pg_operator.spec import StackInput
from percona_pg_operator.stack_input import parse_document, read_file

PLAIN_HELM = {"helm": {"manageCrds": False}}


def build(doc: dict[str, object] | StackInput, **kwargs: object) -> PerconaPostgresOperator:
    stack_input = doc if isinstance(doc, StackInput) else parse_document(doc, "test")
    return PerconaPostgresOperator("pg", stack_input, **kwargs)  # type: ignore[arg-type]


def test_release_inputs_from_defaults() -> None:
    run = run_pulumi(lambda: build(manifest(**PLAIN_HELM)))
    release = run.one(RELEASE_TYPE).inputs
    assert release["chart"] == "pg-operator"
    assert release["repositoryOpts"] == {"repo": "https://percona.github.io/percona-helm-charts/"}
    assert release["version"] == "3.0.0"
    assert release["name"] == "pg-op"
    assert release["namespace"] == "percona-postgres-operator"
    assert release["atomic"] is True
    assert release["cleanupOnFail"] is True
    assert release["skipAwait"] is False
    assert release["waitForJobs"] is True
    assert release["timeout"] == 600
    assert release["values"] == {
        "resources": {
            "limits": {"cpu": "1000m", "memory": "1Gi"},
            "requests": {"cpu": "100m", "memory": "256Mi"},
        }
    }


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_each_example_registers_its_resources(example: Path) -> None:
    stack_input = read_file(example)
    doc = stack_input.model_dump(by_alias=True, exclude_none=True)
    doc["target"]["spec"]["helm"]["manageCrds"] = False
    run = run_pulumi(lambda: build(parse_document(doc, "t")))
    spec = stack_input.target.spec
    types = sorted(r.type for r in run.registrations)
    expected = [COMPONENT_TYPE, PROVIDER_TYPE, RELEASE_TYPE]
    if spec.create_namespace:
        expected.append(NAMESPACE_TYPE)
    assert types == sorted(expected)
    release = run.one(RELEASE_TYPE).inputs
    assert release["namespace"] == spec.namespace
    assert release["values"]["resources"]["limits"] == spec.container.resources.effective_limits
    assert release["values"]["resources"]["requests"] == (
        spec.container.resources.effective_requests
    )
