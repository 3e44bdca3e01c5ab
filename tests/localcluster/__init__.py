"""A real Kubernetes control plane on this machine, for the e2e tier and for people.

etcd, kube-apiserver (TLS, RBAC, the default admission plugins), kube-controller-manager,
kube-scheduler and KWOK with one fake node, all built from Go modules by ``toolchain/build.sh``.
Without kubelets no container runs: KWOK marks the pods scheduled to its node Running and Ready,
so the controllers make a Deployment Available as on any cluster. Everything listens on
127.0.0.1 only (the serving certificate names nothing else); data lives in a temporary folder.

    with LocalCluster.started(tmp) as cluster:
        cluster.kubeconfig  # a kubeconfig file for cluster-admin

A person: ``python -m tests.localcluster up`` prints the kubeconfig path; ``… down`` stops it.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._pki import Pki, make_pki

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "toolchain" / "build.sh"
LOOPBACK = "127.0.0.1"
NODE_NAME = "kwok-node-0"
# The ServiceAccount token issuer and the (never dialled) Service range of the cluster.
ISSUER = "https://kubernetes.default.svc.cluster.local"
SERVICE_RANGE = "10.96.0.0/16"
BINARIES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)
# Users the API server authenticates by static token (--token-auth-file), for the tests that
# need an identity with fewer permissions than the admin.
TOKEN_USERS = ("e2e-limited", "e2e-gke", "e2e-readme")


class ToolchainMissing(RuntimeError):
    """The toolchain has not been built (``toolchain/build.sh``)."""


def toolchain_bin() -> Path:
    """The toolchain's bin folder (``toolchain/build.sh --print-bin``); it may be incomplete."""
    out = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--print-bin"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return Path(out.stdout.strip())


def missing_binaries(bin_dir: Path, names: tuple[str, ...] = BINARIES) -> list[str]:
    return [n for n in names if not os.access(bin_dir / n, os.X_OK)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the process that started it dies, so that even
    a test run killed with SIGKILL leaves no control plane behind."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@dataclass
class LocalCluster:
    """One control plane in ``workdir`` (certificates, data, logs, kubeconfigs)."""

    workdir: Path
    bin_dir: Path
    # A person's `up` outlives the command that started it; the suite's cluster dies with it.
    detach: bool = False
    etcd_port: int = 0
    etcd_peer_port: int = 0
    port: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pki: Pki | None = None

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "admin.kubeconfig"

    @classmethod
    @contextlib.contextmanager
    def started(cls, workdir: Path, bin_dir: Path | None = None) -> Iterator[LocalCluster]:
        """A running cluster, always stopped on the way out (an error, Ctrl-C, a failed test)."""
        cluster = cls(workdir, bin_dir or toolchain_bin())
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> None:
        missing = missing_binaries(self.bin_dir)
        if missing:
            raise ToolchainMissing(
                f"not built: {', '.join(missing)} in {self.bin_dir} (run toolchain/build.sh)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        self.pki = make_pki(self.workdir / "pki")
        self.etcd_port, self.etcd_peer_port, self.port = free_port(), free_port(), free_port()
        self.tokens = {user: secrets.token_hex(16) for user in TOKEN_USERS}
        (self.workdir / "tokens.csv").write_text(
            "".join(f"{token},{user},{user}\n" for user, token in self.tokens.items())
        )
        for name in ("admin", "controller-manager", "scheduler", "kwok"):
            self._write_kubeconfig(name)
        (self.workdir / "kwok-stages.yaml").write_text(self._kwok_stages())
        deadline = time.monotonic() + timeout
        self._spawn("etcd", self._etcd_args())
        self.start_apiserver(deadline - time.monotonic())
        self._spawn("kube-controller-manager", self._controller_manager_args())
        self._spawn("kube-scheduler", self._scheduler_args())
        self._spawn("kwok", self._kwok_args())
        self._create_node()
        self._wait_until_usable(deadline)
        self._write_state()

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        for name in reversed(list(self.processes)):
            self._terminate(name)
        self.processes.clear()
        state = self.workdir / "state.json"
        state.unlink(missing_ok=True)

    def start_apiserver(self, timeout: float = 60.0) -> None:
        self._spawn("kube-apiserver", self._apiserver_args())
        self._wait_ready(time.monotonic() + timeout)

    def stop_apiserver(self) -> None:
        """Stop the API server alone (fault tests); ``start_apiserver`` brings it back on the
        same port."""
        self._terminate("kube-apiserver")
        self.processes.pop("kube-apiserver", None)

    def _terminate(self, name: str) -> None:
        process = self.processes.get(name)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 (the child owns it)
        try:
            self.processes[name] = subprocess.Popen(
                [str(self.bin_dir / name), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={"PATH": os.environ.get("PATH", ""), "HOME": str(self.workdir)},
                preexec_fn=None if self.detach else _die_with_parent,
                start_new_session=True,
            )
        finally:
            log.close()

    # --- command lines --------------------------------------------------------------------------

    def _etcd_args(self) -> list[str]:
        client = f"http://{LOOPBACK}:{self.etcd_port}"
        peer = f"http://{LOOPBACK}:{self.etcd_peer_port}"
        return [
            "--name=e2e",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=e2e={peer}",
            # A throw-away cluster: no fsync is the difference between seconds and minutes
            # for the 3.7 MB CRDs on a slow disk.
            "--unsafe-no-fsync",
            "--quota-backend-bytes=4294967296",
            "--log-level=warn",
        ]

    def _apiserver_args(self) -> list[str]:
        assert self.pki is not None
        p = self.pki.path
        return [
            f"--etcd-servers=http://{LOOPBACK}:{self.etcd_port}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            f"--secure-port={self.port}",
            # The `kubernetes` Service's endpoints would name the advertise address, and an
            # Endpoints object may not hold a loopback address: nothing dials it here anyway.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={p('apiserver.crt')}",
            f"--tls-private-key-file={p('apiserver.key')}",
            f"--client-ca-file={p('ca.crt')}",
            f"--service-account-key-file={p('sa.pub')}",
            f"--service-account-signing-key-file={p('sa.key')}",
            f"--service-account-issuer={ISSUER}",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            "--authorization-mode=Node,RBAC",
            f"--token-auth-file={self.workdir / 'tokens.csv'}",
            "--allow-privileged=true",
            "--profiling=false",
        ]

    def _controller_manager_args(self) -> list[str]:
        assert self.pki is not None
        return [
            f"--kubeconfig={self.workdir / 'controller-manager.kubeconfig'}",
            "--leader-elect=false",
            f"--bind-address={LOOPBACK}",
            "--secure-port=0",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={self.pki.path('sa.key')}",
            f"--root-ca-file={self.pki.ca}",
            f"--service-cluster-ip-range={SERVICE_RANGE}",
            # The fake node never fails, but its heartbeats stop while a fault test stops the API
            # server; KWOK's pod stages never make a pod Ready again once the node controller has
            # marked it NotReady, so the node must not be judged by a short outage.
            "--node-monitor-grace-period=1h",
        ]

    def _scheduler_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={self.workdir / 'scheduler.kubeconfig'}",
            "--leader-elect=false",
            f"--bind-address={LOOPBACK}",
            f"--secure-port={free_port()}",
        ]

    def _kwok_args(self) -> list[str]:
        return [
            f"--kubeconfig={self.workdir / 'kwok.kubeconfig'}",
            f"--config={self.workdir / 'kwok-stages.yaml'}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            # Only written into the fake node's and pods' status; never dialled.
            f"--node-ip={LOOPBACK}",
            f"--server-address={LOOPBACK}:{free_port()}",
        ]

    def _kwok_stages(self) -> str:
        """KWOK's own "fast" node and pod stages, as its module ships them (toolchain/build.sh
        copies them next to the binary)."""
        stages = self.bin_dir.parent / "share" / "kwok-stages.yaml"
        if not stages.is_file():
            raise ToolchainMissing(f"not built: {stages} (run toolchain/build.sh kwok)")
        return stages.read_text()

    def _write_kubeconfig(self, name: str) -> None:
        assert self.pki is not None
        cert, key = self.pki.client(name)
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority-data": _b64(self.pki.ca),
                    },
                }
            ],
            "users": [
                {
                    "name": name,
                    "user": {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)},
                }
            ],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": name}}],
            "current-context": "local",
        }
        path = self.workdir / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(doc))
        path.chmod(0o600)

    def token_kubeconfig(self, user: str, path: Path) -> Path:
        """A kubeconfig for one of ``TOKEN_USERS`` (fewer permissions than the admin)."""
        assert self.pki is not None
        doc = yaml.safe_load(self.kubeconfig.read_text())
        doc["users"] = [{"name": user, "user": {"token": self.tokens[user]}}]
        doc["contexts"][0]["context"]["user"] = user
        path.write_text(yaml.safe_dump(doc))
        path.chmod(0o600)
        return path

    # --- API calls ------------------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        assert self.pki is not None
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        cert, key = self.pki.client("admin")
        context.load_cert_chain(str(cert), str(key))
        return context

    def request(self, method: str, path: str, body: Any = None, timeout: float = 10) -> Any:
        """One admin call to the API server; the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        req = urllib.request.Request(
            self.server + path, data=data, method=method, headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(req, context=self._ssl(), timeout=timeout) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def _wait_ready(self, deadline: float) -> None:
        last = "no answer yet"
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                urllib.request.urlopen(
                    urllib.request.Request(self.server + "/readyz"),
                    context=self._ssl(),
                    timeout=5,
                ).read()
                return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.5)
        raise TimeoutError(f"kube-apiserver not ready at {self.server}: {last}")

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.workdir / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def _create_node(self) -> None:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
            "spec": {},
        }
        self.request("POST", "/api/v1/nodes", node)
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        self.request(
            "PATCH",
            f"/api/v1/nodes/{NODE_NAME}/status",
            {"status": {"capacity": capacity, "allocatable": capacity}},
        )

    def _wait_until_usable(self, deadline: float) -> None:
        """The node is Ready (KWOK) and the default ServiceAccount exists (controller-manager):
        a pod can be created and scheduled."""
        while time.monotonic() < deadline:
            self._check_alive()
            node = self.request("GET", f"/api/v1/nodes/{NODE_NAME}")
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in node.get("status", {}).get("conditions", [])
            )
            try:
                self.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")
                has_account = True
            except urllib.error.HTTPError:
                has_account = False
            if ready and has_account:
                return
            time.sleep(0.5)
        raise TimeoutError("the local cluster did not become usable (node Ready, default SA)")

    def _write_state(self) -> None:
        state = {
            "kubeconfig": str(self.kubeconfig),
            "server": self.server,
            "pids": {name: p.pid for name, p in self.processes.items()},
        }
        (self.workdir / "state.json").write_text(json.dumps(state, indent=2))


def stop_detached(workdir: Path) -> list[str]:
    """Stop a cluster ``up`` left running in ``workdir`` (its state.json); the names stopped."""
    state_file = workdir / "state.json"
    if not state_file.is_file():
        return []
    state = json.loads(state_file.read_text())
    stopped = []
    for name, pid in reversed(list(state["pids"].items())):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            stopped.append(name)
    deadline = time.monotonic() + 10
    for pid in state["pids"].values():
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    state_file.unlink()
    shutil.rmtree(workdir / "etcd", ignore_errors=True)
    return stopped
