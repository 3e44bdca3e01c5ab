"""Faults on the local cluster with the real engine: the API server stopped during a preview,
before the Release of an `up`, and during the verification; a 403 for the verification's reads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import Engine

from e2e.support import (
    bind_cluster_role,
    helm_releases,
    manifest,
    new_stack,
    state_fingerprint,
    wait_for_release,
)

pytestmark = pytest.mark.e2e

STACK = "faults"
NAME = "pg-faults"
NAMESPACE = "pg-faults"


@pytest.fixture(scope="module")
def deployed(engine: Engine) -> Engine:
    return new_stack(engine, STACK, manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True))


@pytest.fixture
def apiserver_down(local_cluster: LocalCluster) -> Iterator[None]:
    local_cluster.stop_apiserver()
    try:
        yield
    finally:
        local_cluster.start_apiserver()


def _replicas(n: int, **spec: object) -> dict[str, object]:
    return manifest(
        NAME, NAMESPACE, "2.9.0", createNamespace=True, operator={"replicas": n}, **spec
    )


def test_a_preview_without_the_api_server_warns_and_goes_on_with_managed_crds(
    deployed: Engine, apiserver_down: None
) -> None:
    """The managed CRDs' diff compares the set's digest with the stack's state: the preview
    needs no cluster for them."""
    preview = deployed.preview(STACK, check=False)
    text = preview.stdout + preview.stderr
    assert preview.returncode == 0, text
    assert "preflight: cannot read the cluster" in text, text
    assert "the preview goes on with the stack's state" in text
    assert "internal error" not in text


def test_a_preview_without_the_api_server_warns_and_goes_on_without_managed_crds(
    engine: Engine, local_cluster: LocalCluster
) -> None:
    stack = "plain-helm"
    engine.init(stack)
    engine.set_input(
        stack,
        manifest("pg-plain", "pg-plain", "2.9.0", createNamespace=True, helm={"manageCrds": False}),
    )
    engine.up(stack)
    local_cluster.stop_apiserver()
    try:
        preview = engine.preview(stack, check=False)
    finally:
        local_cluster.start_apiserver()
    text = preview.stdout + preview.stderr
    assert preview.returncode == 0, text
    assert "preflight: cannot read the cluster" in text, text
    assert "the preview goes on with the stack's state" in text
    engine.run("destroy", "--yes", "--stack", stack)


def test_an_up_without_the_api_server_stops_before_the_release(
    deployed: Engine, local_cluster: LocalCluster
) -> None:
    before = state_fingerprint(deployed, STACK)
    deployed.set_input(STACK, _replicas(2))
    local_cluster.stop_apiserver()
    try:
        up = deployed.up(STACK, check=False)
    finally:
        local_cluster.start_apiserver()
    text = up.stdout + up.stderr
    assert up.returncode != 0
    assert "preflight: cannot read the cluster" in text, text
    assert state_fingerprint(deployed, STACK) == before
    assert len(helm_releases(local_cluster, NAMESPACE, NAME)) == 1


def test_the_api_server_gone_during_the_verification_fails_it_and_the_next_up_verifies(
    deployed: Engine, local_cluster: LocalCluster
) -> None:
    verified_before = deployed.outputs(STACK)["verified_at"]
    deployed.set_input(STACK, _replicas(2, verify={"timeoutSeconds": 20, "pollSeconds": 2}))
    stopped = threading.Event()

    def stop_once_released() -> None:
        wait_for_release(local_cluster, NAMESPACE, NAME, 2, "deployed")
        local_cluster.stop_apiserver()
        stopped.set()

    stopper = threading.Thread(target=stop_once_released, daemon=True)
    stopper.start()
    try:
        up = deployed.up(STACK, check=False)
    finally:
        stopper.join(timeout=310)
        local_cluster.start_apiserver()
    text = up.stdout + up.stderr
    assert stopped.is_set()
    assert up.returncode != 0, text
    assert "verification could not read the cluster" in text, text

    time.sleep(1)  # verified_at has a resolution of one second
    deployed.up(STACK)
    assert deployed.outputs(STACK)["verified_at"] > verified_before


def _limited_user(local_cluster: LocalCluster) -> None:
    """The e2e-limited token user may deploy (every core, apps and RBAC object, CRDs) and, through
    a second binding the test takes away, read PerconaPGClusters."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    deployer = {
        "metadata": {"name": "e2e-deployer"},
        "rules": [
            {
                "apiGroups": ["", "apps", "apiextensions.k8s.io", "policy", "coordination.k8s.io"],
                "resources": ["*"],
                "verbs": ["*"],
            },
            # Helm creates the operator's Roles, which grant what this user itself lacks.
            {
                "apiGroups": ["rbac.authorization.k8s.io"],
                "resources": ["*"],
                "verbs": ["*"],
            },
        ],
    }
    reader = {
        "metadata": {"name": "e2e-db-reader"},
        "rules": [
            {
                "apiGroups": ["pgv2.percona.com"],
                "resources": ["*"],
                "verbs": ["get", "list", "watch"],
            }
        ],
    }
    for role in (deployer, reader):
        name = role["metadata"]["name"]
        local_cluster.request("POST", f"{rbac}/clusterroles", {**role, "kind": "ClusterRole"})
        bind_cluster_role(local_cluster, "e2e-limited", name, name)


def test_a_403_for_the_verification_fails_at_once_naming_the_permission(
    engine: Engine, local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _limited_user(local_cluster)
    kubeconfig = local_cluster.token_kubeconfig(
        "e2e-limited", tmp_path_factory.mktemp("limited") / "kubeconfig"
    )
    stack, name, namespace = "limited", "pg-limited", "pg-limited"
    engine.init(stack)
    document = manifest(
        name, namespace, "2.9.0", createNamespace=True, verify={"timeoutSeconds": 600}
    )
    document["providerConfig"] = {
        "provider": "digital_ocean_doks",
        "digitalOceanDoks": {"kubeConfig": kubeconfig.read_text()},
    }
    engine.set_input(stack, document)
    revoked: list[float] = []

    def revoke_once_released() -> None:
        # While Helm installs: after the live read (which lists the databases too) and before
        # the verification, which starts the moment the Release is done.
        wait_for_release(local_cluster, namespace, name, 1, "pending-install")
        local_cluster.request(
            "DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/e2e-db-reader"
        )
        revoked.append(time.monotonic())

    revoker = threading.Thread(target=revoke_once_released, daemon=True)
    revoker.start()
    # The environment's admin kubeconfig must not be what the stack uses.
    up = engine.run(
        "up", "--yes", "--skip-preview", "--stack", stack, check=False,
        env={"KUBECONFIG": str(kubeconfig)},
    )  # fmt: skip
    ended = time.monotonic()
    revoker.join(timeout=310)
    text = up.stdout + up.stderr
    assert revoked, text
    assert up.returncode != 0, text
    assert ended - revoked[0] < 120, "a 403 was retried instead of failing at once"
    assert "perconapgclusters" in text and "'list' permission" in text, text
    assert yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"] not in text
