"""Adoption on the local cluster: a release that Helm itself installed (helm-python-sdk, Helm's own
Go code) in a namespace Helm created is taken into a stack without a new Helm revision; once
`adopt` is removed, the stack's values apply."""

from __future__ import annotations

import pytest
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import get, helm_releases, manifest, state_fingerprint

pytestmark = pytest.mark.e2e

STACK = "adopt"
NAME = "pg-adopt"
NAMESPACE = "pg-adopt"
CHART = ROOT / "tests" / "fixtures" / "helm-repo" / "pg-operator-2.9.0.tgz"
DEPLOYMENT = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{NAME}-pg-operator"


def helm_install(local_cluster: LocalCluster) -> None:
    """`helm install --create-namespace --wait`, as a user without this module would."""
    import helm_python

    config = helm_python.Config(kubeconfig_path=str(local_cluster.kubeconfig), namespace=NAMESPACE)
    try:
        config.install(
            str(CHART), NAME, {}, namespace=NAMESPACE, create_namespace=True, wait="watcher",
            timeout=300,
        )  # fmt: skip
    finally:
        config.close()


CLUSTER_CRD = (
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/perconapgclusters.pgv2.percona.com"
)
# The CRD as Helm's install left it (Helm installs crds/ only where none exists).
BEFORE: dict[str, object] = {}


@pytest.fixture(scope="module")
def adopted(engine: Engine, local_cluster: LocalCluster) -> Engine:
    helm_install(local_cluster)
    BEFORE.update(get(local_cluster, CLUSTER_CRD)["metadata"])
    engine.init(STACK)
    adopt = {"release": True, "namespace": True}
    engine.set_input(STACK, manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True, adopt=adopt))
    engine.up(STACK)
    return engine


def test_the_import_makes_no_helm_revision(adopted: Engine, local_cluster: LocalCluster) -> None:
    assert helm_releases(local_cluster, NAMESPACE, NAME) == [{"revision": 1, "status": "deployed"}]
    types = {r["type"] for r in adopted.resources(STACK)}
    assert "kubernetes:helm.sh/v3:Release" in types
    assert "kubernetes:core/v1:Namespace" in types
    assert adopted.outputs(STACK)["chart_version"] == "2.9.0"


def test_the_crds_helm_installed_are_taken_over_not_recreated(
    adopted: Engine, local_cluster: LocalCluster
) -> None:
    after = get(local_cluster, CLUSTER_CRD)["metadata"]
    assert after["uid"] == BEFORE["uid"]
    managers = {(m["manager"], m["operation"]) for m in after["managedFields"]}
    assert ("percona-pg-operator", "Apply") in managers, managers
    assert after["annotations"]["percona-pg-operator/chart-version"] == "2.9.0"


def test_the_adopted_stack_previews_no_change(adopted: Engine) -> None:
    before = state_fingerprint(adopted, STACK)
    adopted.preview(STACK, "--expect-no-changes")
    assert state_fingerprint(adopted, STACK) == before


def test_without_adopt_the_values_apply(adopted: Engine, local_cluster: LocalCluster) -> None:
    adopted.set_input(
        STACK,
        manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True, operator={"replicas": 2}),
    )
    adopted.up(STACK)
    assert [r["revision"] for r in helm_releases(local_cluster, NAMESPACE, NAME)] == [1, 2]
    assert get(local_cluster, DEPLOYMENT)["spec"]["replicas"] == 2
    adopted.run("destroy", "--yes", "--stack", STACK)
