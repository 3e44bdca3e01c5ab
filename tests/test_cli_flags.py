"""kubectl's and helm's flags on the commands that read a cluster: --kubeconfig, --context,
--chart-repo, -o; each through the command, against the local API stand-in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import ROOT, manifest
from kube_api import KubeApi, namespace, serve

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.errors import StackInputError

pytestmark = pytest.mark.usefixtures("fixture_repo_env")

# A port nothing listens on (the stand-in is another): reading it fails at once.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        server.add(namespace("pgo"))
        yield server


def two_contexts(api: KubeApi) -> dict[str, Any]:
    """A kubeconfig whose current context points nowhere and whose context `good` is the
    stand-in."""
    config = yaml.safe_load(api.kubeconfig())
    config["clusters"].append({"name": "nowhere", "cluster": {"server": NOWHERE}})
    config["contexts"] = [
        {"name": "good", "context": {"cluster": "fake", "user": "fake"}},
        {"name": "bad", "context": {"cluster": "nowhere", "user": "fake"}},
    ]
    config["current-context"] = "bad"
    return config


def write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return path


def stack_file(tmp_path: Path, provider_config: dict[str, Any] | None) -> Path:
    doc: dict[str, Any] = {"target": manifest(namespace="pgo")}
    if provider_config is not None:
        doc["providerConfig"] = provider_config
    return write(tmp_path, "stack.yaml", doc)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def cluster_reason(result: Result) -> str:
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    return str(checks["cluster"]["reason"])


def test_kubeconfig_replaces_the_stack_inputs_credentials(api: KubeApi, tmp_path: Path) -> None:
    elsewhere = {"provider": "kubeconfig", "kubeconfig": {"content": yaml.safe_dump(
        {**two_contexts(api), "current-context": "bad"})}}  # fmt: skip
    stack = stack_file(tmp_path, elsewhere)
    kubeconfig = write(tmp_path, "kubeconfig", yaml.safe_load(api.kubeconfig()))
    assert run("preflight", str(stack), "-o", "json").exit_code == ExitCode.UNREADABLE
    result = run("preflight", str(stack), "--kubeconfig", str(kubeconfig), "-o", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert cluster_reason(result).startswith("Kubernetes ")
    assert api.count("/version") >= 1


def test_context_picks_one_of_the_kubeconfig(api: KubeApi, tmp_path: Path) -> None:
    kubeconfig = write(tmp_path, "kubeconfig", two_contexts(api))
    stack = stack_file(tmp_path, None)
    flags = ("--kubeconfig", str(kubeconfig), "-o", "json")
    assert run("preflight", str(stack), *flags).exit_code == ExitCode.UNREADABLE  # current: bad
    good = run("preflight", str(stack), *flags, "--context", "good")
    assert good.exit_code == ExitCode.OK, good.output
    missing = run("preflight", str(stack), *flags, "--context", "nope")
    assert missing.exit_code == ExitCode.USAGE
    assert "has no context named 'nope'" in missing.stderr


def test_context_alone_picks_a_context_of_the_stack_inputs_kubeconfig(
    api: KubeApi, tmp_path: Path
) -> None:
    content = yaml.safe_dump(two_contexts(api))
    stack = stack_file(tmp_path, {"provider": "kubeconfig", "kubeconfig": {"content": content}})
    result = run("status", str(stack), "--context", "good", "-o", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert json.loads(result.stdout)["cluster"]["server"] == api.url


def test_context_alone_picks_a_context_of_the_ambient_kubeconfig(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(write(tmp_path, "kubeconfig", two_contexts(api))))
    stack = stack_file(tmp_path, None)
    assert run("preflight", str(stack), "-o", "json").exit_code == ExitCode.UNREADABLE
    result = run("preflight", str(stack), "--context", "good", "-o", "json")
    assert result.exit_code == ExitCode.OK, result.output


def test_context_with_cloud_credentials_asks_for_a_kubeconfig(api: KubeApi, tmp_path: Path) -> None:
    doks = {"provider": "digital_ocean_doks", "digitalOceanDoks": {"kubeConfig": api.kubeconfig()}}
    result = run("preflight", str(stack_file(tmp_path, doks)), "--context", "x")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "providerConfig.digital_ocean_doks credentials: add --kubeconfig" in result.stderr


def test_kubeconfig_flags_need_live_in_diff(tmp_path: Path) -> None:
    stack = stack_file(tmp_path, None)
    result = run("diff", str(stack), "--against", str(stack), "--context", "x")
    assert result.exit_code == ExitCode.USAGE
    assert "use them with --live" in result.stderr


def test_chart_repo_overrides_the_spec(tmp_path: Path) -> None:
    doc = {"target": manifest(namespace="pgo", helm={"repo": "https://charts.invalid/"})}
    stack = write(tmp_path, "stack.yaml", doc)
    bad = run("status", str(stack), "--chart-repo", "https://user:pw@mirror.invalid/")
    assert bad.exit_code == ExitCode.USAGE
    assert "pw" not in bad.output
    from conftest import FIXTURE_REPO

    result = run("repair", str(stack), "--chart-repo", str(FIXTURE_REPO), "--kubeconfig",
                 str(tmp_path / "absent"))  # fmt: skip
    assert "charts.invalid" not in result.output  # the package came from --chart-repo
    assert result.exit_code == ExitCode.USAGE  # the kubeconfig flag was the one read
    assert "--kubeconfig" in result.stderr and "absent" in result.stderr


def test_every_cluster_command_documents_the_flags() -> None:
    for command in ("preflight", "status", "diff", "repair"):
        text = run(command, "--help").output
        for flag in ("--kubeconfig", "--context", "--chart-repo"):
            assert flag in text, (command, flag)
    for command in ("preflight", "status", "diff"):
        assert "-o, --output" in run(command, "--help").output, command


def test_every_environment_switch_is_in_the_help_of_what_it_reads() -> None:
    import re

    from percona_pg_operator import defaults, tokens
    from percona_pg_operator.checks.preflight import PREFLIGHT_ENV
    from percona_pg_operator.cli.environment import AFFECTS, MEANINGS
    from percona_pg_operator.cli.exitcodes import COMMANDS

    source = "\n".join(p.read_text() for p in (ROOT / "src" / "percona_pg_operator").rglob("*.py"))
    from percona_pg_operator._process import RUN_MARKER

    # The marker set on the fleet's Pulumi processes to find them again: written, never read.
    read_here = set(re.findall(r"PERCONA_PG_OPERATOR_[A-Z0-9_]+", source)) - {RUN_MARKER}
    assert read_here <= set(MEANINGS), read_here - set(MEANINGS)
    constants = {defaults.CHART_REPO_ENV, defaults.KUBE_CONTEXT_ENV, tokens.GKE_KEY_ENV}
    assert constants | {PREFLIGHT_ENV} <= set(MEANINGS)
    assert set(AFFECTS) <= set(COMMANDS)
    for path, names in AFFECTS.items():
        text = run(*path.split(), "--help").output
        section = text.split("Environment:")[1].split("Exit codes:")[0]
        assert all(name in section for name in names), path


def test_stack_needs_the_pulumi_cli_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `pulumi` anywhere
    result = run("preflight", "--stack", "organization/percona-pg-operator/dev")
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "reads the stack through the Pulumi CLI, which cannot run here" in result.stderr
    # Before: a raw errno and no word on how to get the CLI.
    assert "https://www.pulumi.com/docs/install/" in result.stderr
    assert "Errno" not in result.stderr


def fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    """A `pulumi` on PATH (the only one) that runs ``script`` with this interpreter."""
    import stat
    import sys

    fake = tmp_path / "pulumi"
    fake.write_text(f"#!{sys.executable}\n{script}")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")


def read_a_stack() -> Result:
    return run("status", "--stack", "organization/percona-pg-operator/dev")


def test_a_failing_pulumi_cli_is_unavailable_not_invalid_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Pulumi CLI that runs and fails (here: one that only says "error: backend down"):
    exit 6 with its reason; before, 3, as if the input were not valid."""
    script = "import sys\nprint('error: backend down', file=sys.stderr)\nsys.exit(1)\n"
    fake_pulumi(tmp_path, monkeypatch, script)
    result = read_a_stack()
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "backend down" in result.stderr


def test_a_pulumi_cli_that_never_answers_is_stopped_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: `--stack` waited as long as the CLI did, forever for a hung backend."""
    import time

    from percona_pg_operator.deploy import automation

    fake_pulumi(tmp_path, monkeypatch, "import time\ntime.sleep(120)\n")
    monkeypatch.setattr(automation, "READ_TIMEOUT_SECONDS", 1.0)
    start = time.monotonic()
    result = read_a_stack()
    assert time.monotonic() - start < 10
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "gave no answer within 1 s" in result.stderr


def test_a_pulumi_cli_that_prints_no_json_is_unavailable_not_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: an internal error (exit 9)."""
    fake_pulumi(tmp_path, monkeypatch, "print('hello, not JSON')\n")
    result = read_a_stack()
    assert result.exit_code == ExitCode.UNAVAILABLE, result.output
    assert "did not print a JSON object" in result.stderr


@pytest.mark.parametrize("name", ["", " ", "a/b/c/d", "../x", "a b"])
def test_a_stack_name_that_is_not_one_is_a_usage_error(name: str) -> None:
    """Before: `--stack ''` was accepted."""
    result = run("status", "--stack", name)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--stack" in result.stderr


def test_stack_reads_the_stack_input_as_the_program_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stack deployed the README's way (`STACK_INPUT_YAML_FILE=… pulumi up`) has no stack
    input in its config: --stack then reads the same env variables the program reads."""
    from percona_pg_operator.deploy import automation

    monkeypatch.setattr(automation, "read_stack", lambda name, folder: (None, {}))
    stack = stack_file(tmp_path, None)
    monkeypatch.setenv("STACK_INPUT_YAML_FILE", str(stack))
    from percona_pg_operator.cli._target import _from_stack

    loaded, state = _from_stack("o/p/s")
    assert loaded.target.spec.namespace == "pgo" and state.namespace is None
    monkeypatch.delenv("STACK_INPUT_YAML_FILE")
    with pytest.raises(StackInputError, match="neither env STACK_INPUT_YAML nor"):
        _from_stack("o/p/s")


def test_file_or_stack_one_of_them(tmp_path: Path) -> None:
    stack = stack_file(tmp_path, None)
    for args in (["preflight"], ["status", str(stack), "--stack", "o/p/s"], ["repair"]):
        result = run(*args)
        assert result.exit_code == ExitCode.USAGE, args
        assert "give FILE or --stack" in result.stderr
