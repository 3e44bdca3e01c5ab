"""The component package for real: a Pulumi YAML program adds `pulumi-plugin/` with
`pulumi package add` and deploys the operator with it on the local cluster, through the Python
SDK's component provider host (the very component the Python program uses: its preflight, the
Release, the verification), then destroys it. The YAML language host is built from
github.com/pulumi/pulumi-yaml by toolchain/build.sh."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import helm_releases, pulumi_in

pytestmark = pytest.mark.e2e

NAME = NAMESPACE = "pg-yaml"


def _pinned(name: str) -> str:
    for line in (ROOT / "toolchain" / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise KeyError(name)


def test_a_yaml_program_deploys_the_component(
    engine: Engine, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    # The plugin folder as shipped, with the virtualenv that has this package (as the engine's
    # Python project uses the repository's).
    plugin = tmp_path / "plugin"
    shutil.copytree(ROOT / "pulumi-plugin", plugin)
    settings = yaml.safe_load((plugin / "PulumiPlugin.yaml").read_text())
    settings["runtime"]["options"]["virtualenv"] = sys.prefix
    (plugin / "PulumiPlugin.yaml").write_text(yaml.safe_dump(settings))

    project = tmp_path / "yaml-program"
    project.mkdir()
    program = {
        "name": "yaml-consumer",
        "runtime": "yaml",
        "resources": {
            "operator": {
                "type": "percona-pg-operator:index:PerconaPostgresOperator",
                "properties": {
                    "manifest": {
                        "apiVersion": "kubernetes.project-planton.org/v1",
                        "kind": "KubernetesPerconaPostgresOperator",
                        "metadata": {"name": NAME},
                        "spec": {
                            "namespace": NAMESPACE,
                            "createNamespace": True,
                            "helm": {"version": "2.9.0", "timeoutSeconds": 120},
                            "verify": {"timeoutSeconds": 120, "pollSeconds": 2},
                        },
                    }
                },
            }
        },
        "outputs": {
            "namespace": "${operator.namespace}",
            "chartVersion": "${operator.chartVersion}",
            "operatorVersion": "${operator.operatorVersion}",
            "crds": "${operator.crds}",
        },
    }
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))

    # The plugin needs the Kubernetes provider (its Python SDK asks for it) and the engine
    # installs a package's dependencies into its plugin cache: from the toolchain's binary, as
    # an air-gapped site would, since nothing is downloaded here.
    provider = engine.bin_dir / "pulumi-resource-kubernetes"
    version = _pinned("PULUMI_KUBERNETES_VERSION")
    pulumi_in(engine, project, "plugin", "install", "resource", "kubernetes", version, "--file",
           str(provider))  # fmt: skip
    pulumi_in(engine, project, "package", "add", str(plugin))
    added = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert "percona-pg-operator" in added.get("packages", {}), added
    pulumi_in(engine, project, "stack", "init", "yaml")
    try:
        pulumi_in(engine, project, "up", "--yes", "--skip-preview", "--stack", "yaml")
        out = pulumi_in(engine, project, "stack", "output", "--json", "--stack", "yaml")
        stack_outputs = json.loads(out.stdout)
        assert stack_outputs["namespace"] == NAMESPACE
        assert stack_outputs["chartVersion"] == "2.9.0"
        assert stack_outputs["operatorVersion"] == "2.9.0"
        assert "perconapgclusters.pgv2.percona.com" in stack_outputs["crds"]
        assert helm_releases(local_cluster, NAMESPACE, NAME) == [
            {"revision": 1, "status": "deployed"}
        ]
        # A second preview changes nothing: the component is stable through the host too.
        pulumi_in(engine, project, "preview", "--expect-no-changes", "--stack", "yaml")
    finally:
        pulumi_in(engine, project, "destroy", "--yes", "--stack", "yaml")
    assert helm_releases(local_cluster, NAMESPACE, NAME) == []
