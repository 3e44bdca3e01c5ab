"""The cluster client against a local API server: what it reads, and how it fails.

The server (tests/kube_api.py) serves valid objects and Helm release records encoded as Helm
encodes them, built from the real chart packages. It tests the client logic, not a cluster.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import socket
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURE_REPO
from kube_api import (
    KubeApi,
    chart_crds,
    cluster_crd,
    install,
    namespace,
    percona_pg_cluster,
    release_secret,
    serve,
)

from percona_pg_operator.cluster import ClusterClient, read_cluster
from percona_pg_operator.cluster._helm import release_from_secret
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials, cluster_credentials
from percona_pg_operator.errors import (
    ClusterError,
    ClusterPermissionError,
    ClusterUnreachableError,
)
from percona_pg_operator.manifest import parse_document

PACKAGE = FIXTURE_REPO / "pg-operator-2.9.0.tgz"
NS, RELEASE = "pgo", "pg"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def client_for(api: KubeApi, **options: object) -> ClusterClient:
    options.setdefault("sleep", lambda _: None)
    return ClusterClient.connect(ClusterCredentials(kubeconfig=api.kubeconfig()), **options)  # type: ignore[arg-type]


def crd_names() -> list[str]:
    return [c["metadata"]["name"] for c in chart_crds(PACKAGE)]


def test_reads_release_operator_crds_and_databases(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("superseded", "deployed"))
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "db1", NS, "2.8.0"))
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "db2", NS, "2.9.0", state="initializing"))
    with client_for(api) as client:
        state = read_cluster(
            client, namespace=NS, release=RELEASE, crd_names=crd_names(), database_namespaces=[NS]
        )
    assert state.server_version == "v1.31.4"
    assert state.namespace_exists
    assert [(r.revision, r.status) for r in state.releases] == [(1, "superseded"), (2, "deployed")]
    assert state.release is not None and state.release.chart_version == "2.9.0"
    assert state.release.app_version == "2.9.0"
    assert state.deployment is not None and state.deployment.ready
    assert state.deployment.images == ["docker.io/percona/percona-postgresql-operator:2.9.0"]
    by_name = {c.name: c for c in state.crds}
    clusters = by_name["perconapgclusters.pgv2.percona.com"]
    assert clusters.exists and clusters.established
    assert clusters.served_versions == ["v2"] and clusters.storage_version == "v2"
    assert (
        clusters.version_label
        == cluster_crd(PACKAGE)["metadata"]["labels"]["pgv2.percona.com/version"]
    )
    assert [(d.name, d.cr_version, d.state) for d in state.databases] == [
        ("db1", "2.8.0", "ready"),
        ("db2", "2.9.0", "initializing"),
    ]


def test_the_live_read_takes_crds_from_the_watch_cache_and_a_plain_read_does_not(
    api: KubeApi,
) -> None:
    """resourceVersion=0 before a change (half the time of a read from etcd); the verification
    after one reads them as they are now."""
    for crd in chart_crds(PACKAGE):
        api.add(crd)
    with client_for(api) as client:
        read_cluster(
            client, namespace=NS, release=RELEASE, crd_names=crd_names(), database_namespaces=[NS]
        )
        live = [r for r in api.requests if "customresourcedefinitions/" in r]
        assert len(live) == len(crd_names())
        assert all(r.endswith("?resourceVersion=0") for r in live), live
        api.requests.clear()
        client.crds(crd_names())
    plain = [r for r in api.requests if "customresourcedefinitions/" in r]
    assert plain and not [r for r in plain if "resourceVersion" in r], plain


def test_a_crd_is_kept_whole_only_when_asked(api: KubeApi) -> None:
    """The checks read a few fields; the schema (most of each answer) only for the diffs."""
    crd = cluster_crd(PACKAGE)
    api.add(crd)
    name = crd["metadata"]["name"]
    with client_for(api) as client:
        (lean,) = client.crds([name])
        (whole,) = client.crds([name], raw=True)
    assert lean.raw == {} and whole.raw == crd
    assert (lean.served_versions, lean.established) == (whole.served_versions, whole.established)


def test_a_release_record_decodes_to_what_helm_stored(api: KubeApi) -> None:
    """Decoded independently here (base64, base64, gunzip, JSON) and by the client."""
    secret = release_secret(PACKAGE, RELEASE, NS)
    raw = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    assert raw[:3] == b"\x1f\x8b\x08", "Helm gzips the record"
    record = json.loads(gzip.decompress(raw))
    with tarfile.open(PACKAGE) as archive:
        chart_yaml = yaml.safe_load(archive.extractfile("pg-operator/Chart.yaml").read())  # type: ignore[union-attr]
    release = release_from_secret(secret["data"]["release"])
    assert release.chart_version == chart_yaml["version"] == record["chart"]["metadata"]["version"]
    assert release.app_version == chart_yaml["appVersion"]
    assert release.manifest == record["manifest"] and "kind: Deployment" in release.manifest
    assert (release.name, release.namespace, release.revision) == (RELEASE, NS, 1)


def test_helm_itself_reads_the_records_the_server_serves(api: KubeApi) -> None:
    """The real Helm (helm-python-sdk's storage driver) agrees with the client on every record:
    the test server's encoding is Helm's own."""
    import helm_python

    api.add(namespace(NS))
    for revision, status in enumerate(("superseded", "deployed", "pending-upgrade"), start=1):
        api.add(release_secret(PACKAGE, RELEASE, NS, revision, status))
    helm = helm_python.Config(kubeconfig_content=api.kubeconfig(), namespace=NS)
    by_helm = [(r["revision"], r["status"], r["chart_version"]) for r in helm.history(RELEASE)]
    with client_for(api) as client:
        ours = [(r.revision, r.status, r.chart_version) for r in client.helm_releases(NS, RELEASE)]
    assert (
        by_helm
        == ours
        == [
            (1, "superseded", "2.9.0"),
            (2, "deployed", "2.9.0"),
            (3, "pending-upgrade", "2.9.0"),
        ]
    )


def test_a_record_that_is_not_helms_is_a_clear_error() -> None:
    bad = base64.b64encode(b"not base64 of gzip").decode()
    with pytest.raises(ClusterError, match="cannot be decoded"):
        release_from_secret(bad)
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb") as out:
        out.write(b"[1, 2]")
    helm_string = base64.b64encode(gz.getvalue()).decode()
    with pytest.raises(ClusterError, match="not a JSON object"):
        release_from_secret(base64.b64encode(helm_string.encode()).decode())


def test_lists_follow_continue_tokens(api: KubeApi) -> None:
    for crd in chart_crds(PACKAGE):
        api.add(crd)
    for index in range(250):
        api.add(percona_pg_cluster(cluster_crd(PACKAGE), f"db{index:03d}", NS, "2.9.0"))
    with client_for(api) as client:
        databases = client.databases([NS])
    assert len(databases) == 250
    assert len({d.name for d in databases}) == 250
    pages = [r for r in api.requests if "perconapgclusters" in r]
    assert len(pages) == 3 and "continue=100" in pages[1] and "continue=200" in pages[2]


def test_all_namespaces_and_a_missing_crd(api: KubeApi) -> None:
    with client_for(api) as client:
        assert client.databases(None) == [], "no CRD: no clusters, not an error"
    for crd in chart_crds(PACKAGE):
        api.add(crd)
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "a", "team-a", "2.9.0"))
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "b", "team-b", "2.9.0"))
    with client_for(api) as client:
        assert [d.namespace for d in client.databases(None)] == ["team-a", "team-b"]
        assert [d.namespace for d in client.databases(["team-b"])] == ["team-b"]


def test_forbidden_names_the_missing_permission(api: KubeApi) -> None:
    api.add(namespace(NS))
    api.forbidden.add("secrets")
    with client_for(api) as client, pytest.raises(ClusterPermissionError) as info:
        client.helm_releases(NS, RELEASE)
    message = str(info.value)
    assert "403 Forbidden" in message
    assert "'list' permission on secrets in namespace pgo" in message
    assert "Permissions" in message


def test_rejected_credentials_are_unreachable_not_forbidden(api: KubeApi) -> None:
    client = client_for(api)
    api.token = "rotated-token"  # the server no longer accepts the client's token
    with client, pytest.raises(ClusterUnreachableError, match="401"):
        client.server_version()


def test_transient_errors_are_retried(api: KubeApi) -> None:
    api.errors = [503, 429]
    with client_for(api) as client:
        assert client.server_version() == "v1.31.4"
    assert api.count("/version") == 3


def test_persistent_errors_give_up(api: KubeApi) -> None:
    api.errors = [503] * 5
    with client_for(api, retries=2) as client, pytest.raises(ClusterError, match="HTTP 503"):
        client.server_version()
    assert api.count("/version") == 3


def test_an_unreachable_server_fails_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    credentials = ClusterCredentials(
        kubeconfig=KubeApi(url=f"http://127.0.0.1:{port}").kubeconfig()
    )
    start = time.monotonic()
    client = ClusterClient.connect(credentials, sleep=lambda _: None)
    with client, pytest.raises(ClusterUnreachableError, match="no answer from the API server"):
        client.server_version()
    assert time.monotonic() - start < 5


def test_a_slow_server_is_bounded(api: KubeApi) -> None:
    api.delay = 1.5
    start = time.monotonic()
    client = client_for(api, timeout=0.3, retries=1)
    with client, pytest.raises(ClusterUnreachableError, match="ReadTimeout"):
        client.server_version()
    assert time.monotonic() - start < 1.5


def test_the_client_and_the_provider_get_the_same_credentials(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One function (cluster_credentials) feeds both: they cannot point at different clusters."""
    doc = {
        "target": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": "pg"},
        },
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    credentials = cluster_credentials(parse_document(doc, "t").provider_config, {})
    with ClusterClient.connect(credentials) as client:
        assert client.server == api.url
        assert client.server_version() == "v1.31.4"
    # Ambient: KUBECONFIG and KUBE_CTX, as the provider reads them.
    config = tmp_path / "config"
    other = yaml.safe_load(api.kubeconfig())
    other["contexts"].append({"name": "second", "context": {"cluster": "fake", "user": "fake"}})
    other["current-context"] = "missing"
    config.write_text(yaml.safe_dump(other))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent'}:{config}")
    ambient = cluster_credentials(None, {"KUBE_CTX": "second"})
    assert ambient.kubeconfig is None and ambient.context == "second"
    with ClusterClient.connect(ambient) as client:
        assert client.server_version() == "v1.31.4"


def test_no_kubeconfig_at_all_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(ClusterUnreachableError, match="no kubeconfig"):
        ClusterClient.connect(ClusterCredentials(), {"HOME": str(tmp_path)})
