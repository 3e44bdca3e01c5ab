"""One stack's life on the local cluster with the real engine: a fresh install of 2.7.0, no churn,
one minor at a time to 2.9, the irreversible move to 3.0 (no churn after any step), destroy, and
an up of the same manifest again. The tests run in order and share the stack (an upgrade needs
what the one before installed)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from localcluster import LocalCluster
from localcluster.engine import Engine

from e2e.support import (
    cli,
    exists,
    get,
    helm_releases,
    manifest,
    percona_pg_cluster,
    state_fingerprint,
    target_file,
    wait_for,
)

pytestmark = pytest.mark.e2e

STACK = "life"
NAME = "pg-life"
NAMESPACE = "pg-life"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{NAME}-pg-operator"
CLUSTER_CRD = (
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/perconapgclusters.pgv2.percona.com"
)
DATABASES = f"/apis/pgv2.percona.com/v2/namespaces/{NAMESPACE}/perconapgclusters"


def deploy(engine: Engine, version: str, check: bool = True, **spec: Any) -> Any:
    engine.set_input(STACK, manifest(NAME, NAMESPACE, version, createNamespace=True, **spec))
    return engine.up(STACK, check=check)


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Engine:
    engine.init(STACK)
    return engine


def test_fresh_install_applies_crds_server_side_and_deploys_the_release(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    deploy(stack, "2.7.0")
    outputs = stack.outputs(STACK)
    assert outputs["namespace"] == NAMESPACE
    assert outputs["chart_version"] == "2.7.0"
    assert outputs["operator_version"] == "2.7.0"
    assert outputs["verified_at"]
    crd = get(local_cluster, CLUSTER_CRD)
    managers = {(m["manager"], m["operation"]) for m in crd["metadata"]["managedFields"]}
    assert ("percona-pg-operator", "Apply") in managers, f"not applied server-side: {managers}"
    assert crd["metadata"]["annotations"]["percona-pg-operator/chart-version"] == "2.7.0"
    assert helm_releases(local_cluster, NAMESPACE, NAME) == [{"revision": 1, "status": "deployed"}]
    deployment = get(local_cluster, DEPLOYMENT)
    available = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
    assert available["Available"] == "True"


def test_status_and_preflight_read_the_install(stack: Engine, tmp_path: Path) -> None:
    target = target_file(tmp_path, manifest(NAME, NAMESPACE, "2.7.0", createNamespace=True))
    status = cli(stack, "status", str(target), "--output", "json")
    assert status.returncode == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["release"]["chart_version"] == "2.7.0"
    assert report["release"]["status"] == "deployed"
    assert report["operator"]["ready"] is True
    assert all(c["established"] for c in report["crds"])

    checked = cli(stack, "preflight", str(target), "--output", "json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    checks = {c["name"]: c["status"] for c in json.loads(checked.stdout)["checks"]}
    assert "fail" not in checks.values(), checks


def test_preflight_of_the_stack_decides_as_the_program(stack: Engine, tmp_path: Path) -> None:
    """--stack reads the stack input from the stack's config and its last outputs through the
    Pulumi CLI, so the release is known to be this stack's; the same manifest from a file
    cannot tell whose it is."""
    target = target_file(tmp_path, manifest(NAME, NAMESPACE, "2.7.0", createNamespace=True))
    from_file = cli(stack, "preflight", str(target), "-o", "json")
    owner = {c["name"]: c for c in json.loads(from_file.stdout)["checks"]}["owner"]
    assert owner["status"] == "warn" and "owner is unknown" in owner["reason"], owner
    command = [str(Path(sys.prefix) / "bin" / "percona-pg-operator"), "preflight", "--stack"]
    by_stack = subprocess.run(
        [*command, f"organization/percona-pg-operator/{STACK}", "-o", "json"],
        cwd=stack.project, env=stack.env(), capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert by_stack.returncode == 0, by_stack.stdout + by_stack.stderr
    checks = {c["name"]: c for c in json.loads(by_stack.stdout)["checks"]}
    assert checks["owner"]["status"] == "ok", checks["owner"]
    assert json.loads(by_stack.stdout)["running_version"] == "2.7.0"


def test_a_second_preview_and_a_refresh_change_nothing(stack: Engine) -> None:
    stack.preview(STACK, "--expect-no-changes")
    stack.run("refresh", "--yes", "--expect-no-changes", "--stack", STACK)
    stack.preview(STACK, "--expect-no-changes")


def test_a_skipped_minor_is_refused_and_changes_nothing(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    before = state_fingerprint(stack, STACK)
    namespace_before = get(local_cluster, f"/api/v1/namespaces/{NAMESPACE}")["metadata"]
    crd_before = get(local_cluster, CLUSTER_CRD)["metadata"]["resourceVersion"]
    # The refused input would also relabel the namespace: nothing may be updated first.
    refused = deploy(stack, "2.9.0", check=False, metadata={"org": "acme"})
    assert refused.returncode != 0
    assert "2.8" in refused.stdout + refused.stderr
    assert state_fingerprint(stack, STACK) == before
    assert get(local_cluster, CLUSTER_CRD)["metadata"]["resourceVersion"] == crd_before
    namespace_after = get(local_cluster, f"/api/v1/namespaces/{NAMESPACE}")["metadata"]
    assert namespace_after["labels"] == namespace_before["labels"]
    assert helm_releases(local_cluster, NAMESPACE, NAME) == [{"revision": 1, "status": "deployed"}]


@pytest.mark.parametrize("version", ["2.8.2", "2.9.0"])
def test_one_minor_at_a_time(stack: Engine, local_cluster: LocalCluster, version: str) -> None:
    deploy(stack, version)
    assert stack.outputs(STACK)["chart_version"] == version
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1]["status"] == "deployed"
    deployment = get(local_cluster, DEPLOYMENT)
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert any(image.endswith(f":{version}") for image in images), images
    # The first preview after each step changes nothing (a drift gate in CI passes).
    stack.preview(STACK, "--expect-no-changes")


def _database(local_cluster: LocalCluster) -> None:
    """A PerconaPGCluster made ready. The operator would do that; here the test does, by
    patching its status."""
    body = percona_pg_cluster("db1", NAMESPACE)
    local_cluster.request("POST", DATABASES, body)
    local_cluster.request("PATCH", f"{DATABASES}/db1/status", {"status": {"state": "ready"}})


def test_the_move_to_3_0_needs_the_acknowledgement(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    _database(local_cluster)
    before = state_fingerprint(stack, STACK)
    refused = deploy(stack, "3.0.0", check=False)
    assert refused.returncode != 0
    assert "acknowledgeIrreversible" in refused.stdout + refused.stderr
    assert state_fingerprint(stack, STACK) == before
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1]["revision"] == 3


def test_the_move_to_3_0_awaits_the_api_group_migration(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    """The operator reports the migration on each PerconaPGCluster once 3.0 runs; the test plays
    that part: it sets the condition a while after the 3.0.0 Deployment appears, and the update
    must not finish before."""
    migrated_at: list[float] = []

    def play_operator() -> None:
        def runs_3_0() -> bool:
            images = [
                c["image"]
                for c in get(local_cluster, DEPLOYMENT)["spec"]["template"]["spec"]["containers"]
            ]
            return any(i.endswith(":3.0.0") for i in images)

        wait_for("the 3.0.0 operator Deployment", runs_3_0, timeout=600, poll=1)
        time.sleep(10)  # the update must still be waiting
        condition = {
            "type": "APIGroupMigration",
            "status": "True",
            "reason": "APIGroupMigrationCompleted",
            "message": "played by the test",
            "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        local_cluster.request(
            "PATCH",
            f"{DATABASES}/db1/status",
            {"status": {"state": "ready", "conditions": [condition]}},
        )
        migrated_at.append(time.time())

    operator = threading.Thread(target=play_operator, daemon=True)
    operator.start()
    deploy(
        stack,
        "3.0.0",
        helm={"acknowledgeIrreversible": "3.0"},
        verify={"timeoutSeconds": 600, "pollSeconds": 2},
    )
    finished = time.time()
    operator.join(timeout=60)
    assert migrated_at, "the 3.0.0 Deployment never appeared"
    assert finished >= migrated_at[0]
    outputs = stack.outputs(STACK)
    assert outputs["chart_version"] == "3.0.0"
    assert outputs["databases_checked"] == [f"{NAMESPACE}/db1"]
    assert exists(
        local_cluster,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        "postgresclusters.upstream.pgv2.percona.com",
    )
    # The old group's CRDs stay (the databases' old objects are still theirs until the user
    # deletes them).
    assert exists(
        local_cluster,
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
        "postgresclusters.postgres-operator.crunchydata.com",
    )
    # The first preview after the move changes nothing: the verification's migrateApiGroup
    # input turns false now that 3.0 runs, which is no reason to verify again.
    stack.preview(STACK, "--expect-no-changes")


def test_destroy_keeps_the_crds_the_namespace_and_the_database(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    destroyed = stack.run("destroy", "--yes", "--stack", STACK)
    # `pulumi destroy` does not run the program: the verification's delete tells what stays.
    said = " ".join(destroyed.stdout.split())
    assert f"destroy: kept in the cluster on purpose: the namespace {NAMESPACE}" in said
    assert "8 CRDs of the chart" in said and "perconapgclusters.pgv2.percona.com" in said
    assert "4 CRDs of the old group postgres-operator.crunchydata.com" in said
    assert stack.resources(STACK) == [] or all(
        r["type"] == "pulumi:pulumi:Stack" for r in stack.resources(STACK)
    )
    assert exists(local_cluster, CLUSTER_CRD)
    assert exists(local_cluster, f"/api/v1/namespaces/{NAMESPACE}")
    assert exists(local_cluster, f"{DATABASES}/db1")
    assert helm_releases(local_cluster, NAMESPACE, NAME) == []


def test_an_up_of_the_same_manifest_after_destroy_takes_back_what_was_kept(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    """The tear-down-and-rebuild runbook: the namespace destroy kept carries this manifest's
    labels, so the same manifest, unedited, installs again and then previews no change."""
    deploy(stack, "3.0.0", helm={"acknowledgeIrreversible": "3.0"})
    assert stack.outputs(STACK)["namespace"] == NAMESPACE
    assert helm_releases(local_cluster, NAMESPACE, NAME) == [{"revision": 1, "status": "deployed"}]
    assert exists(local_cluster, f"{DATABASES}/db1"), "the database was never touched"
    stack.preview(STACK, "--expect-no-changes")
