"""The real Pulumi engine, as a user runs it: the ``pulumi`` CLI and its plugins from the toolchain,
a project folder with this repository's ``Pulumi.yaml`` and ``__main__.py`` (the Python language
host runs them in the repository's virtualenv), a file backend and a private ``PULUMI_HOME`` in
a temporary folder. Nothing reaches the network: no update check, no plugin download.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-local"
STACK_INPUT_KEY = "planton-cloud:stack-input"
# In the environment of every process an Engine starts.
ENGINE_MARKER = "PERCONA_PG_OPERATOR_E2E_ENGINE"
ENGINE_BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
    "pulumi-resource-kubernetes",
    "pulumi-language-yaml",
    "pulumi-language-go",
    "pulumi-language-nodejs",
    "project-planton-kubernetesperconapostgresoperator",
)


class PulumiFailed(AssertionError):
    """A pulumi command exited non-zero; the message holds its output."""

    def __init__(self, args: list[str], result: subprocess.CompletedProcess[str]) -> None:
        self.result = result
        super().__init__(
            f"pulumi {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-8000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )


@dataclass
class Engine:
    """One project folder and backend; any number of stacks in it."""

    bin_dir: Path
    workdir: Path
    kubeconfig: Path
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.project.mkdir(parents=True, exist_ok=True)
        (self.workdir / "backend").mkdir(exist_ok=True)
        (self.workdir / "home").mkdir(exist_ok=True)
        project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
        # The repository's virtualenv, where this package is installed (editable).
        project["runtime"]["options"]["virtualenv"] = str(Path(sys.prefix))
        (self.project / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
        shutil.copy(ROOT / "__main__.py", self.project / "__main__.py")

    @property
    def project(self) -> Path:
        return self.workdir / "project"

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            "PATH": os.pathsep.join(
                [str(self.bin_dir), str(Path(sys.prefix) / "bin"), "/usr/bin", "/bin"]
            ),
            "HOME": str(self.workdir / "home"),
            "PULUMI_HOME": str(self.workdir / "home" / ".pulumi"),
            "PULUMI_BACKEND_URL": (self.workdir / "backend").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "KUBECONFIG": str(self.kubeconfig),
            # The live preflight runs for real (the unit suite turns it off).
            "PERCONA_PG_OPERATOR_PREFLIGHT": "on",
            "PERCONA_PG_OPERATOR_CHART_REPO": str(ROOT / "tests" / "fixtures" / "helm-repo"),
            "XDG_CACHE_HOME": str(self.workdir / "cache"),
            "NO_COLOR": "1",
            # Every process of this engine carries it, plugins included: see reap().
            ENGINE_MARKER: str(self.workdir),
        }
        for key in ("TMPDIR", "LANG", "LC_ALL"):
            if key in os.environ:
                base[key] = os.environ[key]
        return {**base, **self.extra_env, **extra}

    def command(self, *args: str) -> list[str]:
        return [
            str(self.bin_dir / "pulumi"),
            *args,
            "--non-interactive",
            "--cwd",
            str(self.project),
        ]

    def run(
        self,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 900,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.command(*args),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**(env or {})),
            check=False,
        )
        if check and result.returncode != 0:
            raise PulumiFailed(list(args), result)
        return result

    def popen(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                self.command(*args), stdout=out, stderr=subprocess.STDOUT, env=self.env()
            )

    # --- stacks -------------------------------------------------------------------------------

    def init(self, stack: str) -> None:
        self.run("stack", "init", stack)

    def set_input(self, stack: str, document: dict[str, Any]) -> None:
        """The stack input as project-planton sends it: YAML in `planton-cloud:stack-input`,
        a secret (it may hold credentials), given on standard input, never the command line."""
        self.run(
            "config", "set", "--secret", STACK_INPUT_KEY, "--stack", stack,
            input=yaml.safe_dump(document),
        )  # fmt: skip

    def up(self, stack: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", "--stack", stack, *extra, check=check)

    def preview(
        self, stack: str, *extra: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.run("preview", "--stack", stack, *extra, check=check)

    def outputs(self, stack: str) -> dict[str, Any]:
        out = self.run("stack", "output", "--json", "--show-secrets", "--stack", stack).stdout
        return dict(json.loads(out))

    def export(self, stack: str) -> dict[str, Any]:
        """The stack's state (``pulumi stack export``), for what the outputs do not say; secrets
        decrypted, since each checkpoint encrypts them anew."""
        exported = self.run("stack", "export", "--show-secrets", "--stack", stack).stdout
        return dict(json.loads(exported))

    def resources(self, stack: str) -> list[dict[str, Any]]:
        return list(self.export(stack)["deployment"].get("resources", []))

    def reap(self) -> list[int]:
        """SIGKILL every process this engine started that is still running: a `pulumi` killed
        with SIGKILL leaves its plugins (the Kubernetes provider, the dynamic-provider host)
        running, in a process group of their own. Found by the marker in their environment."""
        from percona_pg_operator._process import kill_marked

        return kill_marked(str(self.workdir), ENGINE_MARKER)
