"""A fresh clone deployed the way the README says, with no `.venv`: Pulumi builds the program's
virtualenv itself from requirements.txt (`toolchain: pip`, from the package index), and the
preview of a change still shows what changes inside the release, because the Helm engine (the
render extra) is among what requirements.txt installs. Before, the line silently turned into a
debug message there."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import ROOT, STACK_INPUT_KEY, Engine

from e2e.support import helm_releases, manifest, pulumi_in

pytestmark = pytest.mark.e2e

STACK = "fresh"
NAME = NAMESPACE = "pg-fresh"


def test_pulumi_builds_the_virtualenv_and_the_preview_shows_the_release_diff(
    engine: Engine, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    assert not (clone / ".venv").exists()
    # The SDKs the toolchain's engine and provider were built for; the rest as pip resolves it.
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(
        f"pulumi=={version('pulumi')}\npulumi-kubernetes=={version('pulumi-kubernetes')}\n"
    )
    env = {"PIP_CONSTRAINT": str(constraints), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}

    def stack_input(**spec: Any) -> str:
        return yaml.safe_dump(manifest(NAME, NAMESPACE, "2.9.0", createNamespace=True, **spec))

    pulumi_in(engine, clone, "stack", "init", STACK, env=env)
    pulumi_in(
        engine, clone, "config", "set", "--secret", STACK_INPUT_KEY, stdin=stack_input(), env=env
    )
    pulumi_in(engine, clone, "up", "--yes", "--skip-preview", env=env)
    assert (clone / ".venv" / "bin" / "python").exists(), "Pulumi built the virtualenv"
    assert helm_releases(local_cluster, NAMESPACE, NAME)[-1]["status"] == "deployed"

    changed = stack_input(operator={"logLevel": "DEBUG"})
    pulumi_in(engine, clone, "config", "set", "--secret", STACK_INPUT_KEY, stdin=changed, env=env)
    preview = pulumi_in(engine, clone, "preview", env=env).stdout
    assert "inside the release:" in preview, preview
    assert "no diff inside the release" not in preview

    pulumi_in(engine, clone, "destroy", "--yes", env=env)
    assert helm_releases(local_cluster, NAMESPACE, NAME) == []
