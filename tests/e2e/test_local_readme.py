"""The README's commands that need the real Pulumi CLI or a real API server (the rest:
tests/test_readme.py): every `pulumi …` flag it names exists in the CLI the toolchain builds,
its stdin form of `pulumi config set` stores the stack input as a secret, and a user who holds
only its least-privilege ClusterRole gets a preflight with no permission refused."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import bind_cluster_role, cli, manifest, target_file

pytestmark = pytest.mark.e2e

README = (ROOT / "README.md").read_text()


def pulumi_command_lines() -> list[list[str]]:
    """Every `pulumi …` the README shows, fenced (after any VAR=value) or inline."""
    found: list[list[str]] = []
    fenced = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    for block in fenced:
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            while words and re.match(r"^[A-Z_]+=", words[0]):
                words.pop(0)
            if words[:1] == ["pulumi"]:
                found.append(words)
    for span in re.findall(r"`(pulumi [^`]+)`", README):
        found.append(shlex.split(span.replace("…", "")))
    return found


def test_every_pulumi_flag_the_readme_names_exists(engine: Engine) -> None:
    lines = pulumi_command_lines()
    assert len(lines) >= 20
    for words in lines:
        words = [w for w in words if w not in ("<", ">") and not w.endswith(".yaml")]
        flags = [w.split("=")[0] for w in words if w.startswith("-")]
        path = [w for w in words[1:] if not w.startswith("-")]
        help_text = engine.run(*path, "--help").stdout
        assert "Usage:" in help_text, words
        for flag in flags:
            assert re.search(rf"(^|\s|,){re.escape(flag)}\b", help_text, flags=re.M), (
                f"README: {shlex.join(words)}: pulumi {' '.join(path)} has no {flag}"
            )


def test_the_stdin_form_of_config_set_stores_the_stack_input_as_a_secret(
    engine: Engine, tmp_path: Path
) -> None:
    line = "pulumi config set --secret planton-cloud:stack-input < stack-input.yaml"
    assert f"`{line}`" in README
    document = manifest("pg-readme", "pg-readme", "2.9.0")
    (engine.project / "stack-input.yaml").write_text(yaml.safe_dump(document))
    engine.init("readme")
    engine.run("stack", "select", "readme")
    subprocess.run(
        ["bash", "-c", line], cwd=engine.project, env=engine.env(), check=True, timeout=60
    )
    stored = engine.run("config", "get", "planton-cloud:stack-input").stdout
    assert yaml.safe_load(stored) == document
    settings = (engine.project / "Pulumi.readme.yaml").read_text()
    assert "secure:" in settings and "pg-readme" not in settings


def test_the_readmes_clusterrole_is_enough_for_a_preflight(
    engine: Engine, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    (role,) = [
        yaml.safe_load(block)
        for block in re.findall(r"```yaml\n(.*?)```", README, flags=re.S)
        if "kind: ClusterRole\n" in block
    ]
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    local_cluster.request("POST", f"{rbac}/clusterroles", role)
    bind_cluster_role(local_cluster, "e2e-readme", role["metadata"]["name"], "e2e-readme")
    kubeconfig = local_cluster.token_kubeconfig("e2e-readme", tmp_path / "kubeconfig")
    target = target_file(tmp_path, manifest("pg-rbac", "pg-rbac", "2.9.0", createNamespace=True))
    result = cli(engine, "preflight", str(target), "--kubeconfig", str(kubeconfig))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "forbidden" not in (result.stdout + result.stderr).lower()
