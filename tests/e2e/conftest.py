"""The real-cluster tier: a local control plane (tests/localcluster) and the real Pulumi engine,
both built by toolchain/build.sh. Runs wherever the toolchain is built; skipped (with the reason)
where it is not, unless PERCONA_PG_OPERATOR_E2E_REQUIRED=1 (CI), where that fails instead.

The Percona operator's containers never run here (KWOK fakes the node, so its Deployment becomes
Available). Where a scenario needs what the operator would do, the test plays that part by
patching the object's status, and says so.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
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
def local_cluster(
    toolchain: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalCluster]:
    with LocalCluster.started(tmp_path_factory.mktemp("cluster"), toolchain) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def engine(
    toolchain: Path, local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    engine = Engine(toolchain, tmp_path_factory.mktemp("engine"), local_cluster.kubeconfig)
    try:
        yield engine
    finally:
        engine.reap()
