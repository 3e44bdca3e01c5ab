"""One exit-code table for the whole command line (exitcodes.py): in the README, in each
command's --help, and what each kind of ending exits with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, ROOT, manifest

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import COMMANDS, ExitCode, code_for, markdown_table
from percona_pg_operator.errors import (
    ChartRepositoryError,
    ClusterPermissionError,
    ClusterUnreachableError,
    CredentialError,
    PreflightRefusedError,
    StackInputError,
    UpgradeGuardError,
    VerificationError,
)


def commands(
    group: click.Group = cli, prefix: str = "", parent: click.Context | None = None
) -> dict[str, click.Command]:
    """Every command, as click finds them (loading the modules that define them)."""
    found: dict[str, click.Command] = {}
    ctx = click.Context(group, info_name=prefix.split()[-1] if prefix else "cli", parent=parent)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found |= commands(command, f"{prefix}{name} ", ctx)
        elif not command.hidden:
            found[f"{prefix}{name}"] = command
    return found


def test_every_command_has_its_exit_codes_in_the_table() -> None:
    assert set(commands()) == set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_commands_help_lists_its_exit_codes(path: str) -> None:
    result = CliRunner().invoke(cli, [*path.split(), "--help"])
    assert result.exit_code == 0
    assert "Exit codes:" in result.output
    for code in (*COMMANDS[path], ExitCode.USAGE, ExitCode.INTERNAL, ExitCode.INTERRUPTED):
        assert f"  {int(code):>3}  " in result.output, (path, code)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_commands_help_fits_80_columns(path: str) -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(cli, [*path.split(), "--help"])
    too_long = [line for line in result.output.splitlines() if len(line) > 80]
    assert too_long == [], path


def test_the_readme_has_the_table() -> None:
    assert markdown_table() in (ROOT / "README.md").read_text()


def test_no_code_means_two_things() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    assert (ExitCode.OK, ExitCode.CHANGES, ExitCode.USAGE) == (0, 1, 2), "what scripts know"
    assert ExitCode.INTERRUPTED == 130


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StackInputError("x"), ExitCode.INVALID_INPUT),
        (UpgradeGuardError("x"), ExitCode.REFUSED),
        (PreflightRefusedError("x"), ExitCode.REFUSED),
        (ClusterUnreachableError("x"), ExitCode.UNREADABLE),
        (ClusterPermissionError("x", status=403), ExitCode.UNREADABLE),
        (CredentialError("x"), ExitCode.UNREADABLE),
        (ChartRepositoryError("x"), ExitCode.UNAVAILABLE),
        (VerificationError("x"), ExitCode.FAILED),
    ],
)
def test_each_error_kind_has_one_code(error: Exception, code: ExitCode) -> None:
    assert code_for(error) == code


def _boom(*_: Any, **__: Any) -> Any:
    raise ZeroDivisionError("oops")


def test_an_internal_error_in_diff_is_not_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The README's CI job accepts diff's 1 ("changes"): a bug must never look like that."""
    monkeypatch.setattr("percona_pg_operator.review.diff.diff_objects", _boom)
    base = str(EXAMPLES / "basic.yaml")
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(ROOT / "tests/fixtures/helm-repo"))
    result = CliRunner().invoke(cli, ["diff", base, "--against", base])
    assert result.exit_code == ExitCode.INTERNAL, result.output
    assert "internal error (ZeroDivisionError: oops)" in result.output


def test_debug_works_after_the_command_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message says "run the same command with --debug": both places work."""
    monkeypatch.setattr("percona_pg_operator.manifest.json_schema", _boom)
    for args in (["schema", "--debug"], ["--debug", "schema"]):
        result = CliRunner().invoke(cli, args)
        # The traceback, and still the table's code: an internal error is never 1.
        assert result.exit_code == ExitCode.INTERNAL, (args, result.output)
        assert "Traceback" in result.stderr and "ZeroDivisionError: oops" in result.stderr
    quiet = CliRunner().invoke(cli, ["schema"])
    assert quiet.exit_code == ExitCode.INTERNAL and "run the same command with --debug" in (
        quiet.output
    )


def test_ctrl_c_is_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("percona_pg_operator.manifest.json_schema", interrupted)
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == ExitCode.INTERRUPTED
    assert "interrupted" in result.output


def test_a_mistyped_option_is_usage() -> None:
    result = CliRunner().invoke(cli, ["preflight", "x.yaml", "--outptu", "json"])
    assert result.exit_code == ExitCode.USAGE


def _unreachable(tmp_path: Path) -> str:
    import socket

    from conftest import kubeconfig_text, manifest

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    document = {
        "target": manifest(namespace="pgo"),
        "providerConfig": {
            "provider": "kubeconfig",
            "kubeconfig": {"content": kubeconfig_text(f"https://127.0.0.1:{port}")},
        },
    }
    path = tmp_path / "in.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


@pytest.mark.parametrize("command", ["preflight", "status"])
def test_json_is_printed_on_an_error_too(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(ROOT / "tests/fixtures/helm-repo"))
    result = CliRunner().invoke(cli, [command, _unreachable(tmp_path), "--output", "json"])
    assert result.exit_code == ExitCode.UNREADABLE, result.output
    error = json.loads(result.stdout)["error"]
    assert error["code"] == ExitCode.UNREADABLE and error["name"] == "UNREADABLE"
    assert "no answer from the API server" in error["message"]
    assert error["retryable"] is True
    assert "Error: no answer" in result.stderr


# Every raise of the package's errors, by module: the class is the error's meaning, and so its
# exit code (exitcodes.ERRORS). A raise added, moved to another class or dropped fails the walk
# below until it is reviewed here against the table's meanings; each line says why.
RAISES: dict[str, set[str]] = {
    # a package or index that cannot be had or verified; a values file that is not valid
    "chart/_crds.py": {"ChartRepositoryError"},
    "chart/_engine.py": {"RenderError"},  # the Helm engine is not installed
    "chart/_package.py": {"ChartRepositoryError"},
    "chart/_raw_values.py": {"ChartRepositoryError", "StackInputError"},
    "chart/_repository.py": {"ChartRepositoryError"},
    "chart/_source.py": {"ChartRepositoryError"},  # the package cannot be staged
    "checks/preflight.py": {"UsageError"},  # PERCONA_PG_OPERATOR_PREFLIGHT's value
    "checks/verification.py": {"VerificationError"},
    "cli/_credentials.py": {"CredentialError"},
    "cli/_fleet.py": {"OutputFileError"},  # --report / --state cannot be written
    "cli/_manifest.py": {"ChartRepositoryError", "StackInputError"},  # validate's chart checks
    "cli/_target.py": {"StackInputError"},  # --stack: no stack input in its config or env
    "cluster/_connection.py": {"ClusterUnreachableError"},
    "cluster/_exec.py": {"ClusterUnreachableError"},
    "cluster/_helm.py": {"ClusterError"},
    "cluster/_kubeconfig.py": {"CredentialError"},
    "cluster/_live.py": {"ClusterUnreachableError", "ClusterError", "ClusterPermissionError"},
    "cluster/crds.py": {"ClusterError"},
    "cluster/repair.py": {"RepairError"},
    # --stack names no stack (input); the CLI cannot run or read it (a tool); an update failed
    "deploy/automation.py": {"StackInputError", "FleetError", "ToolUnavailableError"},
    "deploy/program.py": {"ToolUnavailableError"},  # the backend cannot be read
    "fleet/_load.py": {"StackInputError"},
    # a state file or --wave that is not valid; a state file that cannot be written
    "fleet/_rollout.py": {"StackInputError", "OutputFileError"},
    "fleet/_runner.py": {"FleetError", "ToolUnavailableError"},
    "manifest/_loader.py": {"StackInputError"},
    # a version the repository does not offer (unavailable); a downgrade (refused)
    "review/plan.py": {"ChartRepositoryError", "UpgradeGuardError"},
    # Helm cannot render the chart; --output-dir cannot be written, or is not only a render's
    "review/render.py": {"RenderError", "OutputFileError"},
    "tokens.py": {"CredentialError"},
    "versions.py": {"UpgradeGuardError"},
}


def _raised() -> dict[str, set[str]]:
    import ast
    import inspect

    from percona_pg_operator import errors

    names = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.PerconaPgOperatorError)
    }
    root = ROOT / "src" / "percona_pg_operator"
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Raise)
                and isinstance(node.exc, ast.Call)
                and isinstance(node.exc.func, ast.Name)
                and node.exc.func.id in names
            ):
                found.setdefault(path.relative_to(root).as_posix(), set()).add(node.exc.func.id)
    return found


def test_every_raise_of_the_packages_errors_is_reviewed_against_the_table() -> None:
    from percona_pg_operator import errors
    from percona_pg_operator.cli.exitcodes import ERRORS

    raised = _raised()
    assert raised == RAISES
    for classes in raised.values():
        for name in classes:
            kind = getattr(errors, name)
            assert kind is not errors.PerconaPgOperatorError, "the base class says nothing"
            assert any(issubclass(kind, known) for known, _ in ERRORS), f"{name}: no code"


def test_a_refused_downgrade_in_upgrade_plan_is_refused() -> None:
    """Before: exit 6, "not available"."""
    result = CliRunner().invoke(cli, ["upgrade-plan", "--from", "3.0.0", "--to", "2.9.0"])
    assert result.exit_code == ExitCode.REFUSED, result.output
    assert "downgrade" in result.output


def test_a_bad_preflight_switch_is_a_usage_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before: PreflightRefusedError, exit 4 "a check refused"."""
    from percona_pg_operator.checks.preflight import preflight_enabled
    from percona_pg_operator.errors import UsageError

    with pytest.raises(UsageError, match="PERCONA_PG_OPERATOR_PREFLIGHT must be on or off"):
        preflight_enabled({"PERCONA_PG_OPERATOR_PREFLIGHT": "maybe"})
    assert code_for(UsageError("x")) == ExitCode.USAGE


@pytest.mark.parametrize(
    "args",
    [
        ["status", "stack.yaml", "--kubeconfig", "/nonexistent/kubeconfig"],  # the command's own
        ["status", "stack.yaml", "--chart-repo", "ftp://charts.example.com/"],  # a value's type
        ["status", "stack.yaml", "--no-such-option"],  # the parse
        ["fleet", "preflight", "--bogus", "fleet.yaml"],
        ["fleet", "plan", "--bogus", "fleet.yaml"],  # the deprecated alias, too
    ],
)
@pytest.mark.parametrize("spelling", [["-o", "json"], ["--output=json"], ["--output", "json"]])
def test_a_usage_error_with_json_asked_for_is_a_json_document_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], spelling: list[str]
) -> None:
    """Before: nothing on stdout for a usage error (exit 2), though the README promises the
    error document there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stack.yaml").write_text(yaml.safe_dump({"target": manifest()}))
    result = CliRunner().invoke(cli, [*args, *spelling])
    assert result.exit_code == ExitCode.USAGE, result.output
    document = json.loads(result.stdout)
    assert document["schema_version"] == 1
    assert document["error"]["code"] == 2 and document["error"]["name"] == "USAGE"
    assert "Traceback" not in result.output


def test_the_deprecated_alias_has_the_commands_error_handling(tmp_path: Path) -> None:
    """Before: every error of `fleet plan` was a traceback with exit 1."""
    missing = str(tmp_path / "nope.yaml")
    for command in (["fleet", "plan"], ["fleet", "preflight"]):
        result = CliRunner().invoke(cli, [*command, missing, "-o", "json"])
        assert result.exit_code == ExitCode.INVALID_INPUT, result.output
        assert json.loads(result.stdout)["error"]["name"] == "INVALID_INPUT"
        assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://admin:PASS@charts.example.com/", "must not carry a user or password"),
        ("ftp://charts.example.com/", "http(s):// or file:// URL"),
        ("https://charts.example.com/" + "a" * 3000, "http(s):// or file:// URL"),
        ("", "http(s):// or file:// URL"),
    ],
)
@pytest.mark.parametrize("command", ["render", "status", "upgrade-plan"])
def test_one_rule_for_repository_urls_on_every_flag(url: str, fragment: str, command: str) -> None:
    """Before: `render --chart-repo` skipped the check (a password printed whole, ftp:// and
    3 kB URLs tried, '' ignored)."""
    args = [command, str(EXAMPLES / "basic.yaml"), "--chart-repo", url]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert fragment in result.output
    assert "PASS" not in result.output


def test_each_commands_help_lists_exactly_the_codes_it_exits_with(
    request: pytest.FixtureRequest,
) -> None:
    """Derived, not declared: the exit codes the whole suite saw each command end with (every
    CliRunner run, recorded by conftest.py; this test runs last) are exactly those its --help
    lists, besides the ones every command may end with (usage, internal, interrupted). A code
    the help lists and no test reaches, or one a test reaches that the help does not list,
    fails here. Before: `status` could end with 4, which its help did not list."""
    from conftest import OBSERVED_EXIT_CODES, WHOLE_SUITE

    from percona_pg_operator.cli.exitcodes import COMMON

    if not request.config.stash.get(WHOLE_SUITE, False):
        pytest.skip("the derivation needs the whole suite (run without -k or a file)")
    common = {int(c) for c in COMMON}
    wrong = {}
    for path, codes in COMMANDS.items():
        listed = {int(c) for c in codes}
        seen = OBSERVED_EXIT_CODES.get(path, set()) - common
        if seen != listed:
            wrong[path] = {
                "listed, never seen": sorted(listed - seen),
                "seen, not listed": sorted(seen - listed),
            }
    assert not wrong, "\n" + "\n".join(f"{path}: {why}" for path, why in sorted(wrong.items()))


# -- each code a command's help lists is reached (the derivation above sees these runs) ----------


def _bad_manifest(tmp_path: Path) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"target": manifest(namespace="Not A Namespace!")}))
    return str(path)


def _fleet(tmp_path: Path, stack_input: str | None = None) -> str:
    """A fleet of one cluster, whose stack input is ``stack_input``'s (unreachable: the one of
    _unreachable)."""
    cluster: dict[str, Any] = {"name": "a", "stack": "dev-a"}
    if stack_input is not None:
        cluster["stackInputFile"] = stack_input
    path = tmp_path / "fleet.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "fleet.percona-pg-operator.io/v1",
                "kind": "PerconaPostgresOperatorFleet",
                "manifest": manifest(),
                "clusters": [cluster],
            }
        )
    )
    return str(path)


def _bad_fleet(tmp_path: Path) -> str:
    path = tmp_path / "bad-fleet.yaml"
    path.write_text("apiVersion: fleet.percona-pg-operator.io/v1\nkind: Nope\n")
    return str(path)


NO_REPO = "/nonexistent/chart-repository"


@pytest.mark.parametrize(
    ("words", "code"),
    [
        (["render", "{bad}"], ExitCode.INVALID_INPUT),
        (["diff", "{bad}", "--against", "{bad}"], ExitCode.INVALID_INPUT),
        (["diff", "{unreachable}", "--live"], ExitCode.UNREADABLE),
        (["diff", "{unreachable}", "--live", "--chart-repo", NO_REPO], ExitCode.UNAVAILABLE),
        (["upgrade-plan", "{bad}"], ExitCode.INVALID_INPUT),
        (["upgrade-plan", "{unreachable}"], ExitCode.UNREADABLE),
        (["repair", "{bad}", "--yes"], ExitCode.INVALID_INPUT),
        (["repair", "{unreachable}", "--yes"], ExitCode.UNREADABLE),
        (["repair", "--stack", "o/p/s", "--yes"], ExitCode.UNAVAILABLE),  # no Pulumi CLI
        (["fleet", "preflight", "{fleet}"], ExitCode.UNAVAILABLE),  # no Pulumi CLI
        (["fleet", "up", "{bad_fleet}", "--yes"], ExitCode.INVALID_INPUT),
        (["fleet", "preview", "{bad_fleet}"], ExitCode.INVALID_INPUT),
        (["fleet", "status", "{bad_fleet}"], ExitCode.INVALID_INPUT),
        (["fleet", "status", "{fleet_unreachable}"], ExitCode.UNREADABLE),
    ],
)
def test_each_failure_ends_with_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, words: list[str], code: ExitCode
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no Pulumi CLI here
    monkeypatch.chdir(tmp_path)
    unreachable = _unreachable(tmp_path)
    places = {
        "bad": _bad_manifest(tmp_path),
        "unreachable": unreachable,
        "fleet": _fleet(tmp_path),
        "fleet_unreachable": _fleet(tmp_path, unreachable),
        "bad_fleet": _bad_fleet(tmp_path),
    }
    result = CliRunner().invoke(cli, [w.format(**places) for w in words])
    assert result.exit_code == code, result.output


def test_fleet_preflight_of_an_unreadable_cluster_is_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_fleet import ScriptedRunner

    monkeypatch.setattr("percona_pg_operator.cli._fleet._runner", lambda *_: ScriptedRunner())
    path = _fleet(tmp_path, _unreachable(tmp_path))
    result = CliRunner().invoke(cli, ["fleet", "preflight", path])
    assert result.exit_code == ExitCode.UNREADABLE, result.output


@pytest.mark.parametrize(("fails", "code"), [(False, ExitCode.OK), (True, ExitCode.FAILED)])
def test_fleet_preview_ends_with_failed_when_a_cluster_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails: bool, code: ExitCode
) -> None:
    from test_fleet import ScriptedRunner

    runner = ScriptedRunner({"a": {"fail": fails}})
    monkeypatch.setattr("percona_pg_operator.cli._fleet._runner", lambda *_: runner)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["fleet", "preview", _fleet(tmp_path)])
    assert result.exit_code == code, result.output


def test_fleet_status_of_a_healthy_fleet_is_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import FIXTURE_REPO
    from kube_api import install, namespace, serve

    monkeypatch.chdir(tmp_path)
    with serve() as api:
        api.add(namespace("pgo"))
        install(api, FIXTURE_REPO / "pg-operator-3.0.0.tgz", release="pg-op", namespace="pgo")
        stack = tmp_path / "stack.yaml"
        stack.write_text(
            yaml.safe_dump(
                {
                    "target": manifest(namespace="pgo"),
                    "providerConfig": {
                        "provider": "kubeconfig",
                        "kubeconfig": {"content": api.kubeconfig()},
                    },
                }
            )
        )
        result = CliRunner().invoke(cli, ["fleet", "status", _fleet(tmp_path, str(stack))])
    assert result.exit_code == ExitCode.OK, result.output
