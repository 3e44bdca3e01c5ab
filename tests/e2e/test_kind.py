"""End to end on a real cluster with the Pulumi CLI: install, upgrade, guard, destroy.

Runnable by anyone with kind, kubectl and the Pulumi CLI:

    kind create cluster --name percona-e2e
    KUBE_CTX=kind-percona-e2e .venv/bin/python -m pytest -m e2e tests/e2e -v

It uses a local Pulumi backend in a temporary folder and the public Percona chart repository
(or PERCONA_PG_OPERATOR_CHART_REPO). Skipped, with the reason, where any of that is missing,
unless PERCONA_PG_OPERATOR_E2E_REQUIRED=1 (the GitHub Actions e2e job), where a missing tool or
cluster fails the run instead of passing it vacuously.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the suite's autouse fixture clears these for the unit tests.
CONTEXT = os.environ.get("KUBE_CTX", "kind-percona-e2e")
MIRROR = os.environ.get("PERCONA_PG_OPERATOR_CHART_REPO")
REQUIRED = os.environ.get("PERCONA_PG_OPERATOR_E2E_REQUIRED") == "1"

pytestmark = pytest.mark.e2e


def _missing() -> str | None:
    for tool in ("pulumi", "kubectl"):
        if shutil.which(tool) is None:
            return f"the {tool} CLI is not installed"
    probe = subprocess.run(
        ["kubectl", "--context", CONTEXT, "version", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"no reachable cluster for kube context {CONTEXT} (kind create cluster?)"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing()
    if reason and REQUIRED:
        pytest.fail(f"e2e required but {reason}")
    if reason:
        pytest.skip(reason)
    from pulumi import automation as auto

    backend = tmp_path_factory.mktemp("pulumi-backend")
    env = {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "e2e",
        "KUBE_CTX": CONTEXT,
        **({"PERCONA_PG_OPERATOR_CHART_REPO": MIRROR} if MIRROR else {}),
    }
    workspace = auto.LocalWorkspaceOptions(work_dir=str(ROOT), env_vars=env)
    stack = auto.create_or_select_stack("e2e", work_dir=str(ROOT), opts=workspace)
    yield stack
    stack.destroy(on_output=print)
    stack.workspace.remove_stack("e2e")


def deploy(stack: Any, version: str, **spec: Any) -> Any:
    manifest = {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": "pg-operator-e2e"},
        "spec": {
            "namespace": "percona-e2e",
            "createNamespace": True,
            "helm": {"version": version},
            **spec,
        },
    }
    from pulumi.automation import ConfigValue

    stack.set_config("planton-cloud:stack-input", ConfigValue(value=yaml.safe_dump(manifest)))
    return stack.up(on_output=print)


def kubectl(*args: str) -> Any:
    out = subprocess.run(
        ["kubectl", "--context", CONTEXT, *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_install_upgrade_guard_and_destroy(stack: Any) -> None:
    result = deploy(stack, "2.9.0")
    assert result.outputs["namespace"].value == "percona-e2e"
    assert result.outputs["chart_version"].value == "2.9.0"
    deployment = kubectl("-n", "percona-e2e", "get", "deployment", "pg-operator-e2e-pg-operator")
    assert deployment["status"]["readyReplicas"] == 1
    crd = kubectl("get", "crd", "perconapgclusters.pgv2.percona.com")
    assert crd["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"

    result = deploy(stack, "3.0.0")
    assert result.outputs["operator_version"].value == "3.0.0"
    kubectl("get", "crd", "postgresclusters.upstream.pgv2.percona.com")
    # The old-group CRD left the stack but stayed in the cluster.
    kubectl("get", "crd", "postgresclusters.postgres-operator.crunchydata.com")

    from pulumi.automation import CommandError

    with pytest.raises(CommandError, match="is a downgrade"):
        deploy(stack, "2.9.0")

    stack.destroy(on_output=print)
    kubectl("get", "crd", "perconapgclusters.pgv2.percona.com")  # retained on destroy
    kubectl("get", "namespace", "percona-e2e")  # the namespace (and its databases) too
    subprocess.run(
        ["kubectl", "--context", CONTEXT, "delete", "namespace", "percona-e2e", "--wait=false"],
        check=True,
        timeout=120,
    )
