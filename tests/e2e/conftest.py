"""The real-cluster tier: a local control plane (tests/localcluster) and the real Pulumi engine,
both built by toolchain/build.sh. Runs wherever the toolchain is built; skipped (with the reason)
where it is not, unless PERCONA_PG_OPERATOR_E2E_REQUIRED=1 (CI), where that fails instead.

The Percona operator's containers never run here (KWOK fakes the node, so its Deployment becomes
Available). Where a scenario needs what the operator would do, the test plays that part by
patching the object's status, and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from localcluster import BINARIES, LocalCluster, missing_binaries, toolchain_bin
from localcluster.engine import ENGINE_BINARIES, ROOT, Engine

REQUIRED = os.environ.get("PERCONA_PG_OPERATOR_E2E_REQUIRED") == "1"
VERSIONS = ROOT / "toolchain" / "versions.env"


def _pinned(name: str) -> str:
    for line in VERSIONS.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise KeyError(name)


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"e2e required (PERCONA_PG_OPERATOR_E2E_REQUIRED=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def toolchain() -> Path:
    bin_dir = toolchain_bin()
    missing = missing_binaries(bin_dir, BINARIES + ENGINE_BINARIES)
    if missing:
        _unavailable(f"the toolchain is not built ({', '.join(missing)}): run toolchain/build.sh")
    from importlib.metadata import version

    # The Kubernetes provider is the one the toolchain built; the SDK must ask for that version.
    wanted = _pinned("PULUMI_KUBERNETES_VERSION")
    installed = version("pulumi-kubernetes")
    if installed != wanted:
        _unavailable(
            f"pulumi-kubernetes {installed} is installed, the toolchain's provider is {wanted}: "
            f"pip install pulumi-kubernetes=={wanted}"
        )
    return bin_dir


@pytest.fixture(scope="session")
def local_cluster(toolchain: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster.started(tmp_path_factory.mktemp("cluster"), toolchain) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def engine(
    toolchain: Path, local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Engine:
    return Engine(toolchain, tmp_path_factory.mktemp("engine"), local_cluster.kubeconfig)


def manifest(name: str, namespace: str, version: str, **spec: Any) -> dict[str, Any]:
    """A stack input as project-planton sends it (the credentials: the ambient KUBECONFIG)."""
    helm = {"version": version, **spec.pop("helm", {})}
    return {
        "target": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": name, **spec.pop("metadata", {})},
            "spec": {"namespace": namespace, "helm": helm, **spec},
        }
    }


def target_file(tmp: Path, document: dict[str, Any]) -> Path:
    path = tmp / f"{document['target']['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(document["target"]))
    return path


def cli(engine: Engine, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """This package's command line, as a user runs it, against the local cluster."""
    command = [str(Path(sys.prefix) / "bin" / "percona-pg-operator"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=engine.env(), check=False
    )


def get(cluster: LocalCluster, path: str) -> Any:
    return cluster.request("GET", path)


def exists(cluster: LocalCluster, path: str) -> bool:
    import urllib.error

    try:
        cluster.request("GET", path)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def helm_releases(cluster: LocalCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    """Helm's release records (its Secrets), oldest first, with their status label."""
    selector = f"owner=helm,name={name}"
    listed = get(cluster, f"/api/v1/namespaces/{namespace}/secrets?labelSelector={selector}")
    records = [
        {
            "revision": int(item["metadata"]["labels"]["version"]),
            "status": item["metadata"]["labels"]["status"],
        }
        for item in listed["items"]
    ]
    return sorted(records, key=lambda r: r["revision"])


def wait_for(
    what: str, condition: Callable[[], bool], timeout: float = 120, poll: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def state_fingerprint(engine: Engine, stack: str) -> dict[str, Any]:
    """Each resource in the stack's state by URN, with its inputs and outputs."""
    return {
        r["urn"]: json.dumps([r.get("inputs"), r.get("outputs")], sort_keys=True)
        for r in engine.resources(stack)
    }
