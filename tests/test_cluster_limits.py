"""A broken or hostile API server (or a proxy in front of one) cannot make a cluster read run
forever, fill the memory, crash with a traceback or inject terminal markup: every such answer
ends as a ClusterError naming what was asked and what came back."""

from __future__ import annotations

import base64
import copy
import gzip
import json
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, manifest
from kube_api import (
    KubeApi,
    cluster_crd,
    deployment,
    event,
    install,
    namespace,
    percona_pg_cluster,
    serve,
)

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.cluster import ClusterClient, read_cluster
from percona_pg_operator.cluster._helm import MAX_RELEASE_BYTES
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials
from percona_pg_operator.errors import ClusterError

PACKAGE = FIXTURE_REPO / "pg-operator-2.9.0.tgz"
NS, RELEASE = "pgo", "pg"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def client(api: KubeApi, **options: Any) -> ClusterClient:
    options.setdefault("sleep", lambda _: None)
    return ClusterClient.connect(ClusterCredentials(kubeconfig=api.kubeconfig()), **options)


def read(api: KubeApi, **options: Any) -> Any:
    with client(api, **options) as c:
        return read_cluster(
            c,
            namespace=NS,
            release=RELEASE,
            crd_names=["perconapgclusters.pgv2.percona.com"],
            database_namespaces=[NS],
        )


def answer(code: int, body: bytes, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return code, {"Content-Type": "application/json", **headers}, body


def test_a_continue_token_that_never_ends_stops(api: KubeApi) -> None:
    api.add(namespace(NS))

    def endless(path: str) -> Any:
        if "/secrets" not in path:
            return None
        page = {"kind": "SecretList", "apiVersion": "v1", "items": [],
                "metadata": {"continue": "again", "resourceVersion": "1"}}  # fmt: skip
        return answer(200, json.dumps(page).encode())

    api.override = endless
    started = time.monotonic()
    with pytest.raises(ClusterError, match=r"needed more than 500 requests for one read"):
        read(api)
    assert time.monotonic() - started < 60
    assert api.count("/secrets") == 500


def test_a_list_with_too_many_items_stops(api: KubeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("percona_pg_operator.cluster._live.MAX_LIST_ITEMS", 5)
    for i in range(7):
        api.add(event(NS, "Deployment", "op", "Scaled", f"m{i}", f"2026-01-01T00:00:0{i}Z"))
    with client(api) as c, pytest.raises(ClusterError, match="listed more than 5 events"):
        c.events(NS, "op")


def test_a_gzip_answer_is_refused_not_inflated(api: KubeApi) -> None:
    bomb = gzip.compress(b"{" + b" " * (200 << 20) + b"}")
    api.override = lambda path: answer(200, bomb, **{"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        with pytest.raises(ClusterError, match="gzip-compressed although it was asked for no"):
            read(api)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20, f"{peak >> 20} MiB"
    assert api.encodings and set(api.encodings) == {"identity"}, api.encodings


def test_an_answer_larger_than_the_limit_is_refused(
    api: KubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("percona_pg_operator.cluster._transport.MAX_ANSWER_BYTES", 1 << 20)
    big = json.dumps({"gitVersion": "v1.34.0", "pad": "x" * (2 << 20)}).encode()
    api.override = lambda path: answer(200, big) if path == "/version" else None
    with client(api) as c, pytest.raises(ClusterError, match=r"answered more than 1 MiB"):
        c.server_version()


def test_the_read_deadline_stops_a_slow_server(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS)
    api.delay = 0.3
    started = time.monotonic()
    with pytest.raises(ClusterError, match="the read's deadline") as info:
        read(api, deadline_seconds=1.0)
    assert time.monotonic() - started < 5
    assert info.value.retryable


def release_record(data: str) -> dict[str, Any]:
    """Helm's Secret for revision 1 of the release, holding ``data`` as its record."""
    labels = {"owner": "helm", "name": RELEASE, "status": "deployed", "version": "1"}
    name = f"sh.helm.release.v1.{RELEASE}.v1"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {"name": name, "namespace": NS, "labels": labels},
        "data": {"release": data},
    }


def _release_bomb() -> str:
    """A Helm release record under 1 MiB that inflates far beyond MAX_RELEASE_BYTES."""
    inflated = b'{"name": "pg", "pad": "' + b"0" * (MAX_RELEASE_BYTES + (16 << 20)) + b'"}'
    helm = base64.b64encode(gzip.compress(inflated)).decode()
    return base64.b64encode(helm.encode()).decode()


def test_a_helm_record_that_inflates_without_bound_stops(api: KubeApi) -> None:
    api.add(namespace(NS))
    data = _release_bomb()
    assert len(data) < 1 << 20
    api.add(release_record(data))
    tracemalloc.start()
    try:
        with pytest.raises(ClusterError, match=r"inflates to more than 64 MiB") as info:
            read(api)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"{NS}/sh.helm.release.v1.{RELEASE}.v1" in str(info.value)
    assert peak < 200 << 20, f"{peak >> 20} MiB"


def test_an_html_page_from_a_proxy_is_a_clean_error(api: KubeApi) -> None:
    page = b"<html><body>Sign in to the corporate proxy</body></html>"
    api.override = lambda path: answer(200, page, **{"Content-Type": "text/html"})
    with pytest.raises(ClusterError, match="with something that cannot be read"):
        read(api)


def _broken_deployment(change: str) -> dict[str, Any]:
    obj = copy.deepcopy(deployment(PACKAGE, RELEASE, NS))
    if change == "replicas":
        obj["spec"]["replicas"] = "three"
    elif change == "containers":
        obj["spec"]["template"]["spec"]["containers"] = "operator"
    elif change == "conditions":
        obj["status"]["conditions"] = {"type": "Available"}
    return obj


@pytest.mark.parametrize("change", ["replicas", "containers", "conditions"])
def test_a_deployment_of_the_wrong_shape_is_named(api: KubeApi, change: str) -> None:
    api.add(namespace(NS))
    obj = _broken_deployment(change)
    api.add(obj)
    with pytest.raises(ClusterError) as info:
        read(api)
    message = str(info.value)
    assert "cannot be read" in message and "deployments in namespace pgo" in message, message
    assert "internal error" not in message


@pytest.mark.parametrize(
    ("kind", "broken"),
    [
        (
            "CustomResourceDefinition",
            lambda crd: {**crd, "spec": {**crd["spec"], "versions": {"v2": 1}}},
        ),
        ("PerconaPGCluster", lambda db: {**db, "status": {"conditions": "all good"}}),
        ("PerconaPGCluster", lambda db: {**db, "spec": ["not", "an", "object"]}),
    ],
)
def test_a_crd_or_database_of_the_wrong_shape_is_named(
    api: KubeApi, kind: str, broken: Any
) -> None:
    api.add(namespace(NS))
    crd = cluster_crd(PACKAGE)
    db = percona_pg_cluster(crd, "db", NS, "2.9.0")
    if kind == "CustomResourceDefinition":
        crd = broken(crd)
    else:
        db = broken(db)
    api.add(crd)
    api.add(db)
    with pytest.raises(ClusterError) as info:
        read(api)
    assert "cannot be read" in str(info.value) and kind.lower() in str(info.value).lower(), str(
        info.value
    )


def test_a_version_answer_of_the_wrong_shape_is_named(api: KubeApi) -> None:
    api.override = lambda path: answer(200, b"[1, 2]") if path == "/version" else None
    with client(api) as c, pytest.raises(ClusterError, match="/version"):
        c.server_version()


def test_text_from_the_cluster_is_bounded(api: KubeApi) -> None:
    api.add(event(NS, "Deployment", "op", "Failed", "x" * 100_000, "2026-01-01T00:00:00Z"))
    with client(api) as c:
        (line,) = c.events(NS, "op")
    assert len(line) <= 1000 and line.endswith("…")


def test_markup_from_the_cluster_is_printed_as_it_is(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crVersion "[/]" used to crash a terminal run (rich read it as a closing tag)."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats the output as a terminal
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS)
    db = percona_pg_cluster(cluster_crd(PACKAGE), "db", NS, "2.9.0")
    db["spec"]["crVersion"] = "[/]"
    db["status"] = {"state": "[bold red]ready"}
    api.add(db)
    document = {
        "target": manifest(namespace=NS, helm={"version": "2.9.0"}),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(document))
    result = CliRunner().invoke(cli, ["status", str(path)])
    assert result.exit_code == ExitCode.OK, result.output
    assert "[/]" in result.output and "[bold red]ready" in result.output


def _record(release: Any) -> str:
    helm = base64.b64encode(gzip.compress(json.dumps(release).encode())).decode()
    return base64.b64encode(helm.encode()).decode()


@pytest.mark.parametrize(
    ("release", "fragment"),
    [
        ({"name": "pg", "info": "deployed"}, "info or chart metadata is not an object"),
        ({"name": "pg", "chart": ["pg-operator"]}, "info or chart metadata is not an object"),
        ({"name": "pg", "config": ["a", "b"]}, "config (its values) is not an object"),
        (["not", "an", "object"], "is not a JSON object"),
    ],
)
def test_a_helm_record_of_the_wrong_shape_is_named(
    api: KubeApi, release: Any, fragment: str
) -> None:
    api.add(namespace(NS))
    api.add(release_record(_record(release)))
    with pytest.raises(ClusterError) as info:
        read(api)
    assert fragment in str(info.value) and f"{NS}/sh.helm.release.v1.{RELEASE}.v1" in str(
        info.value
    )


def test_a_helm_records_text_is_bounded(api: KubeApi) -> None:
    api.add(namespace(NS))
    release = {
        "name": "pg",
        "version": 1,
        "info": {"status": "deployed", "description": "d" * 50_000},
    }
    api.add(release_record(_record(release)))
    state = read(api)
    assert len(state.releases[0].description) == 1000
