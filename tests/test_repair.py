"""`repair`: the right revision, through Helm's own client, confirmed, and checked after."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, manifest
from kube_api import KubeApi, install, namespace, release_secret, serve

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.cluster import ClusterClient, ClusterCredentials, read_cluster
from percona_pg_operator.cluster.repair import Repair, decide_repair, helm_config

pytestmark = pytest.mark.usefixtures("fixture_repo_env")
NS, RELEASE = "pgo", "pg-op"
PACKAGE = FIXTURE_REPO / "pg-operator-2.9.0.tgz"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        server.add(namespace(NS))
        yield server


def state(api: KubeApi) -> Any:
    with ClusterClient.connect(ClusterCredentials(kubeconfig=api.kubeconfig())) as client:
        return read_cluster(
            client, namespace=NS, release=RELEASE, crd_names=[], database_namespaces=[NS]
        )


@pytest.mark.parametrize(
    ("revisions", "action", "revision"),
    [
        (("deployed", "pending-upgrade"), "rollback", 1),
        (("superseded", "deployed", "pending-upgrade"), "rollback", 2),
        (("superseded", "deployed", "pending-rollback"), "rollback", 2),
        (("deployed", "failed"), "rollback", 1),
        (("pending-install",), "uninstall", None),
        (("failed",), "uninstall", None),
        (("superseded", "deployed"), "none", None),
        ((), "none", None),
    ],
)
def test_the_plan_picks_the_last_deployed_revision(
    api: KubeApi, revisions: tuple[str, ...], action: str, revision: int | None
) -> None:
    for number, status in enumerate(revisions, start=1):
        api.add(release_secret(PACKAGE, RELEASE, NS, number, status))
    plan = decide_repair(state(api), RELEASE, NS)
    assert (plan.action, plan.revision) == (action, revision)


def test_helm_itself_is_pointed_at_the_stacks_cluster(api: KubeApi) -> None:
    """The Config repair uses is Helm's own, on the same credentials: it reads the same history."""
    api.add(release_secret(PACKAGE, RELEASE, NS, 1, "deployed"))
    api.add(release_secret(PACKAGE, RELEASE, NS, 2, "pending-upgrade"))
    config = helm_config(ClusterCredentials(kubeconfig=api.kubeconfig()), NS)
    assert [(r["revision"], r["status"]) for r in config.history(RELEASE)] == [
        (1, "deployed"),
        (2, "pending-upgrade"),
    ]


class FakeHelm:
    """Stands in for helm_python.Config: records the call and leaves what Helm would leave."""

    calls: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def __init__(self, api: KubeApi, outcome: str) -> None:
        self.api, self.outcome = api, outcome

    def rollback(self, name: str, **options: Any) -> None:
        FakeHelm.calls.append(("rollback", name, options))
        if self.outcome == "ok":
            revisions = len(self.api.objects[("/api/v1", "secrets")])
            self.api.add(release_secret(PACKAGE, RELEASE, NS, revisions + 1, "deployed"))

    def uninstall(self, name: str, **options: Any) -> None:
        FakeHelm.calls.append(("uninstall", name, options))
        if self.outcome == "ok":
            self.api.objects[("/api/v1", "secrets")] = []

    def close(self) -> None:
        pass


@pytest.fixture
def fake_helm(api: KubeApi, monkeypatch: pytest.MonkeyPatch) -> type[FakeHelm]:
    FakeHelm.calls = []
    outcome = {"value": "ok"}
    monkeypatch.setattr(
        "percona_pg_operator.cluster.repair.helm_config",
        lambda credentials, ns: FakeHelm(api, outcome["value"]),
    )
    FakeHelm.outcome_box = outcome  # type: ignore[attr-defined]
    return FakeHelm


def stack_file(api: KubeApi, tmp_path: Path) -> str:
    doc = {
        "target": manifest(namespace=NS, helm={"version": "2.9.0"}),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    path = tmp_path / "stack.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_repair_rolls_back_after_confirmation_and_checks(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    path = stack_file(api, tmp_path)
    result = CliRunner().invoke(cli, ["repair", path, "--yes", "--timeout", "120"])
    assert result.exit_code == 0, result.output
    assert "roll release pg-op in pgo back to revision 1" in result.output
    assert fake_helm.calls == [
        ("rollback", RELEASE, {"version": 1, "timeout": 120, "wait": "watcher"})
    ]
    assert "release pg-op is deployed at revision 3 (chart 2.9.0)" in result.output


def test_repair_uninstalls_a_first_install_that_never_deployed(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("pending-install",))
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes"])
    assert result.exit_code == 0, result.output
    assert [c[0] for c in fake_helm.calls] == ["uninstall"]
    assert "release pg-op is uninstalled" in result.output


def test_repair_asks_and_does_nothing_without_yes_off_a_terminal(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path)])
    assert result.exit_code == ExitCode.USAGE and "--yes" in result.output
    assert fake_helm.calls == []


def test_repair_reports_when_helm_did_not_fix_it(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    fake_helm.outcome_box["value"] = "nothing"  # type: ignore[attr-defined]
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes"])
    assert result.exit_code == ExitCode.FAILED
    assert "after the rollback release pg-op is pending-upgrade at 2" in result.output


def test_repair_needs_no_chart(api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]) -> None:
    """A repair reads only the cluster: an unreachable chart repository and a cold cache do not
    stop it (before: the read fetched the target chart first, exit 6)."""
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    args = ["repair", stack_file(api, tmp_path), "--yes", "--chart-repo", "http://127.0.0.1:9/c"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert [c[0] for c in fake_helm.calls] == ["rollback"]


def test_nothing_to_repair(api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS)
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes"])
    assert result.exit_code == 0 and "nothing to repair: revision 1 is deployed" in result.output
    assert fake_helm.calls == []


def test_helms_own_errors_come_out_as_one_clear_line(api: KubeApi, tmp_path: Path) -> None:
    """The real Helm against the test server (which takes no writes): its refusal is reported
    as the repair's error, not a traceback."""
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes"])
    assert result.exit_code == ExitCode.FAILED
    assert "Error: helm could not rollback pg-op: HelmReleaseError" in result.output
    assert "Traceback" not in result.output


def test_plan_texts_name_the_helm_command() -> None:
    plan = Repair("rollback", "r", "ns", "stuck", 4)
    assert "helm rollback r 4 -n ns" in plan.describe()
    assert "helm uninstall r -n ns" in Repair("uninstall", "r", "ns", "x").describe()


def test_repair_json_says_what_it_decided_and_what_came_of_it(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    result = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes", "-o", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert (document["action"], document["revision"], document["done"]) == ("rollback", 1, True)
    assert document["result"] == "release pg-op is deployed at revision 3 (chart 2.9.0)"


def test_repair_json_of_a_repair_that_did_not_hold_is_an_error_document(
    api: KubeApi, tmp_path: Path, fake_helm: type[FakeHelm]
) -> None:
    install(api, PACKAGE, release=RELEASE, namespace=NS, revisions=("deployed", "pending-upgrade"))
    fake_helm.outcome_box["value"] = "nothing"  # type: ignore[attr-defined]
    failed = CliRunner().invoke(cli, ["repair", stack_file(api, tmp_path), "--yes", "-o", "json"])
    assert failed.exit_code == ExitCode.FAILED
    assert "after the rollback" in json.loads(failed.stdout)["error"]["message"]
