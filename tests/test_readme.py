"""The README, line by line: every fenced block and every inline `percona-pg-operator …` command
is either run here (offline, against the vendored charts) or checked against what it names: the
command line against the CLI's own parser, YAML against the schema that reads it, file paths
and extras against the repository. The real Pulumi CLI's flags and the stdin form of `pulumi
config set` are checked in the real-cluster tier (tests/e2e/test_local_readme.py)."""

from __future__ import annotations

import ast
import json
import re
import shlex
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from test_package import schema as component_schema

from percona_pg_operator.cli import cli
from percona_pg_operator.fleet import load_fleet
from percona_pg_operator.manifest import parse_document

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PROGRAM = "percona-pg-operator"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""
# Placeholders the README shows where a reader puts their own value, and what stands in for
# each here (a value the schema accepts).
PLACEHOLDERS = {
    "sha256:<64 hex>": "sha256:" + "0" * 64,
    "{nodeAffinity: ..., podAffinity: ..., podAntiAffinity: ...}": "{}",
    '"<kubeconfig YAML>"': json.dumps(KUBECONFIG),
    "<running>": "2.7.0",
    "<next>": "2.8.2",
}


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    text: str


def blocks() -> list[Block]:
    found, lang, start, lines = [], None, 0, []
    for number, line in enumerate(README.read_text().splitlines(), 1):
        fence = re.match(r"^\s*```(\w*)\s*$", line)
        if fence and lang is None:
            lang, start, lines = fence[1] or "text", number, []
        elif fence:
            found.append(Block(lang, start, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, f"README.md:{start}: a fence that never closes"
    return found


def of(lang: str) -> list[Block]:
    return [b for b in blocks() if b.lang == lang]


def substituted(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


def shell_commands(text: str) -> Iterator[list[str]]:
    """Each command of a shell block: continuations joined, comments and redirections dropped,
    `a && b` split."""
    for raw in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(substituted(raw), posix=True, punctuation_chars=";&|<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        skip = False
        for word in lexer:
            if skip:
                skip = False
                continue
            if word in ("<", ">"):
                skip = True
                continue
            if word in ("&&", ";", "|", "||"):
                if words:
                    yield words
                words = []
                continue
            words.append(word)
        if words:
            yield words


def our_command_lines() -> list[tuple[str, list[str]]]:
    """Every invocation of the CLI in the README, fenced or inline, as (where, arguments)."""
    found: list[tuple[str, list[str]]] = []
    for block in blocks():
        if block.lang != "sh":  # the CI recipe's YAML: test_the_ci_recipe_runs_a_diff_the_cli_takes
            continue
        for words in shell_commands(block.text):
            for i, word in enumerate(words):
                if word.endswith(PROGRAM):
                    found.append((f"README.md:{block.line}", words[i + 1 :]))
                    break
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            continue
        for span in re.findall(r"`((?:\.venv/bin/)?percona-pg-operator [^`]+)`", line):
            found.append((f"README.md:{number}", shlex.split(substituted(span))[1:]))
    return found


def parse_command_line(args: list[str]) -> click.Command:
    """Parse ``args`` as the CLI would (unknown options and missing arguments fail), without
    running the command."""
    with warnings.catch_warnings():  # Click 8.2 deprecates protected_args, still the way here
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = cli.make_context(PROGRAM, list(args))
        command: click.Command = cli
        rest = [*ctx.protected_args, *ctx.args]
        while isinstance(command, click.Group) and rest:
            name, sub, rest = command.resolve_command(ctx, rest)
            assert sub is not None, f"no command {name!r}"
            ctx = sub.make_context(name or "", rest, parent=ctx)
            command = sub
            rest = [*ctx.protected_args, *ctx.args] if isinstance(sub, click.Group) else []
    return command


# -- the CLI -------------------------------------------------------------------------------------


def test_the_readme_names_the_cli_in_many_places() -> None:
    """The extraction itself works (a renamed fence or program would leave nothing to check)."""
    lines = our_command_lines()
    assert len(lines) >= 25
    assert {args[0] for _, args in lines} >= {
        "validate",
        "render",
        "schema",
        "preflight",
        "status",
        "diff",
        "upgrade-plan",
        "fleet",
        "credentials",
        "repair",
    }


@pytest.mark.parametrize(
    ("where", "args"), our_command_lines(), ids=lambda v: v if isinstance(v, str) else None
)
def test_each_command_line_parses_as_the_cli_reads_it(where: str, args: list[str]) -> None:
    try:
        parse_command_line(args)
    except click.ClickException as exc:
        pytest.fail(f"{where}: {PROGRAM} {shlex.join(args)}: {exc.format_message()}")


def test_a_wrong_option_fails_the_parse() -> None:
    """What the test above relies on: the parser refuses what the CLI refuses."""
    with pytest.raises(click.UsageError, match="--no-such-option"):
        parse_command_line(["status", "stack.yaml", "--no-such-option"])
    with pytest.raises(click.UsageError):
        parse_command_line(["fleet", "launch", "fleet.yaml"])


@pytest.mark.usefixtures("fixture_repo_env")
@pytest.mark.parametrize(
    "args",
    [
        ["validate", "examples/*.yaml"],
        ["render", "examples/basic.yaml"],
        ["render", "examples/production.yaml", "--output-dir", "{tmp}/rendered"],
        ["schema"],
        ["upgrade-plan", "--from", "2.7.0"],
        ["upgrade-plan", "--from", "2.7.0", "--to", "2.8.2"],
        ["fleet", "schema"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_the_commands_that_run_offline_run(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as the README shows them (from the repository's root, charts from the vendored
    repository): exit 0."""
    monkeypatch.chdir(ROOT)
    # A glob expanded as the shell would, from the repository's root.
    run: list[str] = []
    for arg in args:
        if "*" in arg:
            run += sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(arg))
        else:
            run.append(arg.replace("{tmp}", str(tmp_path)))
    # As the README writes it, up to the output folder (here a temporary one).
    shown = [a for a in args if "{tmp}" not in a]
    readme = [a for _, a in our_command_lines()]
    assert any(a[: len(shown)] == shown for a in readme), f"not in the README: {shown}"
    result = CliRunner().invoke(cli, run, catch_exceptions=False)
    assert result.exit_code == 0, result.output


# -- install and test commands -------------------------------------------------------------------


def test_the_extras_it_installs_exist() -> None:
    import tomllib

    extras = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    text = " ".join(b.text for b in of("sh") + of("yaml"))
    named = set(re.findall(r"(?:\.|percona-pg-operator)\[(\w+)\]", text))
    assert named, "no extra named"
    assert named <= extras, f"extras that do not exist: {sorted(named - extras)}"


def test_the_paths_it_names_exist() -> None:
    """Every repository path a command or program of the README reads."""
    text = "\n".join(b.text for b in blocks())
    paths = set(re.findall(r"(?<![\w/.])((?:examples|schema|pulumi-plugin)/[\w./*-]*)", text))
    paths |= {"pulumi-plugin/PulumiPlugin.yaml"}
    assert len(paths) >= 5
    for path in sorted(paths):
        assert list(ROOT.glob(path.rstrip("/"))), f"{path}: not in the repository"


# -- YAML ----------------------------------------------------------------------------------------


def yaml_block(first_key: str, kind: str | None = None) -> tuple[Block, Any]:
    for block in of("yaml"):
        data = yaml.safe_load(substituted(block.text))
        first = isinstance(data, dict) and next(iter(data), None) == first_key
        if first and (kind is None or data.get("kind") == kind):
            return block, data
    raise AssertionError(f"no YAML block starting with {first_key}: (kind {kind})")


def test_every_yaml_block_parses() -> None:
    for block in of("yaml"):
        yaml.safe_load(substituted(block.text))


def test_the_stack_input_reference_is_valid_and_complete() -> None:
    """Every field the reference shows is one the schema takes, with a value it accepts."""
    block, data = yaml_block("target")
    stack_input = parse_document(data, f"README.md:{block.line}")
    spec = stack_input.target.spec
    assert spec.namespace == "percona-postgres-operator" and spec.helm.version == "3.0.0"
    assert stack_input.provider_config is not None


def test_the_fleet_example_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the kubeconfig and the stack input it points at in place."""
    block, _ = yaml_block("apiVersion", "PerconaPostgresOperatorFleet")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".kube").mkdir()
    text = KUBECONFIG
    (tmp_path / ".kube" / "dev-eu").write_text(text)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "prod-eu.yaml").write_text(
        yaml.safe_dump(
            {
                "target": {
                    "apiVersion": "kubernetes.project-planton.org/v1",
                    "kind": "KubernetesPerconaPostgresOperator",
                    "metadata": {"name": "pg-operator"},
                    "spec": {"helm": {"version": "3.0.0", "acknowledgeIrreversible": "3.0"}},
                },
                "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": text}},
            }
        )
    )
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(block.text)
    loaded = load_fleet(fleet_file)
    assert [c.name for c in loaded.clusters] == ["dev-eu", "prod-eu"]
    assert [w.name for w in loaded.waves] == ["canary", "prod"]


def test_the_yaml_program_uses_the_components_real_type_and_outputs() -> None:
    block, data = yaml_block("name")
    schema = component_schema()
    ((token, resource),) = schema["resources"].items()
    assert data["packages"] == {"percona-pg-operator": "./pulumi-plugin"}
    assert data["resources"]["operator"]["type"] == token
    assert set(data["resources"]["operator"]["properties"]) <= set(resource["inputProperties"])
    manifest = data["resources"]["operator"]["properties"]["manifest"]
    parse_document(manifest, f"README.md:{block.line}")
    for value in data["outputs"].values():
        output = re.fullmatch(r"\$\{operator\.(\w+)\}", value)
        assert output and output[1] in resource["properties"], value


def test_the_ci_recipe_runs_a_diff_the_cli_takes() -> None:
    _, data = yaml_block("diff")
    runs = [s["run"] for s in data["diff"]["steps"] if "run" in s]
    ours = [words for run in runs for words in shell_commands(run) if words[0].endswith(PROGRAM)]
    assert len(ours) == 1
    assert parse_command_line(ours[0][1:]).name == "diff"
    assert "--max-bytes" in ours[0]


def test_the_clusterrole_is_one_role() -> None:
    """The README's least-privilege role; tests/e2e/test_local_readme.py runs a preflight as a
    user holding only it."""
    roles = [yaml.safe_load(b.text) for b in of("yaml") if "kind: ClusterRole" in b.text]
    assert len(roles) == 1 and roles[0]["rules"]


# -- Python --------------------------------------------------------------------------------------


def test_the_python_program_names_what_the_package_exports() -> None:
    (block,) = of("python")
    tree = ast.parse(block.text)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("percona_pg_operator")
        ):
            module = __import__(node.module, fromlist=["_"])
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
    from percona_pg_operator.deploy import PerconaPostgresOperatorArgs

    keywords = {
        k.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "PerconaPostgresOperatorArgs"
        for k in node.keywords
    }
    fields = set(PerconaPostgresOperatorArgs.__dataclass_fields__)
    assert keywords and keywords <= fields
