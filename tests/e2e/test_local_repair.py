"""A `pulumi up` killed with SIGKILL in the middle of a Release upgrade (its whole process group,
as when a CI runner is killed): the release is left pending-upgrade, the next preview is refused
with the recovery, `repair --yes` rolls back through Helm for real, and the next `up` succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest
from localcluster import LocalCluster
from localcluster.engine import Engine

from e2e.support import cli, helm_releases, manifest, target_file, wait_for_release

pytestmark = pytest.mark.e2e

STACK = "repair"
NAME = "pg-repair"
NAMESPACE = "pg-repair"
# No node has this label: the upgraded operator's pod stays Pending, so Helm keeps waiting.
UNSCHEDULABLE = {"nodeSelector": {"percona-e2e/never": "true"}}


@pytest.fixture(scope="module")
def killed(
    engine: Engine, local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    engine.init(STACK)
    engine.set_input(STACK, manifest(NAME, NAMESPACE, "2.8.2", createNamespace=True))
    engine.up(STACK)
    engine.set_input(
        STACK,
        manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True, scheduling=UNSCHEDULABLE),
    )
    log = tmp_path_factory.mktemp("repair") / "up.log"
    with log.open("wb") as out:
        up = subprocess.Popen(
            engine.command("up", "--yes", "--skip-preview", "--stack", STACK),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=engine.env(),
            start_new_session=True,
        )
    try:
        wait_for_release(local_cluster, NAMESPACE, NAME, 2, "pending-upgrade")
    finally:
        os.killpg(up.pid, signal.SIGKILL)
        up.wait(timeout=30)
    return log


def test_the_killed_upgrade_leaves_the_release_pending(
    killed: Path, local_cluster: LocalCluster
) -> None:
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1] == {
        "revision": 2,
        "status": "pending-upgrade",
    }


def test_the_next_preview_is_refused_with_the_recovery(killed: Path, engine: Engine) -> None:
    refused = engine.preview(STACK, check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0, text
    assert "pending-upgrade" in text
    assert f"helm rollback {NAME} 1 -n {NAMESPACE}" in text
    assert "percona-pg-operator repair" in text
    assert "pulumi cancel" in text


def test_the_killed_up_left_the_stack_locked(killed: Path, engine: Engine) -> None:
    """What the engine does after a SIGKILL on a file backend: the lock stays (the refusal
    above names `pulumi cancel` for it)."""
    locked = engine.up(STACK, check=False)
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.stdout + locked.stderr


def test_repair_rolls_back_through_helm(
    killed: Path, engine: Engine, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    target = target_file(tmp_path, manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True))
    repaired = cli(engine, "repair", str(target), "--yes", "--timeout", "300")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    releases = helm_releases(local_cluster, NAMESPACE, NAME)
    assert releases[-1] == {"revision": 3, "status": "deployed"}, releases


def test_the_next_up_succeeds(killed: Path, engine: Engine, local_cluster: LocalCluster) -> None:
    engine.set_input(STACK, manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True))
    engine.run("cancel", "--yes", "--stack", STACK)
    engine.up(STACK)
    assert engine.outputs(STACK)["chart_version"] == "2.9.0"
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1]["status"] == "deployed"
    engine.run("destroy", "--yes", "--stack", STACK)
