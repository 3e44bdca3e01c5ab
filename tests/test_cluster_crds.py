"""cluster/crds.py against the local stand-in API server (tests/kube_api.py): the apply, the
wait for Established, the marks, and the field manager of the per-CRD state letting go.

How a real API server applies, defaults and bumps generations is tested on the local cluster
(tests/e2e/test_local_crds.py); this tests the client's logic and its failures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FIXTURE_REPO
from kube_api import KubeApi, serve

from percona_pg_operator.chart import ChartPackage, load_managed_crds
from percona_pg_operator.cluster import ClusterClient, ClusterCredentials
from percona_pg_operator.cluster.crds import (
    FIELD_MANAGER,
    apply_crds,
    changed_since,
    live_marks,
)
from percona_pg_operator.errors import ClusterError, ClusterPermissionError

CRDS = ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions")


def objects(version: str = "2.9.0") -> list[dict[str, Any]]:
    package = FIXTURE_REPO / f"pg-operator-{version}.tgz"
    handle = ChartPackage("pg-operator", version, version, "", package, "")
    return load_managed_crds(handle).objects()


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def client(api: KubeApi) -> ClusterClient:
    return ClusterClient.connect(
        ClusterCredentials(kubeconfig=api.kubeconfig()), sleep=lambda _: None
    )


def stored(api: KubeApi, name: str) -> dict[str, Any]:
    return next(o for o in api.objects[CRDS] if o["metadata"]["name"] == name)


def test_each_crd_is_applied_with_force_under_our_field_manager(api: KubeApi) -> None:
    crds = objects()
    with client(api) as c:
        marks = apply_crds(c, crds)
    assert sorted(marks) == sorted(o["metadata"]["name"] for o in crds)
    patches = [r for r in api.requests if r.startswith("PATCH")]
    assert len(patches) == len(crds)
    assert all(f"fieldManager={FIELD_MANAGER}" in p and "force=true" in p for p in patches)
    for name, mark in marks.items():
        meta = stored(api, name)["metadata"]
        assert mark == f"{meta['uid']}/{meta['generation']}"


def test_an_unchanged_apply_keeps_the_marks_and_a_new_chart_raises_them(api: KubeApi) -> None:
    with client(api) as c:
        first = apply_crds(c, objects("2.8.2"))
        again = apply_crds(c, objects("2.8.2"))
        upgraded = apply_crds(c, objects("2.9.0"))
    assert again == first
    name = "perconapgclusters.pgv2.percona.com"
    assert upgraded[name] != first[name]
    assert upgraded[name].split("/")[0] == first[name].split("/")[0], "the same CRD, not anew"


def test_the_per_crd_states_field_manager_lets_go(api: KubeApi) -> None:
    """Fields only pulumi-kubernetes' manager owns would outlive every later chart."""
    crd = objects()[0]
    name = crd["metadata"]["name"]
    old = {**crd, "metadata": {**crd["metadata"], "uid": "u", "generation": 1}}
    old["metadata"]["managedFields"] = [
        {"manager": "pulumi-kubernetes-1a2b3c4d", "operation": "Apply"},
        {"manager": "helm", "operation": "Update"},
    ]
    api.add(old)
    with client(api) as c:
        apply_crds(c, [crd])
    managers = {m["manager"] for m in stored(api, name)["metadata"]["managedFields"]}
    assert managers == {FIELD_MANAGER, "helm"}, "an Update manager is not ours to clear"
    assert any("fieldManager=pulumi-kubernetes-1a2b3c4d" in r for r in api.requests)


def test_a_crd_never_established_fails_naming_it(api: KubeApi) -> None:
    api.establish = "False"
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    crd = objects()[0]
    with client(api) as c, pytest.raises(ClusterError, match="not Established") as info:
        apply_crds(c, [crd], timeout=5, poll=1, sleep=sleep, clock=lambda: now[0])
    assert crd["metadata"]["name"] in str(info.value)
    assert info.value.retryable


def test_a_403_names_the_patch_permission(api: KubeApi) -> None:
    api.forbidden.add("customresourcedefinitions")
    with client(api) as c, pytest.raises(ClusterPermissionError, match="'patch' permission"):
        apply_crds(c, objects()[:1])


def test_marks_tell_a_changed_and_a_deleted_crd(api: KubeApi) -> None:
    with client(api) as c:
        applied = apply_crds(c, objects())
        names = sorted(applied)
        changed, deleted = names[0], names[1]
        crd = stored(api, changed)
        crd["metadata"]["generation"] += 1  # an edit by hand
        api.objects[CRDS] = [o for o in api.objects[CRDS] if o["metadata"]["name"] != deleted]
        live = live_marks(c, names)
    assert live[deleted] is None
    assert changed_since(applied, live) == sorted([changed, deleted])
    assert (
        changed_since(applied, {**live, changed: applied[changed], deleted: applied[deleted]}) == []
    )
