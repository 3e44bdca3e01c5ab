"""The managed CRDs on the local cluster with the real engine: one resource keyed by the set's
digest (deploy/crds.py). Applied before the Release, found by a refresh when changed or deleted by
hand, never deleted (on destroy, and on the move from the per-CRD state of version 0.2.0, whose
CRDs went through pulumi-kubernetes one resource each). Adopted from a Helm install: see
test_local_adoption.py; the 3.0 group move and a refused step: test_local_lifecycle.py."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import exists, get, helm_releases, manifest, new_stack, wait_for

pytestmark = pytest.mark.e2e

STACK = "crds"
NAME = "pg-crds"
NAMESPACE = "pg-crds"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
CLUSTER_CRD = f"{CRDS}/perconapgclusters.pgv2.percona.com"
# A CRD no test creates objects of: deleting it by hand loses nothing.
RESTORE_CRD = f"{CRDS}/perconapgrestores.pgv2.percona.com"
CRD_SET_NAME = f"{NAME}-crds"
# The last commit whose stacks hold each CRD as a pulumi-kubernetes resource (through a yaml/v2
# ConfigGroup): the move from its state is run with its own code.
PER_CRD_COMMIT = "ff1b6c4"


def crd_set(engine: Engine, stack: str, name: str = CRD_SET_NAME) -> dict[str, object]:
    (found,) = [
        r
        for r in engine.resources(stack)
        if r["type"] == "pulumi-python:dynamic:Resource" and r["urn"].endswith(f"::{name}")
    ]
    return dict(found)


def uids(cluster: LocalCluster) -> dict[str, str]:
    listed = get(cluster, CRDS)["items"]
    return {
        c["metadata"]["name"]: c["metadata"]["uid"]
        for c in listed
        if c["metadata"]["name"].endswith("percona.com")
    }


@pytest.fixture(scope="module")
def stack(engine: Engine) -> Engine:
    return new_stack(engine, STACK, manifest(NAME, NAMESPACE, "2.8.2", createNamespace=True))


def test_the_crds_are_applied_before_the_release(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    (release,) = [r for r in stack.resources(STACK) if r["type"] == "kubernetes:helm.sh/v3:Release"]
    crds = crd_set(stack, STACK)
    assert crds["urn"] in release["dependencies"], release["dependencies"]
    live = get(local_cluster, CLUSTER_CRD)
    applied = crds["outputs"]["applied"]  # type: ignore[index]
    meta = live["metadata"]
    assert applied[meta["name"]] == f"{meta['uid']}/{meta['generation']}"
    ours = [m for m in meta["managedFields"] if m["manager"] == "percona-pg-operator"]
    assert [m["operation"] for m in ours] == ["Apply"], meta["managedFields"]
    secret = get(
        local_cluster, f"/api/v1/namespaces/{NAMESPACE}/secrets/sh.helm.release.v1.{NAME}.v1"
    )
    # Both to the second: the CRD was applied no later than Helm's first record was written.
    assert ours[0]["time"] <= secret["metadata"]["creationTimestamp"]
    assert meta["annotations"]["percona-pg-operator/chart-version"] == "2.8.2"


def test_the_state_holds_no_crd_schema(stack: Engine) -> None:
    """The megabytes stay out of the engine: the set is its digest, names and marks."""
    crds = crd_set(stack, STACK)
    assert set(crds["inputs"]) <= {  # type: ignore[arg-type]
        "__provider", "kubeconfig", "context", "names", "digest", "manifest", "chartVersion",
        "applied",
    }  # fmt: skip
    types = {r["type"] for r in stack.resources(STACK)}
    assert "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" not in types


def test_a_refresh_finds_a_crd_changed_by_hand_and_the_next_up_restores_it(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    original = get(local_cluster, CLUSTER_CRD)["spec"]["names"]
    local_cluster.request("PATCH", CLUSTER_CRD, {"spec": {"names": {"shortNames": ["byhand"]}}})
    stack.preview(STACK, "--expect-no-changes")  # the state alone cannot tell
    stack.run("refresh", "--yes", "--stack", STACK)
    changed = stack.preview(STACK, "--expect-no-changes", check=False)
    assert changed.returncode != 0, changed.stdout
    assert CRD_SET_NAME in changed.stdout
    stack.up(STACK)
    assert get(local_cluster, CLUSTER_CRD)["spec"]["names"] == original
    stack.preview(STACK, "--expect-no-changes")
    stack.run("refresh", "--yes", "--expect-no-changes", "--stack", STACK)


def test_a_refresh_finds_a_crd_deleted_by_hand_and_the_next_up_creates_it(
    stack: Engine, local_cluster: LocalCluster
) -> None:
    local_cluster.request("DELETE", RESTORE_CRD)

    def gone() -> bool:
        return not exists(local_cluster, RESTORE_CRD)

    wait_for("the CRD deleted by hand to go", gone, timeout=60)
    stack.run("refresh", "--yes", "--stack", STACK)
    stack.up(STACK)
    assert exists(local_cluster, RESTORE_CRD)
    stack.preview(STACK, "--expect-no-changes")


def test_destroy_deletes_no_crd(stack: Engine, local_cluster: LocalCluster) -> None:
    before = uids(local_cluster)
    stack.run("destroy", "--yes", "--stack", STACK)
    assert uids(local_cluster) == before
    assert helm_releases(local_cluster, NAMESPACE, NAME) == []


# -- the move from per-CRD state --------------------------------------------------------------

MOVE_STACK = "crds-move"
MOVE_NAME = "pg-crds-move"


@pytest.fixture(scope="module")
def per_crd_code(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package's source at PER_CRD_COMMIT, from this clone's history."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", PER_CRD_COMMIT, "src/percona_pg_operator"],
        capture_output=True, check=False, timeout=120,
    )  # fmt: skip
    assert archive.returncode == 0, archive.stderr.decode(errors="replace")
    where = tmp_path_factory.mktemp("per-crd")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(where, filter="data")
    yield where / "src"


def test_the_move_from_per_crd_state_deletes_no_crd(
    engine: Engine, local_cluster: LocalCluster, per_crd_code: Path
) -> None:
    engine.init(MOVE_STACK)
    engine.set_input(MOVE_STACK, manifest(MOVE_NAME, MOVE_NAME, "2.9.0", createNamespace=True))
    engine.run("up", "--yes", "--skip-preview", "--stack", MOVE_STACK,
               env={"PYTHONPATH": str(per_crd_code)})  # fmt: skip
    kinds = [r["type"] for r in engine.resources(MOVE_STACK)]
    per_crd = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    assert kinds.count(per_crd) >= 8, "the old code did not hold each CRD in the state"
    before = uids(local_cluster)

    preview = engine.preview(MOVE_STACK, "--diff")
    assert "replace" not in preview.stdout.split("Resources:")[-1], preview.stdout
    engine.up(MOVE_STACK)
    assert uids(local_cluster) == before, "a CRD was deleted on the move"
    kinds = [r["type"] for r in engine.resources(MOVE_STACK)]
    assert per_crd not in kinds
    crd = get(local_cluster, CLUSTER_CRD)
    managers = {m["manager"] for m in crd["metadata"]["managedFields"]}
    assert "percona-pg-operator" in managers
    assert not [m for m in managers if m.startswith("pulumi-kubernetes-")], managers
    assert helm_releases(local_cluster, MOVE_NAME, MOVE_NAME)[-1] == {
        "revision": 1,
        "status": "deployed",
    }
    engine.preview(MOVE_STACK, "--expect-no-changes")
    engine.run("destroy", "--yes", "--stack", MOVE_STACK)
    assert uids(local_cluster) == before
