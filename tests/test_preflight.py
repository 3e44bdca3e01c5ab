"""The preflight against a local API server: every refusal, in the program and on the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, manifest
from kube_api import KubeApi, cluster_crd, install, namespace, percona_pg_cluster, serve
from pulumi_harness import RELEASE_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.checks.preflight import Preflight, StackState, run_preflight
from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.manifest import StackInput, parse_document

NS, RELEASE = "pgo", "pg-op"
pytestmark = pytest.mark.usefixtures("fixture_repo_env")


def package(version: str) -> Path:
    return FIXTURE_REPO / f"pg-operator-{version}.tgz"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def stack_input(api: KubeApi, **spec: Any) -> StackInput:
    spec.setdefault("namespace", NS)
    doc = {
        "target": manifest(**spec),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    return parse_document(doc, "test")


def preflight(api: KubeApi, stack: StackState | None = None, **spec: Any) -> Preflight:
    return run_preflight(stack_input(api, **spec), stack=stack, sleep=lambda _: None)


def check(report: Preflight, name: str) -> tuple[str, str]:
    found = [c for c in report.checks if c.name == name]
    assert len(found) == 1, [c.name for c in report.checks]
    return found[0].status, found[0].reason


OURS = StackState(namespace=NS, release_name=RELEASE, chart_version="2.9.0")


def test_a_fresh_install_passes(api: KubeApi) -> None:
    api.add(namespace(NS))
    report = preflight(api, stack=StackState())
    assert not report.refused, report.checks
    assert [c.status for c in report.checks] == ["ok"] * len(report.checks)
    assert check(report, "release")[1] == f"no release {RELEASE} in {NS}: a fresh install"
    assert check(report, "upgrade")[1] == "a fresh install of chart 3.0.0"


def test_the_irreversible_step_is_refused_without_its_acknowledgement(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    status, reason = check(preflight(api, stack=OURS), "upgrade")
    assert status == "fail" and 'acknowledgeIrreversible: "3.0"' in reason


def test_a_supported_step_from_the_live_release_passes(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    report = preflight(api, stack=OURS, helm={"acknowledgeIrreversible": "3.0"})
    assert not report.refused, report.failures()
    assert report.running_version == "2.9.0"
    assert check(report, "upgrade") == ("ok", "chart 2.9.0 -> 3.0.0: a supported step")
    assert check(report, "operator")[0] == "ok"


@pytest.mark.parametrize(
    ("revisions", "recovery"),
    [
        (("deployed", "pending-upgrade"), f"helm rollback {RELEASE} 1 -n {NS}"),
        (("superseded", "deployed", "pending-rollback"), f"helm rollback {RELEASE} 2 -n {NS}"),
        (("pending-install",), f"helm uninstall {RELEASE} -n {NS}"),
    ],
)
def test_a_stuck_release_is_refused_with_its_recovery(
    api: KubeApi, revisions: tuple[str, ...], recovery: str
) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=revisions)
    report = preflight(api, stack=OURS)
    status, reason = check(report, "release")
    assert status == "fail"
    assert f"is {revisions[-1]} at revision {len(revisions)}" in reason
    assert recovery in reason
    assert "the preflight refused the change; nothing was changed" in report.refusal_message()


def test_a_failed_first_install_is_refused(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("failed",))
    status, reason = check(preflight(api, stack=OURS), "release")
    assert status == "fail" and f"helm uninstall {RELEASE} -n {NS}" in reason


def test_a_failed_upgrade_over_a_deployed_revision_warns(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("deployed", "failed"))
    status, reason = check(preflight(api, stack=OURS), "release")
    assert status == "warn" and "revision 1 (chart 2.9.0) runs" in reason


def test_a_release_this_stack_did_not_create_is_refused_with_how_to_adopt(api: KubeApi) -> None:
    """E.g. `helm install` by hand: the stack's outputs name no release."""
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    status, reason = check(preflight(api, stack=StackState()), "owner")
    assert status == "fail"
    assert "this stack did not create it" in reason and "chart 2.9.0, deployed" in reason
    assert "spec.adopt.release: true" in reason
    assert f"helm uninstall {RELEASE} -n {NS}" in reason


def test_adopting_a_release_at_the_version_it_runs(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    fresh = StackState()
    wrong = preflight(api, stack=fresh, adopt={"release": True})  # the manifest says 3.0.0
    status, reason = check(wrong, "owner")
    assert status == "fail" and "set spec.helm.version: 2.9.0 for the adoption run" in reason
    right = preflight(api, stack=fresh, adopt={"release": True}, helm={"version": "2.9.0"})
    assert check(right, "owner") == (
        "ok",
        f"adopting release {RELEASE} (chart 2.9.0, deployed): imported into the stack on this "
        "run, changing nothing in the cluster",
    )
    assert not right.refused, right.failures()
    done = preflight(api, stack=OURS, adopt={"release": True}, helm={"version": "2.9.0"})
    assert (
        check(done, "owner")[0] == "warn" and "remove spec.adopt.release" in check(done, "owner")[1]
    )


def test_adopting_a_namespace(api: KubeApi) -> None:
    api.add(namespace(NS))
    report = preflight(api, stack=StackState(), createNamespace=True, adopt={"namespace": True})
    assert check(report, "namespace") == (
        "ok",
        f"adopting namespace {NS}: imported into the stack on this run",
    )


def test_without_stack_state_the_owner_is_unknown(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    status, reason = check(preflight(api, stack=None), "owner")
    assert status == "warn" and "owner is unknown" in reason


def test_a_stack_upstream_deployed_owns_its_release(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.7.0"), release=RELEASE, namespace=NS)
    report = preflight(api, stack=StackState(namespace=NS), helm={"version": "2.8.2"})
    assert check(report, "owner")[0] == "ok"
    assert not report.refused, report.failures()


def test_the_guard_uses_the_live_version_over_stack_state(api: KubeApi) -> None:
    """The Go module's stack or a Helm CLI install: 2.7 runs, an unchanged manifest would jump
    to 3.0. The live release wins over what the stack recorded."""
    api.add(namespace(NS))
    install(api, package("2.7.0"), release=RELEASE, namespace=NS)
    report = preflight(api, stack=OURS)  # the state claims 2.9.0
    status, reason = check(report, "upgrade")
    assert status == "fail"
    assert "2.7.0 -> 3.0.0 skips a minor" in reason
    assert "2.7.x -> 2.8.x -> 2.9.x -> 3.0.x" in reason
    assert report.running_version == "2.7.0"


def test_a_missing_namespace_that_must_exist_is_refused(api: KubeApi) -> None:
    status, reason = check(preflight(api, stack=StackState()), "namespace")
    assert status == "fail" and f"namespace {NS} does not exist" in reason


def test_taking_over_a_namespace_this_stack_does_not_own_is_refused(api: KubeApi) -> None:
    api.add(namespace(NS))
    status, reason = check(preflight(api, stack=StackState(), createNamespace=True), "namespace")
    assert status == "fail" and "this stack did not create it" in reason
    status, _ = check(preflight(api, stack=None, createNamespace=True), "namespace")
    assert status == "warn"
    status, _ = check(preflight(api, stack=OURS, createNamespace=True), "namespace")
    assert status == "ok"


def test_databases_the_target_operator_would_not_manage_are_refused(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    crd = cluster_crd(package("2.9.0"))
    api.add(percona_pg_cluster(crd, "old-one", NS, "2.7.0"))
    api.add(percona_pg_cluster(crd, "old-two", NS, "2.7.1"))
    api.add(percona_pg_cluster(crd, "fine", NS, "2.8.0"))
    status, reason = check(preflight(api, stack=OURS), "databases")
    assert status == "fail"
    assert "operator 3.0.0 manages crVersion 3.0.x, 2.9.x, 2.8.x only" in reason
    assert f"{NS}/old-one (crVersion 2.7.0)" in reason and f"{NS}/old-two" in reason
    assert "fine" not in reason


def test_databases_that_are_not_ready_warn(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(package("2.9.0")), "db", NS, "2.9.0", "paused"))
    status, reason = check(preflight(api, stack=OURS), "databases")
    assert status == "warn" and f"{NS}/db (paused)" in reason


def test_the_tenancy_decides_where_databases_are_looked_for(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(package("2.9.0")), "far", "team-z", "2.7.0"))
    assert check(preflight(api, stack=OURS), "databases")[0] == "ok"
    listed = preflight(api, stack=OURS, tenancy={"mode": "namespaces", "namespaces": ["team-z"]})
    assert check(listed, "databases")[0] == "fail"
    everywhere = preflight(api, stack=OURS, tenancy={"mode": "all_namespaces"})
    assert check(everywhere, "databases")[0] == "fail"


def _repo_with_kube_version(tmp_path: Path, constraint: str) -> Path:
    """The real 3.0.0 package with a kubeVersion in its Chart.yaml, in an index of its own."""
    repo = tmp_path / "repo"
    repo.mkdir()
    out = io.BytesIO()
    with tarfile.open(package("3.0.0")) as source, tarfile.open(fileobj=out, mode="w:gz") as dest:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name == "pg-operator/Chart.yaml" and data is not None:
                chart = yaml.safe_load(data)
                chart["kubeVersion"] = constraint
                data = yaml.safe_dump(chart).encode()
                member.size = len(data)
            dest.addfile(member, io.BytesIO(data) if data is not None else None)
    (repo / "pg-operator-3.0.0.tgz").write_bytes(out.getvalue())
    index = yaml.safe_load((FIXTURE_REPO / "index.yaml").read_text())
    entry = next(e for e in index["entries"]["pg-operator"] if e["version"] == "3.0.0")
    entry["digest"] = hashlib.sha256(out.getvalue()).hexdigest()
    index["entries"]["pg-operator"] = [entry]
    (repo / "index.yaml").write_text(yaml.safe_dump(index))
    return repo


@pytest.mark.parametrize(
    ("constraint", "expected"), [(">=1.32.0-0", "fail"), (">= 1.28.0-0, < 1.33.0-0", "ok")]
)
def test_the_charts_kube_version_is_checked(
    api: KubeApi, tmp_path: Path, constraint: str, expected: str
) -> None:
    api.add(namespace(NS))
    repo = _repo_with_kube_version(tmp_path, constraint)
    report = preflight(api, stack=StackState(), helm={"repo": str(repo)})
    status, reason = check(report, "kubernetes")
    assert status == expected, reason
    assert constraint in reason and "v1.31.4" in reason


def test_the_real_charts_declare_no_kube_version(api: KubeApi) -> None:
    api.add(namespace(NS))
    status, reason = check(preflight(api, stack=StackState()), "kubernetes")
    assert status == "ok" and "declares no kubeVersion" in reason


# -- in the Pulumi program --------------------------------------------------------------------


def program_run(doc: StackInput, mocks: RecordingMocks, preview: bool) -> Any:
    from percona_pg_operator.deploy.program import run

    with pytest.MonkeyPatch.context() as env:
        env.setenv(
            "STACK_INPUT_YAML", yaml.safe_dump(doc.model_dump(by_alias=True, exclude_none=True))
        )
        env.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "on")
        return run_pulumi(run, mocks, preview=preview)


def unreachable_input(**spec: Any) -> StackInput:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return stack_input(KubeApi(url=f"http://127.0.0.1:{port}"), **spec)


@pytest.mark.parametrize("manage_crds", [True, False])
def test_preview_goes_on_when_the_cluster_cannot_be_read(manage_crds: bool) -> None:
    """The managed CRDs' diff compares digests in the stack's state: no cluster needed."""
    spec = {"helm": {"manageCrds": manage_crds}}
    run = program_run(unreachable_input(**spec), RecordingMocks(), preview=True)
    assert run.of_type(RELEASE_TYPE), "the preview goes on"
    (warning,) = [w for w in run.logged("WARNING") if "preflight" in w]
    assert "cannot read the cluster" in warning and "the preview goes on" in warning


def test_up_stops_when_the_cluster_cannot_be_read() -> None:
    import pulumi

    mocks = RecordingMocks()
    with pytest.raises(pulumi.RunError, match="preflight: cannot read the cluster") as info:
        program_run(unreachable_input(), mocks, preview=False)
    assert "Traceback" not in str(info.value)
    assert "internal error" not in str(info.value), "a refusal is not a bug"
    assert not [r.type for r in mocks.registrations if r.custom], "a refusal registers nothing"


def test_the_program_refuses_before_anything_changes(api: KubeApi) -> None:
    import pulumi

    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("pending-install",))
    mocks = RecordingMocks(previous_outputs={"namespace": NS, "release_name": RELEASE})
    with pytest.raises(pulumi.RunError) as info:
        program_run(stack_input(api), mocks, preview=False)
    message = str(info.value)
    assert "the preflight refused the change; nothing was changed" in message
    assert f"helm uninstall {RELEASE} -n {NS}" in message
    assert not [r.type for r in mocks.registrations if r.custom], "a refusal registers nothing"


def test_the_program_refuses_a_helm_cli_install_on_a_fresh_stack(api: KubeApi) -> None:
    import pulumi

    api.add(namespace(NS))
    install(api, package("2.7.0"), release=RELEASE, namespace=NS)
    with pytest.raises(pulumi.RunError) as info:
        program_run(stack_input(api), RecordingMocks(), preview=True)
    message = str(info.value)
    assert "owner: release pg-op (chart 2.7.0, deployed)" in message
    assert "upgrade: chart 2.7.0 -> 3.0.0 skips a minor" in message


def test_the_program_passes_the_live_version_to_the_guard(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    mocks = RecordingMocks(previous_outputs={"namespace": NS, "release_name": RELEASE})
    doc = stack_input(api, helm={"acknowledgeIrreversible": "3.0"})
    run = program_run(doc, mocks, preview=False)
    assert run.one(RELEASE_TYPE).inputs["version"] == "3.0.0"
    assert not [w for w in run.logged("WARNING") if "preflight" in w]


def test_preflight_off_says_so_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from percona_pg_operator.deploy.program import run

    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(helm={"manageCrds": False})))
    result = run_pulumi(run)
    warnings = [w for w in result.logged("WARNING") if "PERCONA_PG_OPERATOR_PREFLIGHT" in w]
    assert warnings == [
        "PERCONA_PG_OPERATOR_PREFLIGHT=off: the live cluster is not checked; the upgrade guard "
        "uses the stack's state only"
    ]


def test_a_bad_switch_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi

    from percona_pg_operator.deploy.program import run

    monkeypatch.setenv("STACK_INPUT_YAML", yaml.safe_dump(manifest(helm={"manageCrds": False})))
    monkeypatch.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "maybe")
    with pytest.raises(pulumi.RunError, match="must be on or off"):
        run_pulumi(run)


# -- the command line ---------------------------------------------------------------------------


def write_input(api: KubeApi, tmp_path: Path, **spec: Any) -> str:
    path = tmp_path / "stack-input.yaml"
    doc = stack_input(api, **spec).model_dump(by_alias=True, exclude_none=True)
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_cli_preflight_ok_refused_and_unreadable(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace(NS))
    path = write_input(api, tmp_path)
    ok = CliRunner().invoke(cli, ["preflight", path])
    assert ok.exit_code == 0, ok.output
    assert "ok    upgrade" in ok.output
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("pending-upgrade",))
    refused = CliRunner().invoke(cli, ["preflight", path, "--output", "json"])
    assert refused.exit_code == ExitCode.REFUSED
    document = json.loads(refused.output)
    assert document["refused"] is True
    assert {c["name"]: c["status"] for c in document["checks"]}["release"] == "fail"
    assert {c["name"]: c["status"] for c in document["checks"]}["owner"] == "warn"
    api.forbidden.add("secrets")
    forbidden = CliRunner().invoke(cli, ["preflight", path])
    assert (
        forbidden.exit_code == ExitCode.UNREADABLE
        and "'list' permission on secrets" in forbidden.output
    )


def test_cli_preflight_to_another_version(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    path = write_input(api, tmp_path)
    result = CliRunner().invoke(cli, ["preflight", path, "--to", "2.9.0", "--output", "json"])
    upgrade = next(c for c in json.loads(result.output)["checks"] if c["name"] == "upgrade")
    assert upgrade == {
        "name": "upgrade",
        "status": "ok",
        "reason": "chart 2.8.2 -> 2.9.0: a supported step",
    }


def test_cli_preflight_unreachable_is_unreadable(tmp_path: Path) -> None:
    doc = unreachable_input().model_dump(by_alias=True, exclude_none=True)
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["preflight", str(path)])
    assert (
        result.exit_code == ExitCode.UNREADABLE and "no answer from the API server" in result.output
    )


def test_cli_status(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace(NS))
    install(api, package("2.7.0"), release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(package("2.7.0")), "db", NS, "2.7.0"))
    path = write_input(api, tmp_path)
    result = CliRunner().invoke(cli, ["status", path, "--output", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) == {
        "schema_version",
        "cluster",
        "namespace",
        "release",
        "operator",
        "crds",
        "databases",
        "upgrade_path",
    }
    assert doc["cluster"] == {"server": api.url, "version": "v1.31.4"}
    assert doc["release"]["chart_version"] == "2.7.0" and doc["release"]["status"] == "deployed"
    assert doc["operator"]["ready"] is True
    assert doc["databases"] == [
        {
            "name": "db",
            "namespace": NS,
            "cr_version": "2.7.0",
            "state": "ready",
            "conditions": [],
            "ready": True,
        }
    ]
    assert doc["upgrade_path"]["steps"] == ["2.8.2", "2.9.0", "3.0.0"]
    assert doc["upgrade_path"]["newest"] == "3.0.0"
    text = CliRunner().invoke(cli, ["status", path])
    assert text.exit_code == 0
    assert "upgrade    2.7.0: 2.8.2 -> 2.9.0 -> 3.0.0" in text.output
    assert "database   pgo/db: crVersion 2.7.0, ready" in text.output


def test_status_reads_the_cluster_when_no_chart_can_be_had(api: KubeApi, tmp_path: Path) -> None:
    """The cluster read downloads nothing: with the repository unreachable and a cold cache,
    `status` still shows what runs (before: exit 6 before one object was read)."""
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    path = write_input(api, tmp_path)
    args = ["status", path, "-o", "json", "--chart-repo", "http://127.0.0.1:9/charts"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["release"]["chart_version"] == "2.9.0"
    assert {c["name"] for c in doc["crds"]} >= {"perconapgclusters.pgv2.percona.com"}
    assert "cannot download" in doc["upgrade_path"]["error"]


def test_status_json_carries_whole_crd_objects_only_when_asked(
    api: KubeApi, tmp_path: Path
) -> None:
    api.add(namespace(NS))
    install(api, package("3.0.0"), release=RELEASE, namespace=NS)
    path = write_input(api, tmp_path)
    plain = CliRunner().invoke(cli, ["status", path, "-o", "json"])
    assert plain.exit_code == 0, plain.output
    crds = json.loads(plain.stdout)["crds"]
    assert crds and all("raw" not in crd and "storage_version" in crd for crd in crds)
    raw = CliRunner().invoke(cli, ["status", path, "-o", "json", "--raw"])
    assert any(
        crd["raw"].get("kind") == "CustomResourceDefinition"
        for crd in json.loads(raw.stdout)["crds"]
    )
    assert len(plain.stdout) * 10 < len(raw.stdout)


def test_status_and_preflight_print_no_secret(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    path = write_input(api, tmp_path)
    for args in (["status", path, "--output", "json"], ["preflight", path, "--output", "json"]):
        output = CliRunner().invoke(cli, args).output
        assert api.token not in output
        assert "kind: Deployment" not in output, "the release manifest is not printed"


@pytest.mark.parametrize(
    ("setup", "spec", "fragment"),
    [
        ("nothing", {}, f"namespace: namespace {NS} does not exist"),
        ("foreign-namespace", {"createNamespace": True}, "this stack did not create it"),
        ("old-databases", {}, "databases: operator 3.0.0 manages crVersion"),
    ],
)
def test_the_program_refuses_each_unsafe_state(
    api: KubeApi, setup: str, spec: dict[str, Any], fragment: str
) -> None:
    import pulumi

    ours = {"namespace": NS, "release_name": RELEASE, "chart_version": "2.9.0"}
    if setup == "foreign-namespace":
        api.add(namespace(NS))
        ours = {}
    if setup == "old-databases":
        api.add(namespace(NS))
        install(api, package("2.9.0"), release=RELEASE, namespace=NS)
        api.add(percona_pg_cluster(cluster_crd(package("2.9.0")), "legacy", NS, "2.7.0"))
    mocks = RecordingMocks(previous_outputs=ours)
    with pytest.raises(pulumi.RunError, match=fragment):
        program_run(stack_input(api, **spec), mocks, preview=False)
    assert not [r.type for r in mocks.registrations if r.custom], "a refusal registers nothing"


def test_the_program_hands_the_ready_databases_to_verification(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    crd = cluster_crd(package("2.9.0"))
    api.add(percona_pg_cluster(crd, "up", NS, "2.9.0"))
    api.add(percona_pg_cluster(crd, "down", NS, "2.9.0", "initializing"))
    mocks = RecordingMocks(previous_outputs={"namespace": NS, "release_name": RELEASE})
    run = program_run(stack_input(api, helm={"version": "2.9.0"}), mocks, preview=False)
    assert run.verification().inputs["readyBefore"] == [f"{NS}/up"]


HOSTILE = "2.7.0\x1b[2J\x1b]0;owned\x07\nok    fake     all is well\u202e"


@pytest.mark.parametrize("command", ["preflight", "status"])
@pytest.mark.parametrize("output", ["text", "json"])
def test_cluster_text_is_data_never_a_terminals_instructions(
    api: KubeApi, tmp_path: Path, command: str, output: str
) -> None:
    """Before: escape sequences from the cluster (a crVersion, a state, a condition message)
    reached the screen raw, and a newline in them started a fake output line."""
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    db = percona_pg_cluster(cluster_crd(package("2.9.0")), "db", NS, "2.9.0")
    db["spec"]["crVersion"] = HOSTILE
    db["status"] = {"state": HOSTILE, "conditions": [{"type": "Ready", "message": HOSTILE}]}
    api.add(db)
    path = write_input(api, tmp_path)
    result = CliRunner().invoke(cli, [command, path, "-o", output])
    shown = result.stdout + result.stderr
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "\\x1b[2J" in shown, "shown as an escape, not dropped"
    assert not any(line.startswith("ok    fake") for line in shown.splitlines())


def test_status_of_a_release_whose_chart_version_is_not_one_says_so() -> None:
    """Before: `status` exited 4 ("a check refused"), which its help does not list."""
    from percona_pg_operator.cli._cluster import status_json
    from percona_pg_operator.cluster import ClusterState, HelmRelease

    release = HelmRelease("pg-op", NS, 1, "deployed", "pg-operator", "latest", "x")
    state = ClusterState(
        server="s", server_version="v1.31.0", namespace_exists=True, namespace_labels={},
        releases=[release], deployment=None, crds=[], databases=[],
    )  # fmt: skip
    path = status_json(state, ["2.9.0", "3.0.0"], None)["upgrade_path"]
    assert path["steps"] == [] and "'latest' is not a chart version" in path["error"]
