"""Verification after a change, against the local API server: passes, times out with the objects,
conditions and events at fault, sees the 3.0 migration finish after some polls."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_REPO, manifest
from kube_api import (
    KubeApi,
    chart_crds,
    cluster_crd,
    deployment,
    event,
    install,
    migration_condition,
    namespace,
    percona_pg_cluster,
    serve,
)
from pulumi_harness import RELEASE_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.checks.verification import Expectations, verify
from percona_pg_operator.cluster import ClusterClient, ClusterCredentials
from percona_pg_operator.deploy.verification import (
    KEPT,
    VerificationProvider,
    kept_on_destroy,
)
from percona_pg_operator.deploy.verification import OUTPUTS as VERIFICATION_OUTPUTS
from percona_pg_operator.errors import VerificationError

NS, RELEASE = "pgo", "pg-op"
PACKAGE = FIXTURE_REPO / "pg-operator-3.0.0.tgz"
IMAGE = "docker.io/percona/percona-postgresql-operator:3.0.0"
DONE = migration_condition("True", "APIGroupMigrationCompleted", "All owner references are updated")
RUNNING = migration_condition(
    "False", "APIGroupMigrationInProgress", "Waiting for owner references to be updated"
)


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def served(package: Path = PACKAGE) -> dict[str, list[str]]:
    return {
        c["metadata"]["name"]: sorted(v["name"] for v in c["spec"]["versions"] if v["served"])
        for c in chart_crds(package)
    }


def expectations(**overrides: Any) -> Expectations:
    base: dict[str, Any] = {
        "namespace": NS,
        "release": RELEASE,
        "image": IMAGE,
        "crds": served(),
        "migrate_api_group": True,
        "ready_before": [f"{NS}/db"],
        "database_namespaces": [NS],
    }
    return Expectations(**{**base, **overrides})


class FakeTime:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self, on_sleep: Callable[[int], None] | None = None) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        if self.on_sleep is not None:
            self.on_sleep(self.sleeps)


def run_verify(api: KubeApi, expect: Expectations, time: FakeTime, timeout: float = 60) -> Any:
    credentials = ClusterCredentials(kubeconfig=api.kubeconfig())
    with ClusterClient.connect(credentials, sleep=lambda _: None) as client:
        return verify(client, expect, timeout=timeout, poll=5, sleep=time.sleep, clock=time.clock)


def healthy(api: KubeApi, condition: dict[str, Any] = DONE) -> None:
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "db", NS, "2.9.0", conditions=[condition]))


def test_everything_through_passes_at_once(api: KubeApi) -> None:
    healthy(api)
    time = FakeTime()
    verified = run_verify(api, expectations(), time)
    assert verified.operator_version == "3.0.0"
    assert verified.databases_checked == [f"{NS}/db"]
    assert verified.verified_at.endswith("Z")
    assert time.sleeps == 0


def test_the_3_0_migration_is_awaited_until_it_finishes(api: KubeApi) -> None:
    healthy(api, RUNNING)

    def finish(polls: int) -> None:
        if polls == 3:
            api.replace(
                percona_pg_cluster(cluster_crd(PACKAGE), "db", NS, "2.9.0", conditions=[DONE])
            )

    time = FakeTime(finish)
    verified = run_verify(api, expectations(), time)
    assert time.sleeps == 3, "three polls saw the migration still running"
    assert verified.databases_checked == [f"{NS}/db"]


def test_a_migration_that_does_not_finish_times_out_naming_the_cluster(api: KubeApi) -> None:
    healthy(api, RUNNING)
    api.add(
        event(
            NS,
            "PerconaPGCluster",
            "db",
            "OwnerRefMigration",
            "still owned: pvc/data",
            "2026-11-01T12:01:00Z",
        )
    )
    with pytest.raises(VerificationError) as info:
        run_verify(api, expectations(), FakeTime(), timeout=20)
    message = str(info.value)
    assert message.startswith("verification failed after 20 s")
    assert (
        f"PerconaPGCluster {NS}/db: API group migration not finished: APIGroupMigration False"
        in message
    )
    assert (
        "condition APIGroupMigration=False (APIGroupMigrationInProgress: Waiting for owner"
        in message
    )
    assert "event OwnerRefMigration: still owned: pvc/data" in message
    assert "context deadline exceeded" not in message


def test_an_operator_that_does_not_roll_out_names_its_conditions_and_events(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS, ready=0)
    name = deployment(PACKAGE, RELEASE, NS, 0)["metadata"]["name"]
    api.add(event(NS, "Deployment", name, "FailedCreate", "quota exceeded", "2026-11-01T12:02:00Z"))
    time = FakeTime()
    with pytest.raises(VerificationError) as info:
        run_verify(api, expectations(ready_before=[], migrate_api_group=False), time, timeout=30)
    message = str(info.value)
    assert f"Deployment {NS}/{name}: not rolled out: 0 of 1 updated, 0 ready" in message
    assert "condition Available=False (MinimumReplicasUnavailable" in message
    assert "event FailedCreate: quota exceeded" in message
    assert time.now >= 30 and time.sleeps == 6, "polled every 5 s until the 30 s were up"


def test_the_wrong_image_a_missing_crd_version_and_a_lost_database_are_named(api: KubeApi) -> None:
    healthy(api)
    crds = served()
    crds["perconapgclusters.pgv2.percona.com"] = ["v2", "v3"]
    expect = expectations(
        image="registry.example.com/op:3.0.0", crds=crds, ready_before=[f"{NS}/db", f"{NS}/gone"]
    )
    with pytest.raises(VerificationError) as info:
        run_verify(api, expect, FakeTime(), timeout=5)
    message = str(info.value)
    assert f"runs {IMAGE}, not registry.example.com/op:3.0.0" in message
    assert (
        "CustomResourceDefinition perconapgclusters.pgv2.percona.com: does not serve ['v3']"
        in message
    )
    assert f"PerconaPGCluster {NS}/gone: was ready, now gone" in message


def test_a_database_that_was_ready_must_be_ready_again(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, PACKAGE, release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(PACKAGE), "db", NS, "2.9.0", "initializing", [DONE]))
    with pytest.raises(
        VerificationError, match=f"{NS}/db: was ready before the change, now initializing"
    ):
        run_verify(api, expectations(), FakeTime(), timeout=5)


# -- the dynamic resource's provider, as the engine calls it ------------------------------------


def props(api: KubeApi, **overrides: Any) -> dict[str, Any]:
    return {
        "kubeconfig": api.kubeconfig(),
        "context": None,
        "namespace": NS,
        "release": RELEASE,
        "image": IMAGE,
        "crds": served(),
        "migrateApiGroup": False,
        "readyBefore": [f"{NS}/db"],
        "databaseNamespaces": [NS],
        "timeoutSeconds": 5,
        "pollSeconds": 1,
        "chartVersion": "3.0.0",
        "valuesHash": "abc",
        **overrides,
    }


def test_the_provider_creates_updates_and_diffs(api: KubeApi) -> None:
    healthy(api)
    provider = VerificationProvider()
    created = provider.create(props(api))
    assert created.id == f"{NS}/{RELEASE}"
    assert created.outs["operator_version"] == "3.0.0"
    assert created.outs["databases_checked"] == [f"{NS}/db"]
    same = provider.diff(created.id, created.outs, props(api))
    assert same.changes is False
    moved = provider.diff(created.id, created.outs, props(api, chartVersion="3.0.1"))
    assert moved.changes is True and not moved.replaces
    updated = provider.update(created.id, created.outs, props(api, valuesHash="def"))
    assert updated.outs["verified_at"]


def test_state_written_by_0_1_0_is_verified_once_more(api: KubeApi) -> None:
    """0.1.0 stored the outputs as operatorVersion/verifiedAt/databasesChecked: with nothing
    else changed, the next update verifies again, and stores the stack outputs' spelling."""
    healthy(api)
    provider = VerificationProvider()
    created = provider.create(props(api))
    old = {
        **{k: v for k, v in created.outs.items() if k not in VERIFICATION_OUTPUTS},
        "operatorVersion": "3.0.0",
        "verifiedAt": "2026-11-01T00:00:00Z",
        "databasesChecked": [f"{NS}/db"],
    }
    assert provider.diff(created.id, old, props(api)).changes is True
    assert provider.diff(created.id, created.outs, props(api)).changes is False


def test_a_failed_check_fails_the_provider_call(api: KubeApi) -> None:
    api.add(namespace(NS))
    with pytest.raises(VerificationError, match="Deployment pgo/pg-op: not found"):
        VerificationProvider().create(props(api, readyBefore=[], timeoutSeconds=1))


# -- what a destroy keeps ----------------------------------------------------------------------


def kept(api: KubeApi, **overrides: Any) -> dict[str, Any]:
    names = sorted(served())
    return props(api, **{KEPT: {"namespace": NS, "crds": names}}, **overrides)


def test_destroy_names_the_namespace_the_crds_and_the_old_group_it_keeps(
    api: KubeApi, capsys: pytest.CaptureFixture[str]
) -> None:
    """After 2.9 -> 3.0 the old-group upstream CRDs are still in the cluster: named, with why."""
    for crd in chart_crds(FIXTURE_REPO / "pg-operator-2.9.0.tgz"):
        api.add(crd)
    VerificationProvider().delete(f"{NS}/{RELEASE}", kept(api))
    said = capsys.readouterr().err
    assert said.startswith("destroy: kept in the cluster on purpose: the namespace pgo")
    assert "8 CRDs of the chart (crunchybridgeclusters.upstream.pgv2.percona.com," in said
    assert "deleting a CRD deletes every object of its kind" in said
    old = "4 CRDs of the old group postgres-operator.crunchydata.com that the 3.0 upgrade left"
    assert old in said
    assert "postgresclusters.postgres-operator.crunchydata.com" in said


def test_before_3_0_there_is_no_old_group_and_no_cluster_read() -> None:
    """Chart 2.9: the crunchydata group is the chart's own CRDs; the kubeconfig is never read."""
    chart = props(KubeApi(url="https://127.0.0.1:9"), chartVersion="2.9.0")
    chart[KEPT] = {"namespace": "", "crds": ["a.example.com"]}
    said = kept_on_destroy(chart, [])
    assert "namespace" not in said and "old group" not in said
    assert "1 CRD of the chart (a.example.com)" in said
    assert VerificationProvider().delete("x", chart) is None


def test_state_from_before_the_report_still_names_the_crds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A stack verified before keptOnDestroy existed: the CRDs from its ``crds`` input, and no
    claim about a namespace it may not have created."""
    old = props(KubeApi(url="https://127.0.0.1:9"), chartVersion="2.9.0")
    VerificationProvider().delete("x", old)
    said = capsys.readouterr().err
    assert "8 CRDs of the chart" in said and "namespace" not in said


def test_an_unreadable_cluster_never_fails_the_destroy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    unreachable = {**kept(KubeApi(url="https://127.0.0.1:9"))}
    VerificationProvider().delete("x", unreachable)
    said = capsys.readouterr().err
    assert (
        "possibly the old-group CRDs of a 3.0 upgrade (not read: ClusterUnreachableError)" in said
    )


def test_the_report_goes_to_the_engines_log_service() -> None:
    """The dynamic-provider host gets the engine's address as its first argument: the report is
    a Log call there (the engine shows it in the run's diagnostics)."""
    from concurrent import futures

    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import engine_pb2_grpc

    from percona_pg_operator.deploy.verification import _tell_engine

    got: list[Any] = []

    class Engine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
        def Log(self, request: Any, context: Any) -> Any:
            got.append(request)
            return empty_pb2.Empty()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        _tell_engine("destroy: kept", argv=["host", f"127.0.0.1:{port}"])
    finally:
        server.stop(0)
    assert [(r.message, r.severity) for r in got] == [("destroy: kept", 1)]


# -- in the component ----------------------------------------------------------------------------


def component(doc: dict[str, Any], **args: Any) -> Any:
    from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
    from percona_pg_operator.manifest import parse_document

    stack_input = parse_document(doc, "t")
    return PerconaPostgresOperator("pg", PerconaPostgresOperatorArgs(stack_input, **args))


@pytest.mark.usefixtures("fixture_repo_env")
def test_the_component_verifies_after_the_release() -> None:
    doc = {
        "target": manifest(helm={"acknowledgeIrreversible": "3.0"}, verify={"timeoutSeconds": 900}),
        "providerConfig": {
            "provider": "kubeconfig",
            "kubeconfig": {"content": KubeApi(url="https://k8s.example.com").kubeconfig()},
        },
    }
    run = run_pulumi(
        lambda: component(doc, running_version="2.9.0", ready_databases=("pgo/db",)),
        RecordingMocks(app_version="3.0.0"),
    )
    check = run.verification()
    assert run.one(RELEASE_TYPE).urn in check.dependencies
    inputs = check.inputs
    assert inputs["image"] == IMAGE
    assert inputs["crds"] == served()
    assert inputs["migrateApiGroup"] is True, "2.9.0 -> 3.0.0 moves the API group"
    assert inputs["readyBefore"] == ["pgo/db"]
    assert inputs["databaseNamespaces"] == ["percona-postgres-operator"]
    assert inputs["timeoutSeconds"] == 900
    assert check.is_secret("kubeconfig")
    assert inputs[KEPT] == {
        "namespace": "",
        "crds": sorted(served()),
    }, "the namespace is not this stack's (createNamespace is off)"


@pytest.mark.usefixtures("fixture_repo_env")
def test_no_migration_to_wait_for_within_a_major() -> None:
    run = run_pulumi(
        lambda: component(manifest(helm={"version": "2.9.0"}), running_version="2.8.2")
    )
    assert run.verification().inputs["migrateApiGroup"] is False


def test_verification_can_be_skipped() -> None:
    run = run_pulumi(
        lambda: component(manifest(helm={"manageCrds": False}, verify={"enabled": False}))
    )
    assert run.dynamic("verification") == []


def test_a_callers_provider_without_credentials_skips_it_loudly() -> None:
    import pulumi
    import pulumi_kubernetes as k8s

    from percona_pg_operator.deploy import PerconaPostgresOperator
    from percona_pg_operator.manifest import parse_document

    def program() -> None:
        provider = k8s.Provider("callers")
        PerconaPostgresOperator(
            "pg",
            parse_document(manifest(helm={"manageCrds": False}), "t"),
            pulumi.ResourceOptions(provider=provider),
        )

    run = run_pulumi(program)
    assert run.dynamic("verification") == []
    assert any("verification skipped" in w for w in run.logged("WARNING"))


def test_a_403_fails_at_once_naming_the_permission(api: KubeApi) -> None:
    """A refused read stays refused until someone changes RBAC: no polling until the timeout."""
    healthy(api)
    api.forbidden.add("perconapgclusters")
    time = FakeTime()
    with pytest.raises(VerificationError, match=r"403 Forbidden.*'list' permission on perconapg"):
        run_verify(api, expectations(), time, timeout=600)
    assert time.sleeps == 0


def test_a_401_fails_at_once(api: KubeApi) -> None:
    """Rejected credentials stay rejected: no polling until the timeout."""
    healthy(api)
    kubeconfig = api.kubeconfig()
    api.token = "rotated"
    time = FakeTime()
    with (
        ClusterClient.connect(ClusterCredentials(kubeconfig=kubeconfig), sleep=lambda _: None) as c,
        pytest.raises(VerificationError, match=r"rejected the credentials \(401 Unauthorized\)"),
    ):
        verify(c, expectations(), timeout=600, poll=5, sleep=time.sleep, clock=time.clock)
    assert time.sleeps == 0


def test_429_and_5xx_are_polled_through(api: KubeApi) -> None:
    """Throttling and a server error may pass: the client retries, then the verification polls."""
    healthy(api)
    api.errors = [429, 503, 500, 502, 504, 503]
    time = FakeTime()
    verified = run_verify(api, expectations(), time, timeout=600)
    assert verified.databases_checked == [f"{NS}/db"]
    assert time.sleeps >= 1 and not api.errors


def test_no_answer_is_retried_until_the_timeout() -> None:
    """A transport error may pass: the verification polls through it, then names it."""
    credentials = ClusterCredentials(kubeconfig=_unreachable_kubeconfig())
    time = FakeTime()
    with (
        ClusterClient.connect(credentials, sleep=lambda _: None) as client,
        pytest.raises(VerificationError, match="could not read the cluster: no answer"),
    ):
        verify(client, expectations(), timeout=20, poll=5, sleep=time.sleep, clock=time.clock)
    assert time.sleeps == 4


def _unreachable_kubeconfig() -> str:
    import socket

    from conftest import kubeconfig_text

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return kubeconfig_text(server=f"https://127.0.0.1:{port}")


def test_stored_state_finds_the_verification_provider_where_it_was() -> None:
    """Pulumi pickles a dynamic provider by reference to its module: stacks deployed so far
    name ``percona_pg_operator.verification.VerificationProvider``, and refresh or delete their
    verification by loading it from there."""
    import pickle

    import percona_pg_operator.verification as stored_path

    assert stored_path.VerificationProvider is VerificationProvider
    pickled = pickle.dumps(VerificationProvider(), protocol=0)  # text: names as written
    assert b"percona_pg_operator.deploy.verification" in pickled
    # The name a state written before the move carries still loads:
    assert (
        pickle.loads(
            pickled.replace(
                b"percona_pg_operator.deploy.verification", b"percona_pg_operator.verification"
            )
        ).__class__
        is VerificationProvider
    )
