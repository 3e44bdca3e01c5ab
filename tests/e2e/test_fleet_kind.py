"""A fleet rollout for real: two stacks on one kind cluster in two namespaces (plus a third that
must never start), the second wave fails, and the rollout stops.

    kind create cluster --name percona-e2e
    KUBE_CTX=kind-percona-e2e .venv/bin/python -m pytest -m kind tests/e2e -v

Skipped, with the reason, without kind, kubectl or the Pulumi CLI (unless
PERCONA_PG_OPERATOR_E2E_REQUIRED=1, as in the GitHub Actions e2e job).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from percona_pg_operator.cli.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = os.environ.get("KUBE_CTX", "kind-percona-e2e")
KUBECONFIG = os.environ.get("KUBECONFIG")
REQUIRED = os.environ.get("PERCONA_PG_OPERATOR_E2E_REQUIRED") == "1"

pytestmark = [pytest.mark.e2e, pytest.mark.kind]


def _missing() -> str | None:
    for tool in ("pulumi", "kubectl"):
        if shutil.which(tool) is None:
            return f"the {tool} CLI is not installed"
    probe = subprocess.run(
        ["kubectl", "--context", CONTEXT, "version", "-o", "json"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    return None if probe.returncode == 0 else f"no reachable cluster for kube context {CONTEXT}"


def test_a_failing_second_wave_stops_the_rollout(tmp_path: Path) -> None:
    reason = _missing()
    if reason and REQUIRED:
        pytest.fail(f"e2e required but {reason}")
    if reason:
        pytest.skip(reason)
    manifest = {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": "pg-fleet"},
        "spec": {"createNamespace": True, "helm": {"version": "3.0.0"}},
    }

    def cluster(name: str, **spec: object) -> dict[str, object]:
        return {
            "name": name,
            "stack": f"fleet-{name}",
            "overrides": {"spec": {"namespace": f"fleet-{name}", **spec}},
        }

    fleet = {
        "apiVersion": "fleet.percona-pg-operator.io/v1",
        "kind": "PerconaPostgresOperatorFleet",
        "manifest": manifest,
        "clusters": [
            cluster("a"),
            # An image that cannot be pulled: the atomic release rolls back and fails.
            cluster(
                "b",
                image={"repository": "registry.invalid/percona/operator", "tag": "0"},
                helm={"version": "3.0.0", "timeoutSeconds": 90},
            ),
            cluster("c"),
        ],
        "rollout": {
            "waves": [
                {"name": "first", "select": {"names": ["a"]}},
                {"name": "second", "select": {"names": ["b"]}},
                {"name": "third", "select": {"names": ["c"]}},
            ]
        },
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    backend = tmp_path / "backend"
    backend.mkdir()
    env = {
        **os.environ,
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "e2e",
        "KUBE_CTX": CONTEXT,
        "PERCONA_PG_OPERATOR_PREFLIGHT": "on",
        **({"KUBECONFIG": KUBECONFIG} if KUBECONFIG else {}),
    }
    command = [str(ROOT / ".venv" / "bin" / "percona-pg-operator"), "fleet", "up", str(path)]
    report_file = tmp_path / "report.json"
    try:
        done = subprocess.run(
            [*command, "--yes", "--report", str(report_file)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
        assert done.returncode == ExitCode.FAILED, done.stdout + done.stderr
        report = json.loads(report_file.read_text())
        results = {c["cluster"]: c["result"] for c in report["clusters"]}
        assert results == {"a": "succeeded", "b": "failed", "c": "not-started"}
        assert report["stopped"].startswith("wave second")
        assert (tmp_path / ".fleet" / "logs" / "b.log").is_file()
    finally:
        from pulumi import automation as auto

        for name in ("a", "b"):
            folder = tmp_path / ".fleet" / "workspaces" / name
            if folder.is_dir():
                stack = auto.select_stack(
                    f"fleet-{name}",
                    work_dir=str(folder),
                    opts=auto.LocalWorkspaceOptions(work_dir=str(folder), env_vars=env),
                )
                stack.destroy(on_output=print)
