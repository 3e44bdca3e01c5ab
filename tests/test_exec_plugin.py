"""Kubeconfig exec credential plugins, run by the live reads as client-go runs them.

Each plugin here is a real program (a small Python script) that the client starts; the API
server stand-in accepts only its bearer token. The GKE and EKS kubeconfigs this package writes
use client.authentication.k8s.io/v1, which lightkube alone does not run.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kube_api import KubeApi, serve

from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.cluster import ClusterClient
from percona_pg_operator.cluster._exec import ExecPlugin, ExecTokens
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials
from percona_pg_operator.errors import ClusterUnreachableError

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def plugin_script(tmp_path: Path, body: str) -> Path:
    """A plugin: ``body`` runs with ``info`` (KUBERNETES_EXEC_INFO), ``runs`` (how many times it
    ran before) and ``log`` (a file it may append to); it prints what it returns."""
    script = tmp_path / "plugin.py"
    script.write_text(
        "import json, os, sys\n"
        f"log = {str(tmp_path / 'runs.log')!r}\n"
        "runs = sum(1 for _ in open(log)) if os.path.exists(log) else 0\n"
        "info = json.loads(os.environ.get('KUBERNETES_EXEC_INFO', 'null'))\n"
        "open(log, 'a').write(json.dumps(info) + '\\n')\n" + body
    )
    return script


def credential(token: str, version: str = V1, expiry: str | None = None) -> str:
    status: dict[str, Any] = {"token": token}
    if expiry:
        status["expirationTimestamp"] = expiry
    doc = {"apiVersion": version, "kind": "ExecCredential", "status": status}
    return f"print({json.dumps(json.dumps(doc))})\n"


def kubeconfig(api: KubeApi, exec_entry: dict[str, Any]) -> ClusterCredentials:
    doc = yaml.safe_load(api.kubeconfig())
    doc["users"][0]["user"] = {"exec": exec_entry}
    return ClusterCredentials(kubeconfig=yaml.safe_dump(doc))


def exec_entry(script: Path, version: str = V1, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": version,
        "command": sys.executable,
        "args": [str(script)],
        "interactiveMode": "Never",
        **extra,
    }


def runs(tmp_path: Path) -> list[Any]:
    log = tmp_path / "runs.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("version", [V1, V1BETA1])
def test_the_plugins_token_reads_the_cluster_and_is_kept(
    api: KubeApi, tmp_path: Path, version: str
) -> None:
    script = plugin_script(tmp_path, credential(api.token, version))
    with ClusterClient.connect(kubeconfig(api, exec_entry(script, version))) as client:
        assert client.server_version() == api.version
        assert client.namespace_labels("pgo") is None
    seen = runs(tmp_path)
    assert len(seen) == 1
    assert seen[0] == {
        "apiVersion": version,
        "kind": "ExecCredential",
        "spec": {"interactive": False},
    }


def test_provide_cluster_info_passes_the_server(api: KubeApi, tmp_path: Path) -> None:
    script = plugin_script(tmp_path, credential(api.token))
    entry = exec_entry(script, provideClusterInfo=True)
    with ClusterClient.connect(kubeconfig(api, entry)) as client:
        client.server_version()
    assert runs(tmp_path)[0]["spec"]["cluster"]["server"] == api.url


def test_the_plugins_env_is_added(api: KubeApi, tmp_path: Path) -> None:
    script = plugin_script(tmp_path, "print(os.environ['MINTED'])\n")
    doc = json.loads(credential(api.token)[len("print(") : -2])
    entry = exec_entry(script, env=[{"name": "MINTED", "value": doc}])
    with ClusterClient.connect(kubeconfig(api, entry)) as client:
        assert client.server_version() == api.version


def test_a_rejected_token_is_fetched_again_and_the_request_sent_once_more(
    api: KubeApi, tmp_path: Path
) -> None:
    # The first token is stale (the API server answers 401); the second is good.
    body = (
        f"token = 'stale' if runs == 0 else {api.token!r}\n"
        f"print(json.dumps({{'apiVersion': {V1!r}, 'kind': 'ExecCredential', "
        "'status': {'token': token}}))\n"
    )
    script = plugin_script(tmp_path, body)
    with ClusterClient.connect(kubeconfig(api, exec_entry(script))) as client:
        assert client.server_version() == api.version
        assert client.server_version() == api.version
    assert len(runs(tmp_path)) == 2


def test_an_expired_token_is_fetched_again(api: KubeApi, tmp_path: Path) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    script = plugin_script(tmp_path, credential(api.token, expiry=past))
    with ClusterClient.connect(kubeconfig(api, exec_entry(script))) as client:
        client.server_version()
        client.server_version()
    assert len(runs(tmp_path)) == 2


def test_tokens_expire_on_the_clock() -> None:
    now = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]
    minted: list[int] = []

    def run(_: ExecPlugin) -> tuple[str, dt.datetime | None]:
        minted.append(1)
        return f"t{len(minted)}", now[0] + dt.timedelta(minutes=15)

    tokens = ExecTokens(ExecPlugin(V1, "x"), run=run, clock=lambda: now[0])
    assert tokens.token() == "t1"
    now[0] += dt.timedelta(minutes=14)
    assert tokens.token() == "t1"
    now[0] += dt.timedelta(seconds=55)  # within the margin before expiry
    assert tokens.token() == "t2"


def test_a_missing_plugin_names_it_and_its_install_hint(api: KubeApi) -> None:
    entry = {
        "apiVersion": V1BETA1,
        "command": "kubelogin-not-installed",
        "args": ["get-token"],
        "installHint": "install kubelogin: https://azure.github.io/kubelogin/install.html",
    }
    with (
        ClusterClient.connect(kubeconfig(api, entry)) as client,
        pytest.raises(ClusterUnreachableError) as failed,
    ):
        client.server_version()
    assert str(failed.value) == (
        "the kubeconfig's credential command 'kubelogin-not-installed' is not installed or not "
        "on PATH; install kubelogin: https://azure.github.io/kubelogin/install.html"
    )
    assert not failed.value.retryable


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "sys.stderr.write('no credentials here\\n'); sys.exit(3)\n",
            "exited with 3: no credentials here",
        ),
        ("print('{')\n", "did not print an ExecCredential (not JSON)"),
        (
            credential("t", V1BETA1),
            "is configured for client.authentication.k8s.io/v1 but answered",
        ),
        (
            "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential'}))\n",
            "answered without a status",
        ),
        (
            "print(json.dumps({'apiVersion': info['apiVersion'], 'kind': 'ExecCredential', "
            "'status': {}}))\n",
            "answered without a token",
        ),
        ("sys.stdout.write('x' * (2 << 20))\n", "wrote more than"),
    ],
)
def test_a_plugin_that_fails_is_a_clean_error(
    api: KubeApi, tmp_path: Path, body: str, message: str
) -> None:
    script = plugin_script(tmp_path, body)
    with (
        ClusterClient.connect(kubeconfig(api, exec_entry(script))) as client,
        pytest.raises(ClusterUnreachableError, match="exec credential plugin") as failed,
    ):
        client.server_version()
    assert message in str(failed.value)


def test_a_plugin_that_hangs_is_killed(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("percona_pg_operator.cluster._exec.PLUGIN_TIMEOUT_SECONDS", 0.5)
    script = plugin_script(tmp_path, "import time; time.sleep(30)\n")
    with (
        ClusterClient.connect(kubeconfig(api, exec_entry(script))) as client,
        pytest.raises(ClusterUnreachableError, match=r"gave no answer within 0\.5 s") as failed,
    ):
        client.server_version()
    assert failed.value.retryable


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_hung_plugins_children_go_with_it(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the plugin was killed at its timeout, and a child it started lived on."""
    monkeypatch.setattr("percona_pg_operator.cluster._exec.PLUGIN_TIMEOUT_SECONDS", 0.5)
    pids = tmp_path / "child.pid"
    script = plugin_script(
        tmp_path,
        "import subprocess, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )
    with (
        ClusterClient.connect(kubeconfig(api, exec_entry(script))) as client,
        pytest.raises(ClusterUnreachableError, match="gave no answer"),
    ):
        client.server_version()
    child = int(pids.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the plugin's child outlived its timeout"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"apiVersion": "client.authentication.k8s.io/v1alpha1"},
            "supported: client.authentication.k8s.io/v1, ",
        ),
        (
            {"interactiveMode": None},
            "has no interactiveMode, which client.authentication.k8s.io/v1 requires",
        ),
        ({"interactiveMode": "Always"}, "without a terminal"),
        ({"interactiveMode": "Sometimes"}, "one of Never, IfAvailable, Always"),
        ({"command": ""}, "command) is missing"),
        ({"args": "--all"}, "args) is not a list of strings"),
        ({"env": [{"name": "A"}]}, "env) needs entries with a name and a value"),
    ],
)
def test_a_bad_exec_block_is_named(
    api: KubeApi, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    entry = {**exec_entry(tmp_path / "never-run.py"), **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    with pytest.raises(ClusterUnreachableError) as failed:
        ClusterClient.connect(kubeconfig(api, entry))
    assert message in str(failed.value)


def test_v1beta1_needs_no_interactive_mode(tmp_path: Path) -> None:
    plugin = ExecPlugin.from_kubeconfig({"apiVersion": V1BETA1, "command": "x"})
    assert plugin.command == "x"


def test_a_relative_command_is_relative_to_the_kubeconfig_file(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    script = plugin_script(tmp_path, credential(api.token))
    launcher = tmp_path / "bin" / "plugin"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} {script}\n")
    launcher.chmod(0o755)
    doc = yaml.safe_load(api.kubeconfig())
    doc["users"][0]["user"] = {
        "exec": {"apiVersion": V1, "command": "./bin/plugin", "interactiveMode": "Never"}
    }
    (tmp_path / "config").write_text(yaml.safe_dump(doc))
    monkeypatch.chdir("/")
    environ = {"KUBECONFIG": str(tmp_path / "config")}
    with ClusterClient.connect(ClusterCredentials(), environ) as client:
        assert client.server_version() == api.version


def test_aks_without_kubelogin_says_how_to_install_it(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner
    from conftest import manifest

    from percona_pg_operator.cli import cli

    ca = yaml.safe_load(api.kubeconfig())["clusters"][0]["cluster"]["certificate-authority-data"]
    document = {
        "target": manifest(namespace="pgo"),
        "providerConfig": {
            "provider": "azure_aks",
            "azureAks": {"clusterEndpoint": api.url, "clusterCaData": ca},
        },
    }
    path = tmp_path / "aks.yaml"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("PATH", str(tmp_path))  # no kubelogin here
    result = CliRunner().invoke(cli, ["preflight", str(path)])
    assert result.exit_code == ExitCode.UNREADABLE, result.output
    assert (
        "the kubeconfig's credential command 'kubelogin' is not installed or not on PATH; "
        "install kubelogin: https://azure.github.io/kubelogin/install.html"
    ) in result.output
    assert "internal error" not in result.output
