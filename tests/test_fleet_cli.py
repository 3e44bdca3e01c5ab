"""The fleet commands: plan against the local API server, status, schema, and the Automation API
runner (which needs the Pulumi CLI: skipped here, with the reason)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, ROOT, manifest
from kube_api import KubeApi, install, namespace, serve

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.fleet import ClusterRun, RolloutState, pulumi_cli_missing

pytestmark = pytest.mark.usefixtures("fixture_repo_env")
PACKAGE = FIXTURE_REPO / "pg-operator-2.9.0.tgz"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def write_fleet(api: KubeApi, tmp_path: Path, names: list[str], **extra: Any) -> Path:
    doc = {
        "apiVersion": "fleet.percona-pg-operator.io/v1",
        "kind": "PerconaPostgresOperatorFleet",
        "manifest": manifest(helm={"version": "2.9.0"}),
        "clusters": [
            {
                "name": name,
                "stack": f"dev-{name}",
                "labels": {"env": "dev"},
                "providerConfig": {
                    "provider": "kubeconfig",
                    "kubeconfig": {"content": api.kubeconfig()},
                },
                "overrides": {"spec": {"namespace": f"ns-{name}"}},
            }
            for name in names
        ],
        **extra,
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_fleet_preflight_shows_waves_versions_and_refusals(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    # a's stack deployed its release (its outputs say so); b's is stuck; c has none yet.
    outputs = {"namespace": "ns-a", "release_name": "pg-op", "chart_version": "2.9.0"}
    scripted.script["a"] = {"outputs": outputs}
    for name, revisions in (("a", ("deployed",)), ("b", ("deployed", "pending-upgrade"))):
        api.add(namespace(f"ns-{name}"))
        install(api, PACKAGE, release="pg-op", namespace=f"ns-{name}", revisions=revisions)
    api.add(namespace("ns-c"))
    path = write_fleet(api, tmp_path, ["a", "b", "c"])
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
    assert result.exit_code == ExitCode.REFUSED, result.output
    waves = json.loads(result.output)["waves"]
    assert [(w["name"], [c["name"] for c in w["clusters"]]) for w in waves] == [
        ("canary", ["a"]),
        ("rest", ["b", "c"]),
    ]
    rows = {c["name"]: c for w in waves for c in w["clusters"]}
    assert (rows["a"]["running_version"], rows["a"]["target_version"]) == ("2.9.0", "2.9.0")
    assert rows["b"]["result"] == "refused"
    assert any("pending-upgrade" in r for r in rows["b"]["reasons"])
    assert rows["c"]["running_version"] is None and rows["c"]["result"] in ("ok", "warn")
    text = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert "wave canary (at most 1 at once, budget 0, soak 0 s, auto)" in text.output
    assert api.token not in text.output


def test_fleet_plan_is_a_deprecated_name_of_fleet_preflight(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    api.add(namespace("ns-a"))
    path = write_fleet(api, tmp_path, ["a"])
    runner = CliRunner()
    old = runner.invoke(cli, ["fleet", "plan", str(path), "--output", "json"])
    new = runner.invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
    assert old.exit_code == new.exit_code == ExitCode.OK, old.output
    assert "deprecated" in old.stderr and "deprecated" not in new.stderr
    assert json.loads(old.stdout) == json.loads(new.stdout)
    assert "plan" not in runner.invoke(cli, ["fleet", "--help"]).output.split("Commands:")[1]


def test_fleet_status_reads_each_cluster_and_the_state_file(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace("ns-a"))
    install(api, PACKAGE, release="pg-op", namespace="ns-a")
    path = write_fleet(api, tmp_path, ["a", "b"])
    state = tmp_path / "state.json"
    RolloutState(
        {"a": ClusterRun("a", "dev-a", "canary", "2.8.2", "2.9.0", "succeeded", 12.5)}
    ).save(state)
    result = CliRunner().invoke(
        cli, ["fleet", "status", str(path), "--state", str(state), "--output", "json"]
    )
    # b has no operator installed: unhealthy, which the exit code says too.
    assert result.exit_code == ExitCode.UNHEALTHY, result.output
    rows = {r["name"]: r for r in json.loads(result.output)["clusters"]}
    assert rows["a"]["running_version"] == "2.9.0" and rows["a"]["healthy"] is True
    assert rows["a"]["last_result"] == "succeeded"
    assert rows["b"]["running_version"] is None and rows["b"]["last_result"] is None


@pytest.mark.parametrize("command", ["up", "preview", "destroy"])
def test_fleet_without_the_pulumi_cli_says_so(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """Exit 6, a tool not available, naming where to get it (before: 7, "fleet up needs…" for
    `fleet preview` too)."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    path = write_fleet(api, tmp_path, ["a"])
    extra = ["--yes"] if command in ("up", "destroy") else []
    result = CliRunner().invoke(cli, ["fleet", command, str(path), *extra])
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "the fleet's stacks run through the Pulumi CLI" in result.output
    assert "https://www.pulumi.com/docs/install/" in result.output


def test_fleet_preflight_refuses_whom_fleet_up_refuses(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    """A release the cluster's stack never made: `fleet up` refuses it (the stack's outputs name
    no such release); `fleet preflight` said "warn" before, as it read no outputs."""
    from percona_pg_operator.fleet import AutomationRunner, load_fleet

    api.add(namespace("ns-a"))
    install(api, PACKAGE, release="pg-op", namespace="ns-a")
    path = write_fleet(api, tmp_path, ["a"])
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
    assert result.exit_code == ExitCode.REFUSED, result.output
    (row,) = json.loads(result.stdout)["waves"][0]["clusters"]
    assert row["result"] == "refused"
    assert any("this stack did not create it" in r for r in row["reasons"])
    # The rollout's own decision, through the same function on the same outputs.
    (cluster,) = load_fleet(path).clusters
    decision = AutomationRunner.preflight(scripted, cluster)  # type: ignore[arg-type]
    assert not decision.ok and "this stack did not create it" in decision.reason


def test_a_bad_fleet_file_is_invalid_input_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "x", "kind": "PerconaPostgresOperatorFleet"}))
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "apiVersion" in result.output and "clusters" in result.output


def test_the_committed_fleet_schema_is_current() -> None:
    result = CliRunner().invoke(cli, ["fleet", "schema"])
    committed = json.loads((ROOT / "schema" / "fleet.schema.json").read_text())
    assert json.loads(result.output) == committed, "regenerate: percona-pg-operator fleet schema"


@pytest.mark.skipif(bool(pulumi_cli_missing()), reason=str(pulumi_cli_missing()))
def test_the_automation_runner_gives_each_stack_its_own_workspace(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs where the Pulumi CLI is installed: a local backend, two stacks, their own folders,
    the stack input stored as a secret in each stack's config."""
    from percona_pg_operator.fleet import AutomationRunner, load_fleet

    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "backend").as_uri())
    (tmp_path / "backend").mkdir()
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    plan = load_fleet(write_fleet(api, tmp_path, ["a", "b"]))
    runner = AutomationRunner(tmp_path / "workspaces")
    for cluster in plan.clusters:
        stack = runner.stack(cluster)
        value = stack.get_config("planton-cloud:stack-input")
        assert value.secret and f"ns-{cluster.name}" in value.value
        assert (tmp_path / "workspaces" / cluster.name / "Pulumi.yaml").is_file()


def test_fleet_up_reports_lines_json_and_the_exit_code(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command around the rollout, with the scripted runner in place of the Automation API:
    plain lines when piped, the JSON report, FAILED when a cluster failed."""
    from test_fleet import ScriptedRunner

    target = manifest(helm={"version": "3.0.0", "acknowledgeIrreversible": "3.0"})
    path = write_fleet(api, tmp_path, ["a", "b", "c"], manifest=target)
    runner = ScriptedRunner({"b": {"fail": True}})
    monkeypatch.setattr("percona_pg_operator.cli._fleet._runner", lambda *args: runner)
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["fleet", "up", str(path), "--yes", "--report", str(report)])
    assert result.exit_code == ExitCode.FAILED, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("a ") and "2.9.0 -> 3.0.0" in line for line in lines)
    assert "stopped: wave rest: 1 failed, more than its budget of 0" in result.output
    document = json.loads(report.read_text())
    assert {c["cluster"]: c["result"] for c in document["clusters"]} == {
        "a": "succeeded",
        "b": "failed",
        "c": "not-started",
    }
    assert (tmp_path / ".fleet" / "fleet.state.json").is_file()
    runner.script = {}  # b works now: --resume runs b and c, not a again
    runner.started.clear()
    resumed = CliRunner().invoke(
        cli, ["fleet", "up", str(path), "--yes", "--resume", "--report", str(report)]
    )
    assert resumed.exit_code == 0, resumed.output
    assert runner.started == ["b", "c"]


@pytest.fixture
def scripted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The scripted runner in place of the Automation API, run from tmp_path."""
    from test_fleet import ScriptedRunner

    runner = ScriptedRunner()
    monkeypatch.setattr("percona_pg_operator.cli._fleet._runner", lambda *args: runner)
    monkeypatch.chdir(tmp_path)
    return runner


def test_fleet_up_piped_prints_only_lines_and_json_on_request(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    path = write_fleet(api, tmp_path, ["a", "b"])
    piped = CliRunner().invoke(cli, ["fleet", "up", str(path), "--yes"])
    assert piped.exit_code == ExitCode.OK, piped.output
    lines = piped.stdout.splitlines()
    assert len(lines) == 2 and all(line.split()[0] in ("a", "b") for line in lines), lines
    as_json = CliRunner().invoke(cli, ["fleet", "up", str(path), "--yes", "--output", "json"])
    assert as_json.exit_code == ExitCode.OK, as_json.output
    assert {c["cluster"] for c in json.loads(as_json.stdout)["clusters"]} == {"a", "b"}


def test_fleet_up_with_an_unwritable_report_stops_before_anything_runs(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    path = write_fleet(api, tmp_path, ["a"])
    (tmp_path / "a-file").write_text("")  # a folder that is a file: unwritable even for root
    refused = CliRunner().invoke(
        cli, ["fleet", "up", str(path), "--yes", "--report", str(tmp_path / "a-file" / "r.json")]
    )
    assert refused.exit_code == ExitCode.USAGE, refused.output  # before: 3, "not valid"
    assert "the report cannot be written" in refused.output
    assert scripted.started == []


def test_the_report_is_written_even_when_the_rollout_stops_on_an_error(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: Any
) -> None:
    from percona_pg_operator.fleet._rollout import RolloutState

    path = write_fleet(api, tmp_path, ["a", "b"])
    saves: list[int] = []
    real_save = RolloutState.save

    def disk_full_later(self: RolloutState, where: Path) -> None:
        saves.append(1)
        if len(saves) > 3:
            raise OSError(28, "No space left on device")
        real_save(self, where)

    monkeypatch.setattr(RolloutState, "save", disk_full_later)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["fleet", "up", str(path), "--yes", "--report", str(report)])
    assert result.exit_code == ExitCode.INTERNAL, result.output
    document = json.loads(report.read_text())
    assert [c["cluster"] for c in document["clusters"]][:1] == ["a"]


def test_fleet_status_a_pending_release_is_never_healthy(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace("ns-a"))
    install(
        api, PACKAGE, release="pg-op", namespace="ns-a", revisions=("deployed", "pending-upgrade")
    )
    path = write_fleet(api, tmp_path, ["a"])
    result = CliRunner().invoke(cli, ["fleet", "status", str(path), "--output", "json"])
    assert result.exit_code == ExitCode.UNHEALTHY, result.output
    (row,) = json.loads(result.output)["clusters"]
    assert row["healthy"] is False and "pending-upgrade" in row["reason"]


def test_fleet_preflight_says_what_a_percent_budget_allows(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    waves = [{"name": "all", "select": {"labels": {"env": "dev"}}, "failureBudget": "50%"}]
    path = write_fleet(api, tmp_path, ["a", "b", "c"], rollout={"waves": waves})
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert "budget 50% = 1 of 3 clusters" in result.output, result.output
    as_json = CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
    assert json.loads(as_json.stdout)["waves"][0]["allowed_failures"] == 1


def test_fleet_preflight_gives_every_budget_as_text(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    """One JSON type for failure_budget whether the fleet file wrote 0 or "10%"."""
    waves = [
        {"name": "one", "select": {"names": ["a"]}, "failureBudget": 0},
        {"name": "two", "select": {"names": ["b"]}, "failureBudget": "10%"},
    ]
    path = write_fleet(api, tmp_path, ["a", "b"], rollout={"waves": waves})
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
    budgets = [w["failure_budget"] for w in json.loads(result.stdout)["waves"]]
    assert budgets == ["0", "10%"]


def test_an_unreadable_cluster_is_unknown_not_none_and_lines_fit_80_columns(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    path = write_fleet(api, tmp_path, ["a"])
    text = path.read_text().replace(api.url, "https://127.0.0.1:1")
    path.write_text(text)
    preflight = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert "unknown -> 2.9.0" in preflight.stdout, preflight.output
    status = CliRunner().invoke(cli, ["fleet", "status", str(path)])
    assert status.exit_code == ExitCode.UNREADABLE, status.output
    assert "unknown -> 2.9.0    unhealthy" in status.stdout, status.output
    for shown in (preflight.stdout, status.stdout):
        assert max(len(line) for line in shown.splitlines()) <= 80, shown
    document = CliRunner().invoke(cli, ["fleet", "status", str(path), "-o", "json"]).stdout
    (row,) = json.loads(document)["clusters"]
    assert row["running_version"] is None and row["unreadable"] is True


def test_fleet_destroy_asks_first_and_reports_like_up(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    path = write_fleet(api, tmp_path, ["a", "b"])
    unasked = CliRunner().invoke(cli, ["fleet", "destroy", str(path)])
    assert unasked.exit_code == ExitCode.USAGE, unasked.output
    assert "--yes is needed where there is no terminal" in unasked.output
    assert scripted.destroyed == []
    result = CliRunner().invoke(cli, ["fleet", "destroy", str(path), "--yes", "-o", "json"])
    assert result.exit_code == ExitCode.OK, result.output
    document = json.loads(result.stdout)
    assert [(c["cluster"], c["result"]) for c in document["clusters"]] == [
        ("b", "destroyed"),
        ("a", "destroyed"),
    ]
    assert scripted.destroyed == ["b", "a"]
    state = json.loads((tmp_path / ".fleet" / "fleet.state.json").read_text())
    assert {name: run["result"] for name, run in state["runs"].items()} == {
        "a": "destroyed",
        "b": "destroyed",
    }


def test_fleet_status_after_a_destroy_says_destroyed_not_unhealthy(
    api: KubeApi, tmp_path: Path
) -> None:
    """Seen on the local cluster: after `fleet destroy`, status printed `unhealthy` with the
    reason "no release of the operator" and exit 8, as if something were broken."""
    path = write_fleet(api, tmp_path, ["a"])
    state = tmp_path / "state.json"
    RolloutState({"a": ClusterRun("a", "dev-a", "canary", "2.9.0", "none", "destroyed")}).save(
        state
    )
    text = CliRunner().invoke(cli, ["fleet", "status", str(path), "--state", str(state)])
    assert text.exit_code == ExitCode.OK, text.output
    assert "destroyed" in text.stdout and "unhealthy" not in text.stdout
    document = CliRunner().invoke(
        cli, ["fleet", "status", str(path), "--state", str(state), "-o", "json"]
    )
    (row,) = json.loads(document.stdout)["clusters"]
    assert row["destroyed"] is True and row["healthy"] is False


def test_fleet_destroy_that_fails_exits_failed_and_a_bad_file_is_invalid_input(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    scripted.script["b"] = {"fail_destroy": True}
    path = write_fleet(api, tmp_path, ["a", "b"])
    failed = CliRunner().invoke(cli, ["fleet", "destroy", str(path), "--yes"])
    assert failed.exit_code == ExitCode.FAILED, failed.output
    assert "stopped: the destroy of b failed" in failed.stderr
    assert scripted.destroyed == ["b"], "a is not destroyed after b failed"
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: x\nkind: PerconaPostgresOperatorFleet\n")
    invalid = CliRunner().invoke(cli, ["fleet", "destroy", str(bad), "--yes"])
    assert invalid.exit_code == ExitCode.INVALID_INPUT, invalid.output


@pytest.mark.parametrize("command", ["preflight", "preview", "up", "status", "destroy"])
def test_fleet_help_names_no_flag_the_command_lacks(command: str) -> None:
    shown = CliRunner().invoke(cli, ["fleet", command, "--help"]).output
    assert "--chart-repo" not in shown
    assert "PERCONA_PG_OPERATOR_CHART_REPO" in shown
    import click

    from percona_pg_operator.cli._fleet import fleet

    command_object = fleet.commands[command]
    silent = [
        p.opts
        for p in command_object.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert silent == [], f"options without help: {silent}"


def test_the_stack_input_never_reaches_a_command_line(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in `pulumi` on PATH records its arguments and standard input: the stack input
    (credentials included) goes to `pulumi config set` on standard input only."""
    import stat
    import sys

    from percona_pg_operator.fleet import AutomationRunner, load_fleet

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.jsonl"
    fake = bin_dir / "pulumi"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"open({str(record)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
        "'stdin': sys.stdin.read()}) + '\\n')\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    plan = load_fleet(write_fleet(api, tmp_path, ["a"]))
    runner = AutomationRunner(tmp_path / "workspaces")
    runner._set_stack_input(tmp_path, "dev-a", "target: {}\nkubeconfig-token: s3cr3t\n")
    (call,) = [json.loads(line) for line in record.read_text().splitlines()]
    assert call["argv"][:3] == ["config", "set", "--secret"]
    assert "s3cr3t" not in " ".join(call["argv"])
    assert "s3cr3t" in call["stdin"]
    assert plan.clusters[0].name == "a"


def test_fleet_preflight_counts_on_a_terminal_only(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted: Any
) -> None:
    from types import SimpleNamespace

    from percona_pg_operator.cli import _fleet

    for name in ("a", "b", "c"):
        api.add(namespace(f"ns-{name}"))
    path = write_fleet(api, tmp_path, ["a", "b", "c"])
    piped = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert "clusters" not in piped.stderr

    class Terminal:
        @staticmethod
        def isatty() -> bool:
            return True

    monkeypatch.setattr(_fleet, "sys", SimpleNamespace(stderr=Terminal()))
    shown = CliRunner().invoke(cli, ["fleet", "preflight", str(path)])
    assert shown.exit_code == piped.exit_code
    assert "\rpreflight 3/3 clusters\n" in shown.stderr
    assert shown.stdout == piped.stdout


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_state_file_that_is_not_a_file_stops_at_once(
    api: KubeApi, tmp_path: Path, scripted: Any, kind: str
) -> None:
    """Before: `fleet up --state` at a FIFO waited forever in the writability check."""
    path = write_fleet(api, tmp_path, ["a"])
    state = tmp_path / "state.json"
    if kind == "fifo":
        os.mkfifo(state)
    else:
        state.mkdir()
    result = CliRunner().invoke(cli, ["fleet", "up", str(path), "--yes", "--state", str(state)])
    assert result.exit_code in (ExitCode.USAGE, ExitCode.INVALID_INPUT), result.output
    assert "not a regular file" in result.output or "is a directory" in result.output
    assert scripted.started == []


def test_fleet_preflight_shows_cluster_text_as_data(
    api: KubeApi, tmp_path: Path, scripted: Any
) -> None:
    """Before: a database's state with escape sequences and a newline reached the screen raw."""
    from kube_api import cluster_crd, percona_pg_cluster

    api.add(namespace("ns-a"))
    install(api, PACKAGE, release="pg-op", namespace="ns-a")
    outputs = {"namespace": "ns-a", "release_name": "pg-op", "chart_version": "2.9.0"}
    scripted.script["a"] = {"outputs": outputs}
    db = percona_pg_cluster(cluster_crd(PACKAGE), "db", "ns-a", "2.9.0")
    db["status"] = {"state": "init\x1b[2J\n  a    fake line"}
    api.add(db)
    result = CliRunner().invoke(cli, ["fleet", "preflight", str(write_fleet(api, tmp_path, ["a"]))])
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output
    assert not any(line.startswith("  a    fake") for line in result.output.splitlines())
