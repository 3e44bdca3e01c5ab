"""Peak memory of `preflight` and `diff --live` against a hostile API server: a Helm release
Secret under 1 MiB that inflates to 560 MB, and an answer gzip-compressed from 600 MB.

Before the bounds (cluster/_transport.py, cluster/_helm.py) these took 1.7 GB, 2.8 GB and
3.1 GB. Each command runs as its own process; its peak RSS comes from wait4.

    .venv/bin/python benchmarks/hostile_memory.py
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from conftest import FIXTURE_REPO, manifest  # noqa: E402
from kube_api import KubeApi, namespace, serve  # noqa: E402

NS, RELEASE = "pgo", "pg-op"
INFLATED = 560 * 1000 * 1000


def gzip_stream(head: bytes, pad: bytes, size: int, tail: bytes) -> bytes:
    """gzip of head + pad * size + tail, built in chunks: this process stays small, so the
    commands' peak RSS (which a child inherits from its parent at fork) is their own."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(head)]
    chunk = pad * (1 << 20)
    for _ in range(size >> 20):
        parts.append(packer.compress(chunk))
    parts += [packer.compress(tail), packer.flush()]
    return b"".join(parts)


def release_bomb() -> str:
    helm = base64.b64encode(gzip_stream(b'{"name": "pg", "pad": "', b"0", INFLATED, b'"}'))
    return base64.b64encode(helm).decode()


def own_peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """Exit code, peak RSS in MB, seconds."""
    command = [str(Path(sys.prefix) / "bin" / "percona-pg-operator"), *args]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, time.monotonic() - started


def main() -> None:
    data = release_bomb()
    print(f"release Secret: {len(data) / 1e6:.2f} MB, inflates to {INFLATED / 1e6:.0f} MB")
    print(f"(this script's own peak RSS, a floor for the children's: {own_peak_mb():.0f} MB)")
    gz = gzip_stream(b"{", b" ", 600 * 1000 * 1000, b"}")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "PERCONA_PG_OPERATOR_CHART_REPO": str(FIXTURE_REPO),
            "XDG_CACHE_HOME": str(Path(tmp) / "cache"),
        }
        for case in ("release bomb", "gzip answer"):
            api = KubeApi()
            api.add(namespace(NS))
            if case == "release bomb":
                labels = {"owner": "helm", "name": RELEASE, "status": "deployed", "version": "1"}
                api.add(
                    {
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "type": "helm.sh/release.v1",
                        "metadata": {"name": f"sh.helm.release.v1.{RELEASE}.v1",
                                     "namespace": NS, "labels": labels},
                        "data": {"release": data},
                    }
                )  # fmt: skip
            else:
                api.override = lambda path: (
                    (200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, gz)
                    if "/secrets" in path
                    else None
                )
            with serve(api):
                document = {
                    "target": manifest(namespace=NS, helm={"version": "2.9.0"}),
                    "providerConfig": {
                        "provider": "kubeconfig",
                        "kubeconfig": {"content": api.kubeconfig()},
                    },
                }
                path = Path(tmp) / "stack.yaml"
                path.write_text(yaml.safe_dump(document))
                for args in (["preflight", str(path)], ["diff", str(path), "--live"]):
                    code, peak, seconds = run(args, env)
                    print(
                        f"{case:13s} {args[0]:10s} exit {code}, peak RSS {peak:6.0f} MB, "
                        f"{seconds:4.1f} s"
                    )


if __name__ == "__main__":
    main()
