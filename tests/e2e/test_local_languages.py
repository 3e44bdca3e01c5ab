"""The component package from TypeScript and from Go, for real: each program is the README's
(read from it, as written), in a project that `pulumi package add`s `pulumi-plugin/` and so gets
a generated SDK; then `up`, a no-change preview and `destroy` on the local cluster, through the
Node.js and Go language hosts toolchain/build.sh builds. The outputs are the component's in every
language, `verifiedAt` and `databasesChecked` included."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import ROOT, Engine

from e2e.support import exists, helm_releases, pulumi_in

pytestmark = pytest.mark.e2e

NAME = NAMESPACE = "pg-operator"  # the README's programs' names
README = (ROOT / "README.md").read_text()


def _pinned(name: str) -> str:
    for line in (ROOT / "toolchain" / "versions.env").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1].strip()
    raise KeyError(name)


def readme_program(lang: str) -> str:
    (block,) = re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)
    return str(block)


def _env(engine: Engine) -> dict[str, str]:
    """npm and node from /usr/bin; the Go toolchain where it is installed."""
    go = shutil.which("go")
    path = engine.env()["PATH"] + (os.pathsep + str(Path(go).parent) if go else "")
    return {"PATH": path, "GOFLAGS": "-mod=mod"}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin folder as shipped, with the virtualenv that has this package."""
    folder = tmp_path_factory.mktemp("plugin") / "plugin"
    shutil.copytree(ROOT / "pulumi-plugin", folder)
    settings = yaml.safe_load((folder / "PulumiPlugin.yaml").read_text())
    settings["runtime"]["options"]["virtualenv"] = sys.prefix
    (folder / "PulumiPlugin.yaml").write_text(yaml.safe_dump(settings))
    return folder


def _deploy(
    engine: Engine, local_cluster: LocalCluster, project: Path, plugin: Path, stack: str
) -> None:
    """package add, up (the outputs checked), a no-change preview, destroy."""
    env = _env(engine)
    provider = engine.bin_dir / "pulumi-resource-kubernetes"
    version = _pinned("PULUMI_KUBERNETES_VERSION")
    pulumi_in(engine, project, "plugin", "install", "resource", "kubernetes", version, "--file",
              str(provider), env=env)  # fmt: skip
    pulumi_in(engine, project, "package", "add", str(plugin), env=env)
    assert (project / "sdks" / "percona-pg-operator").is_dir()
    pulumi_in(engine, project, "stack", "init", stack, env=env)
    try:
        pulumi_in(engine, project, "up", "--yes", "--skip-preview", "--stack", stack, env=env)
        out = pulumi_in(engine, project, "stack", "output", "--json", "--stack", stack, env=env)
        outputs = json.loads(out.stdout)
        assert helm_releases(local_cluster, NAMESPACE, NAME) == [
            {"revision": 1, "status": "deployed"}
        ]
        _check(outputs)
        pulumi_in(engine, project, "preview", "--expect-no-changes", "--stack", stack, env=env)
    finally:
        pulumi_in(engine, project, "destroy", "--yes", "--stack", stack, env=env)
    assert helm_releases(local_cluster, NAMESPACE, NAME) == []
    assert exists(local_cluster, f"/api/v1/namespaces/{NAMESPACE}"), "kept on destroy"


def _check(outputs: dict[str, Any]) -> None:
    assert outputs["namespace"] == NAMESPACE
    assert outputs["chartVersion"] == "3.0.0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", outputs["verifiedAt"])
    assert outputs["databasesChecked"] == []


def test_a_typescript_program_deploys_the_component(
    engine: Engine, local_cluster: LocalCluster, plugin: Path, tmp_path: Path
) -> None:
    project = tmp_path / "ts-program"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "ts-consumer",
                "runtime": {"name": "nodejs", "options": {"packagemanager": "npm"}},
            }
        )
    )
    sdk = _pinned("PULUMI_HOSTS_SDK_VERSION").removeprefix("v")
    (project / "package.json").write_text(
        json.dumps(
            {
                "name": "ts-consumer",
                "main": "index.ts",
                "dependencies": {"@pulumi/pulumi": sdk},
                "devDependencies": {"@types/node": "^20", "typescript": "^5"},
            }
        )
    )
    (project / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "outDir": "bin",
                    "target": "es2020",
                    "module": "commonjs",
                    "moduleResolution": "node",
                    "sourceMap": True,
                    "skipLibCheck": True,
                },
                "files": ["index.ts"],
            }
        )
    )
    (project / "index.ts").write_text(readme_program("typescript"))
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund"],
        cwd=project, env=engine.env(**_env(engine)), check=True, timeout=600,
        capture_output=True,
    )  # fmt: skip
    _deploy(engine, local_cluster, project, plugin, "ts")


def test_a_go_program_deploys_the_component(
    engine: Engine, local_cluster: LocalCluster, plugin: Path, tmp_path: Path
) -> None:
    project = tmp_path / "go-program"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "go-consumer", "runtime": "go"}))
    sdk = _pinned("PULUMI_HOSTS_SDK_VERSION")
    (project / "go.mod").write_text(
        f"module go-consumer\n\ngo 1.25\n\nrequire github.com/pulumi/pulumi/sdk/v3 {sdk}\n"
    )
    (project / "main.go").write_text(readme_program("go"))
    _deploy(engine, local_cluster, project, plugin, "go")
