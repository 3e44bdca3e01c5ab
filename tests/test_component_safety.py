"""The component carries the program's safety: used directly in any Pulumi program, it reads
the live cluster before it registers anything, refuses what the preflight refuses, guards the
step from the version the cluster runs, and requires the databases that were ready to be ready
again; ``preflight=False`` opts out, and says so. (The stand-in API server plays the cluster.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import FIXTURE_REPO, manifest
from kube_api import KubeApi, cluster_crd, install, namespace, percona_pg_cluster, serve
from pulumi_harness import DYNAMIC_TYPE, RELEASE_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
from percona_pg_operator.manifest import parse_document

NS, RELEASE = "pgo", "pg-op"


def package(version: str) -> Path:
    return FIXTURE_REPO / f"pg-operator-{version}.tgz"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeApi]:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "on")
    with serve() as server:
        yield server


def stack_input(api: KubeApi, **spec: Any) -> Any:
    spec.setdefault("namespace", NS)
    doc = {
        "target": manifest(**spec),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    return parse_document(doc, "test")


def component(args: PerconaPostgresOperatorArgs) -> Any:
    return lambda: PerconaPostgresOperator("pg", args)


def test_a_stuck_release_is_refused_and_nothing_registered(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("pending-upgrade",))
    mocks = RecordingMocks()
    args = PerconaPostgresOperatorArgs(stack_input(api, helm={"version": "2.9.0"}))
    with pytest.raises(pulumi.RunError, match="the preflight refused the change"):
        run_pulumi(component(args), mocks)
    assert not [r.type for r in mocks.registrations if r.custom]


def test_the_step_is_guarded_from_the_version_the_cluster_runs(api: KubeApi) -> None:
    """No running_version passed: the live release (2.8.2) says 3.0.0 skips a minor."""
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    mocks = RecordingMocks()
    spec = {"helm": {"version": "3.0.0", "acknowledgeIrreversible": "3.0"}}
    args = PerconaPostgresOperatorArgs(stack_input(api, **spec))
    with pytest.raises(pulumi.RunError, match="skips a minor"):
        run_pulumi(component(args), mocks)
    assert not [r.type for r in mocks.registrations if r.custom]


def test_the_databases_that_were_ready_are_verified_again(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(package("2.8.2")), "db", NS, "2.8.2"))
    args = PerconaPostgresOperatorArgs(stack_input(api, helm={"version": "2.9.0"}))
    run = run_pulumi(component(args))
    assert run.one(RELEASE_TYPE).inputs["version"] == "2.9.0"
    assert run.one(DYNAMIC_TYPE).inputs["readyBefore"] == [f"{NS}/db"]


def test_preflight_false_opts_out_and_says_so(api: KubeApi) -> None:
    args = PerconaPostgresOperatorArgs(
        stack_input(api, helm={"version": "2.9.0", "manageCrds": False}), preflight=False
    )
    run = run_pulumi(component(args))
    assert run.of_type(RELEASE_TYPE)
    assert api.requests == [], "no live read"
    assert any(
        "preflight=False: the live cluster is not checked" in w for w in run.logged("WARNING")
    )


def test_what_the_component_uses_from_outside_is_an_argument(tmp_path: Path) -> None:
    """The repository, the cache, the project folder and the environment are arguments: no
    chdir, no setenv; the package is cached and staged where the arguments say."""
    project, cache = tmp_path / "project", tmp_path / "cache"
    doc = manifest(namespace=NS, helm={"version": "2.9.0"})
    args = PerconaPostgresOperatorArgs(
        doc,
        preflight=False,
        chart_repo=str(FIXTURE_REPO),
        cache_dir=cache,
        project_dir=project,
        environ={"KUBECONFIG": str(tmp_path / "none")},
    )
    run = run_pulumi(component(args))
    chart = run.one(RELEASE_TYPE).inputs["chart"]
    assert (project / chart).is_file(), chart
    assert list((cache / "charts").glob("*.tgz")), "cached where the argument says"
