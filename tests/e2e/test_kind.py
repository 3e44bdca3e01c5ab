"""End to end on a real cluster with the Pulumi CLI: install, upgrade, guard, destroy, and the
live preflight (a Helm CLI install is refused with the adoption hint, a stuck release is
refused, `status` reads a real cluster).

Runnable by anyone with kind, kubectl, helm and the Pulumi CLI:

    kind create cluster --name percona-e2e
    KUBE_CTX=kind-percona-e2e .venv/bin/python -m pytest -m kind tests/e2e -v

It uses a local Pulumi backend in a temporary folder and the public Percona chart repository
(or PERCONA_PG_OPERATOR_CHART_REPO). Skipped, with the reason, where any of that is missing,
unless PERCONA_PG_OPERATOR_E2E_REQUIRED=1 (the GitHub Actions e2e job), where a missing tool or
cluster fails the run instead of passing it vacuously.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.support import percona_pg_cluster
from percona_pg_operator.cli.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[2]
# Read at import: the suite's autouse fixture clears these for the unit tests.
CONTEXT = os.environ.get("KUBE_CTX", "kind-percona-e2e")
MIRROR = os.environ.get("PERCONA_PG_OPERATOR_CHART_REPO")
KUBECONFIG = os.environ.get("KUBECONFIG")
PERCONA_REPO = "https://percona.github.io/percona-helm-charts/"
REQUIRED = os.environ.get("PERCONA_PG_OPERATOR_E2E_REQUIRED") == "1"

pytestmark = [pytest.mark.e2e, pytest.mark.kind]


def _missing() -> str | None:
    for tool in ("pulumi", "kubectl", "helm"):
        if shutil.which(tool) is None:
            return f"the {tool} CLI is not installed"
    probe = subprocess.run(
        ["kubectl", "--context", CONTEXT, "version", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"no reachable cluster for kube context {CONTEXT} (kind create cluster?)"
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing()
    if reason and REQUIRED:
        pytest.fail(f"e2e required but {reason}")
    if reason:
        pytest.skip(reason)
    from pulumi import automation as auto

    backend = tmp_path_factory.mktemp("pulumi-backend")
    env = {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "e2e",
        "KUBE_CTX": CONTEXT,
        # The unit suite turns the live preflight off; here it runs for real.
        "PERCONA_PG_OPERATOR_PREFLIGHT": "on",
        **({"KUBECONFIG": KUBECONFIG} if KUBECONFIG else {}),
        **({"PERCONA_PG_OPERATOR_CHART_REPO": MIRROR} if MIRROR else {}),
    }
    workspace = auto.LocalWorkspaceOptions(work_dir=str(ROOT), env_vars=env)
    stack = auto.create_or_select_stack("e2e", work_dir=str(ROOT), opts=workspace)
    yield stack
    stack.destroy(on_output=print)
    stack.workspace.remove_stack("e2e")


def deploy(stack: Any, version: str, acknowledge: str | None = None, **spec: Any) -> Any:
    manifest = {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": "pg-operator-e2e"},
        "spec": {
            "namespace": "percona-e2e",
            "createNamespace": True,
            "helm": {
                "version": version,
                **({"acknowledgeIrreversible": acknowledge} if acknowledge else {}),
            },
            **spec,
        },
    }
    from pulumi.automation import ConfigValue

    stack.set_config("planton-cloud:stack-input", ConfigValue(value=yaml.safe_dump(manifest)))
    return stack.up(on_output=print)


def cli_env() -> dict[str, str]:
    env = {**os.environ, "KUBE_CTX": CONTEXT, "PERCONA_PG_OPERATOR_PREFLIGHT": "on"}
    if KUBECONFIG:
        env["KUBECONFIG"] = KUBECONFIG
    return env


def percona_pg_operator(*args: str) -> subprocess.CompletedProcess[str]:
    """This package's command line, as a user runs it."""
    command = [str(ROOT / ".venv" / "bin" / "percona-pg-operator"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=300, env=cli_env()
    )


def manifest_file(tmp_path: Path, name: str, namespace: str, version: str) -> str:
    doc = {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": name},
        "spec": {"namespace": namespace, "helm": {"version": version}},
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["helm", "--kube-context", CONTEXT, *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
        env=cli_env(),
    )


def helm_install(name: str, namespace: str, version: str = "2.9.0") -> None:
    """`helm install` of Percona's chart by hand, as a user without this module would."""
    helm("repo", "add", "percona", PERCONA_REPO, "--force-update")
    helm(
        "install", name, "percona/pg-operator", "--version", version,
        "-n", namespace, "--create-namespace", "--wait",
    )  # fmt: skip


def kubectl(*args: str) -> Any:
    out = subprocess.run(
        ["kubectl", "--context", CONTEXT, *args, "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_install_upgrade_guard_and_destroy(stack: Any) -> None:
    from pulumi.automation import CommandError

    result = deploy(stack, "2.9.0")
    assert result.outputs["namespace"].value == "percona-e2e"
    assert result.outputs["chart_version"].value == "2.9.0"
    deployment = kubectl("-n", "percona-e2e", "get", "deployment", "pg-operator-e2e-pg-operator")
    assert deployment["status"]["readyReplicas"] == 1
    crd = kubectl("get", "crd", "perconapgclusters.pgv2.percona.com")
    assert crd["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"

    with pytest.raises(CommandError, match="acknowledgeIrreversible"):
        deploy(stack, "3.0.0")  # the irreversible step must be named
    result = deploy(stack, "3.0.0", acknowledge="3.0")
    assert result.outputs["operator_version"].value == "3.0.0"
    kubectl("get", "crd", "postgresclusters.upstream.pgv2.percona.com")
    # The old-group CRD left the stack but stayed in the cluster.
    kubectl("get", "crd", "postgresclusters.postgres-operator.crunchydata.com")

    with pytest.raises(CommandError, match="is a downgrade"):
        deploy(stack, "2.9.0")

    stack.destroy(on_output=print)
    kubectl("get", "crd", "perconapgclusters.pgv2.percona.com")  # retained on destroy
    kubectl("get", "namespace", "percona-e2e")  # the namespace (and its databases) too
    subprocess.run(
        ["kubectl", "--context", CONTEXT, "delete", "namespace", "percona-e2e", "--wait=false"],
        check=True,
        timeout=120,
    )


def test_a_helm_cli_install_is_seen_and_refused_with_the_adoption_hint(
    stack: Any, tmp_path: Path
) -> None:
    """Installed by hand with the Helm CLI: the stack did not create it, so it is refused."""
    name, namespace = "pg-operator-cli", "percona-e2e-cli"
    helm_install(name, namespace)
    try:
        checked = percona_pg_operator(
            "preflight", manifest_file(tmp_path, name, namespace, "2.9.0"), "--output", "json"
        )
        report = json.loads(checked.stdout)
        owner = next(c for c in report["checks"] if c["name"] == "owner")
        assert owner["status"] == "warn", "no stack state on the CLI: the owner is unknown"

        status = json.loads(
            percona_pg_operator(
                "status", manifest_file(tmp_path, name, namespace, "2.9.0"), "--output", "json"
            ).stdout
        )
        assert status["release"]["chart_version"] == "2.9.0"
        assert status["release"]["status"] == "deployed"
        assert status["operator"]["ready"] is True
        assert all(c["established"] for c in status["crds"])
        assert status["upgrade_path"]["steps"][-1] == status["upgrade_path"]["newest"]

        from pulumi.automation import CommandError, ConfigValue

        target = {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": name},
            "spec": {"namespace": namespace, "helm": {"version": "2.9.0"}},
        }
        stack.set_config("planton-cloud:stack-input", ConfigValue(value=yaml.safe_dump(target)))
        with pytest.raises(CommandError, match="this stack did not create it"):
            stack.preview(on_output=print)
    finally:
        helm("uninstall", name, "-n", namespace, check=False)


def test_a_stuck_release_is_refused(tmp_path: Path, stack: Any) -> None:
    """A `helm upgrade` killed half-way leaves the release pending-upgrade."""
    import signal
    import time

    name, namespace = "pg-operator-stuck", "percona-e2e-stuck"
    helm_install(name, namespace)
    try:
        upgrade = subprocess.Popen(
            [
                "helm", "--kube-context", CONTEXT, "upgrade", name, "percona/pg-operator",
                "--version", "2.9.0", "-n", namespace, "--set", "replicaCount=2",
                "--set", "image=does-not-exist.invalid/operator:0", "--wait", "--timeout", "5m",
            ],
            env=cli_env(),
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            listed = helm("list", "-n", namespace, "--pending", "-o", "json").stdout
            if name in listed:
                break
            time.sleep(1)
        upgrade.send_signal(signal.SIGKILL)
        upgrade.wait(timeout=30)
        result = percona_pg_operator(
            "preflight", manifest_file(tmp_path, name, namespace, "2.9.0"), "--output", "json"
        )
        assert result.returncode == ExitCode.REFUSED, result.stdout + result.stderr
        release = next(c for c in json.loads(result.stdout)["checks"] if c["name"] == "release")
        assert release["status"] == "fail"
        assert "pending-upgrade" in release["reason"]
        assert f"helm rollback {name} 1 -n {namespace}" in release["reason"]
    finally:
        helm("rollback", name, "1", "-n", namespace, check=False)
        helm("uninstall", name, "-n", namespace, check=False)


def test_adopt_a_helm_cli_install_then_cross_to_3_0_with_verification(
    tmp_path: Path, stack: Any
) -> None:
    """Helm CLI install of 2.9.0 with a database -> adopt -> 3.0.0 with the acknowledgement ->
    the verification sees the API group migration finish -> destroy keeps CRDs and database."""
    from pulumi.automation import ConfigValue

    name, namespace = "pg-operator-adopt", "percona-e2e-adopt"
    helm_install(name, namespace)
    database = percona_pg_cluster("e2e-db", namespace)
    path = tmp_path / "db.yaml"
    path.write_text(yaml.safe_dump(database))
    subprocess.run(
        ["kubectl", "--context", CONTEXT, "apply", "-f", str(path)], check=True, timeout=120
    )
    subprocess.run(
        [
            "kubectl", "--context", CONTEXT, "-n", namespace, "wait", "perconapgcluster/e2e-db",
            "--for=jsonpath={.status.state}=ready", "--timeout=900s",
        ],
        check=True,
        timeout=960,
    )  # fmt: skip

    def up(spec: dict[str, Any]) -> Any:
        target = {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": name},
            "spec": {"namespace": namespace, **spec},
        }
        stack.set_config("planton-cloud:stack-input", ConfigValue(value=yaml.safe_dump(target)))
        return stack.up(on_output=print)

    try:
        adopted = up({"helm": {"version": "2.9.0"}, "adopt": {"release": True}})
        assert adopted.outputs["chart_version"].value == "2.9.0"
        assert adopted.summary.resource_changes.get("delete", 0) == 0
        history = json.loads(helm("history", name, "-n", namespace, "-o", "json").stdout)
        assert len(history) == 1, "the adoption run made no Helm revision"

        upgraded = up(
            {
                "helm": {"version": "3.0.0", "acknowledgeIrreversible": "3.0"},
                "verify": {"timeoutSeconds": 1200},
            }
        )
        assert upgraded.outputs["operator_version"].value == "3.0.0"
        assert upgraded.outputs["databases_checked"].value == [f"{namespace}/e2e-db"]
        cluster = kubectl("-n", namespace, "get", "perconapgcluster", "e2e-db")
        migration = next(
            c for c in cluster["status"]["conditions"] if c["type"] == "APIGroupMigration"
        )
        assert migration["status"] == "True"

        stack.destroy(on_output=print)
        kubectl("get", "crd", "perconapgclusters.pgv2.percona.com")
        kubectl("-n", namespace, "get", "perconapgcluster", "e2e-db")  # the database stays
    finally:
        subprocess.run(
            ["kubectl", "--context", CONTEXT, "delete", "namespace", namespace, "--wait=false"],
            check=False,
            timeout=120,
        )
