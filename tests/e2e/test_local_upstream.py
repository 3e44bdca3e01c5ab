"""A stack project-planton's own Go module deployed, moved to this program in place, on the real
engine: upstream's program (built unmodified from its source by toolchain/build.sh, run by the Go
language host as `options.binary`) installs chart 2.7.0 from Percona's repository URL, answered
here from the vendored packages through a loopback HTTPS proxy (tests/chart_proxy.py); the stack
input is set as project-planton's CLI sets it (config `planton-cloud:stack-input`). Then the same
stack, project and stack input run this program: no replace and no delete, the same Namespace and
Release, no new Helm revision, `namespace` still the first output; then the step to 2.8."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_proxy import ChartProxy, serve
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import exists, get, helm_releases

pytestmark = pytest.mark.e2e

UPSTREAM_BINARY = "project-planton-kubernetesperconapostgresoperator"
# Upstream's Pulumi.yaml names the project project-planton; the move keeps the project.
PROJECT = "project-planton"
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
PROVIDER_TYPE = "pulumi:providers:kubernetes"


def upstream_stack_input(name: str, kubeconfig: str, create_namespace: bool) -> dict[str, Any]:
    """What project-planton's CLI sends for this kind: no spec.helm (its schema has none); the
    credentials as a DigitalOcean kubeconfig, the one kind that carries a whole kubeconfig."""
    spec: dict[str, Any] = {
        "namespace": {"value": name},
        "container": {
            "resources": {
                "limits": {"cpu": "1000m", "memory": "1Gi"},
                "requests": {"cpu": "100m", "memory": "256Mi"},
            }
        },
    }
    if create_namespace:
        spec["createNamespace"] = True
    return {
        "target": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": name, "id": f"k8sppgop-{name}", "org": "acme", "env": "dev"},
            "spec": spec,
        },
        "providerConfig": {
            "provider": "digital_ocean_doks",
            "digitalOceanDoks": {"kubeConfig": kubeconfig},
        },
    }


class Move:
    """One project folder whose Pulumi.yaml is upstream's program first, then this one."""

    def __init__(self, engine: Engine, proxy: ChartProxy) -> None:
        self.engine = engine
        self.proxy = proxy
        self.ours = yaml.safe_load((engine.project / "Pulumi.yaml").read_text())
        self.ours["name"] = PROJECT

    def use_upstream(self) -> None:
        program = {
            "name": PROJECT,
            "runtime": {
                "name": "go",
                "options": {"binary": str(self.engine.bin_dir / UPSTREAM_BINARY)},
            },
        }
        (self.engine.project / "Pulumi.yaml").write_text(yaml.safe_dump(program))

    def use_ours(self) -> None:
        (self.engine.project / "Pulumi.yaml").write_text(yaml.safe_dump(self.ours))

    def env(self) -> dict[str, str]:
        # The Go language host looks for `go` (for a program's packages) even with a binary.
        go = shutil.which("go")
        path = self.engine.env()["PATH"] + (os.pathsep + str(Path(go).parent) if go else "")
        return {**self.proxy.env(), "PATH": path}

    def run(self, *args: str, check: bool = True) -> Any:
        return self.engine.run(*args, env=self.env(), check=check)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChartProxy]:
    with serve(ROOT / "tests" / "fixtures" / "helm-repo", tmp_path_factory.mktemp("proxy")) as p:
        yield p


def _move(
    toolchain: Path,
    local_cluster: LocalCluster,
    proxy: ChartProxy,
    tmp: Path,
    name: str,
    create_namespace: bool,
) -> tuple[Move, dict[str, Any]]:
    """Upstream's up, then the preview and up of this program on the same stack; the
    resources' URNs and IDs before and after, and what the preview said."""
    engine = Engine(toolchain, tmp, local_cluster.kubeconfig)
    move = Move(engine, proxy)
    move.use_upstream()
    stack = name
    move.run("stack", "init", stack)
    document = upstream_stack_input(name, local_cluster.kubeconfig.read_text(), create_namespace)
    engine.set_input(stack, document)
    move.run("up", "--yes", "--skip-preview", "--stack", stack)
    before = engine.resources(stack)
    upstream_outputs = engine.outputs(stack)
    revisions = helm_releases(local_cluster, name, name)

    move.use_ours()
    preview = move.run("preview", "--diff", "--json", "--stack", stack)
    steps = json.loads(preview.stdout)["steps"]
    move.run("up", "--yes", "--skip-preview", "--stack", stack)
    after = engine.resources(stack)
    return move, {
        "before": before,
        "after": after,
        "steps": steps,
        "upstream_outputs": upstream_outputs,
        "outputs": engine.outputs(stack),
        "revisions_before": revisions,
        "revisions_after": helm_releases(local_cluster, name, name),
    }


def _by_type(resources: list[dict[str, Any]], type_: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == type_]


def _assert_in_place(moved: dict[str, Any], name: str, create_namespace: bool) -> None:
    ops = {(s["op"], s["urn"]) for s in moved["steps"]}
    assert not [u for op, u in ops if op in ("delete", "replace", "create-replacement")], ops
    # Everything upstream registered is still there, under its new URN, with the same ID.
    types = [PROVIDER_TYPE, RELEASE_TYPE] + ([NAMESPACE_TYPE] if create_namespace else [])
    for type_ in types:
        (old,) = _by_type(moved["before"], type_)
        (new,) = [r for r in _by_type(moved["after"], type_) if "percona-pg-operator:" in r["urn"]]
        if type_ != PROVIDER_TYPE:
            assert new["id"] == old["id"], type_
    if not create_namespace:
        assert not _by_type(moved["after"], NAMESPACE_TYPE), "the namespace is not the stack's"
    (release,) = _by_type(moved["after"], RELEASE_TYPE)
    assert release["outputs"]["version"] == "2.7.0"
    assert moved["upstream_outputs"] == {"namespace": name}
    # (`pulumi stack output --json` sorts the keys: the order is test_upstream.py's.)
    assert moved["outputs"]["namespace"] == name
    assert moved["outputs"]["chart_version"] == "2.7.0"
    assert moved["outputs"]["verified_at"]


@pytest.fixture(scope="module")
def created(
    toolchain: Path,
    local_cluster: LocalCluster,
    proxy: ChartProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Move, dict[str, Any]]:
    return _move(
        toolchain, local_cluster, proxy, tmp_path_factory.mktemp("upstream"), "pg-up", True
    )


def test_upstreams_program_installs_chart_2_7_0_from_perconas_url(
    created: tuple[Move, dict[str, Any]], local_cluster: LocalCluster, proxy: ChartProxy
) -> None:
    _, moved = created
    assert "GET /percona-helm-charts/index.yaml" in proxy.requests
    assert "GET /percona-helm-charts/pg-operator-2.7.0.tgz" in proxy.requests
    assert not [r for r in proxy.requests if r.startswith("CONNECT")], "only Percona's host"
    assert moved["revisions_before"] == [{"revision": 1, "status": "deployed"}]
    upstream_urns = sorted(r["urn"] for r in moved["before"])
    assert f"urn:pulumi:pg-up::{PROJECT}::{RELEASE_TYPE}::pg-up" in upstream_urns
    assert f"urn:pulumi:pg-up::{PROJECT}::{NAMESPACE_TYPE}::pg-up" in upstream_urns


def test_the_move_replaces_and_deletes_nothing_and_keeps_the_release_revision(
    created: tuple[Move, dict[str, Any]],
) -> None:
    _, moved = created
    _assert_in_place(moved, "pg-up", create_namespace=True)
    assert moved["revisions_after"] == moved["revisions_before"], "no new Helm revision"


def test_after_the_move_a_preview_is_no_change_and_the_step_to_2_8_works(
    created: tuple[Move, dict[str, Any]], local_cluster: LocalCluster
) -> None:
    move, _ = created
    move.run("preview", "--expect-no-changes", "--stack", "pg-up")
    document = upstream_stack_input("pg-up", local_cluster.kubeconfig.read_text(), True)
    document["target"]["spec"]["helm"] = {"version": "2.8.2"}
    move.engine.set_input("pg-up", document)
    move.run("up", "--yes", "--skip-preview", "--stack", "pg-up")
    assert move.engine.outputs("pg-up")["chart_version"] == "2.8.2"
    assert helm_releases(local_cluster, "pg-up", "pg-up")[-1] == {
        "revision": 2,
        "status": "deployed",
    }
    assert exists(local_cluster, "/api/v1/namespaces/pg-up")


def test_a_stack_upstream_deployed_into_an_existing_namespace_moves_too(
    toolchain: Path,
    local_cluster: LocalCluster,
    proxy: ChartProxy,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    local_cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": "pg-existing"}})
    _, moved = _move(
        toolchain,
        local_cluster,
        proxy,
        tmp_path_factory.mktemp("upstream-existing"),
        "pg-existing",
        False,
    )
    _assert_in_place(moved, "pg-existing", create_namespace=False)
    assert moved["revisions_after"] == moved["revisions_before"]
    namespace = get(local_cluster, "/api/v1/namespaces/pg-existing")
    assert "planton.ai/resource" not in (namespace["metadata"].get("labels") or {})
