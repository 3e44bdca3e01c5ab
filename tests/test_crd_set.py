"""deploy/crds.py's provider, called as Pulumi's dynamic-provider host calls it, against the
stand-in API server: what a preview compares, what an update applies, what a refresh finds.
The real engine runs it in tests/e2e/test_local_crds.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_REPO
from kube_api import KubeApi, serve

from percona_pg_operator.chart import ChartPackage, load_managed_crds
from percona_pg_operator.chart._source import stage_crds
from percona_pg_operator.deploy.crds import CHANGED_BY_HAND, CrdSetProvider
from percona_pg_operator.errors import ChartRepositoryError

CRDS = ("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions")


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """The provider runs in the project folder, where the program staged the manifest."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def props(api: KubeApi, project: Path, version: str = "2.9.0") -> dict[str, Any]:
    package = FIXTURE_REPO / f"pg-operator-{version}.tgz"
    handle = ChartPackage("pg-operator", version, version, "digest" + version, package, "")
    crds = load_managed_crds(handle)
    return {
        "kubeconfig": api.kubeconfig(),
        "context": None,
        "names": crds.names,
        "digest": crds.digest,
        "manifest": stage_crds(handle, crds, project),
        "chartVersion": version,
    }


def test_a_preview_with_the_same_set_is_no_change_and_reads_no_cluster(
    api: KubeApi, project: Path
) -> None:
    provider = CrdSetProvider()
    created = provider.create(props(api, project)).outs
    api.requests.clear()
    assert not provider.diff("crds", created, props(api, project)).changes
    assert api.requests == []


@pytest.mark.parametrize("change", ["digest", "names"])
def test_another_set_is_a_change(api: KubeApi, project: Path, change: str) -> None:
    provider = CrdSetProvider()
    created = provider.create(props(api, project)).outs
    news = {**props(api, project), change: ["x"] if change == "names" else "0" * 64}
    assert provider.diff("crds", created, news).changes


def test_an_update_applies_the_new_set_and_records_its_marks(api: KubeApi, project: Path) -> None:
    provider = CrdSetProvider()
    old = provider.create(props(api, project, "2.8.2")).outs
    new = provider.update("crds", old, props(api, project, "2.9.0")).outs
    name = "perconapgclusters.pgv2.percona.com"
    stored = next(o for o in api.objects[CRDS] if o["metadata"]["name"] == name)
    assert stored["metadata"]["annotations"]["percona-pg-operator/chart-version"] == "2.9.0"
    assert new["applied"][name] == f"{stored['metadata']['uid']}/{stored['metadata']['generation']}"
    assert new["applied"][name] != old["applied"][name]


def test_a_staged_manifest_that_is_not_the_verified_one_is_refused(
    api: KubeApi, project: Path
) -> None:
    given = props(api, project)
    path = project / given["manifest"]
    path.write_text(path.read_text().replace('"served":true', '"served":false', 1))
    with pytest.raises(ChartRepositoryError, match="not the ones this update verified"):
        CrdSetProvider().create(given)
    assert not [r for r in api.requests if r.startswith("PATCH")], "nothing applied"


def test_a_refresh_reports_a_crd_changed_by_hand_and_the_next_diff_applies(
    api: KubeApi, project: Path
) -> None:
    provider = CrdSetProvider()
    created = provider.create(props(api, project)).outs
    assert CHANGED_BY_HAND not in provider.read("crds", created).outs
    name = "perconapgclusters.pgv2.percona.com"
    stored = next(o for o in api.objects[CRDS] if o["metadata"]["name"] == name)
    stored["metadata"]["generation"] += 1
    refreshed = provider.read("crds", created).outs
    assert refreshed[CHANGED_BY_HAND] == [name]
    assert provider.diff("crds", refreshed, props(api, project)).changes
    reapplied = provider.update("crds", refreshed, props(api, project)).outs
    assert CHANGED_BY_HAND not in reapplied
    assert not provider.diff("crds", reapplied, props(api, project)).changes


def test_delete_deletes_nothing(api: KubeApi, project: Path) -> None:
    provider = CrdSetProvider()
    created = provider.create(props(api, project)).outs
    count = len(api.objects[CRDS])
    api.requests.clear()
    provider.delete("crds", created)
    assert api.requests == [] and len(api.objects[CRDS]) == count
