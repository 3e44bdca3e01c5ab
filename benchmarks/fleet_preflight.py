"""How long `fleet preflight` takes for 1,000 clusters, against the Kubernetes API test server.

Each cluster has its own namespace holding a chart 2.9.0 release (records encoded as Helm
stores them), its operator Deployment and the chart's CRDs; the fleet's target is 3.0.0, and
each cluster's kubeconfig is inline (the fleet file is beyond a manifest's 1 MiB). The `fleet
preflight` runs every cluster's preflight (the default concurrency) through the real client.
The API server stand-in (tests/kube_api.py) runs in a process of its own, as a cluster's API
server does, so its work is not counted as the command's.

    .venv/bin/python benchmarks/fleet_preflight.py [--clusters 1000] [--runs 3]

Prints the fleet file's size and load time, and the median wall time of the whole `fleet
preflight` command (in-process, warm chart cache). Each stack's last outputs (read through the
Pulumi CLI in a real run) come from a stand-in that says each stack deployed its release: this
measures the cluster reads and the checks. Target: 1,000 clusters in at most 30 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT / "tests" / "fixtures" / "helm-repo"
sys.path.insert(0, str(ROOT / "tests"))


def serve_elsewhere(names: list[str], pipe: Any) -> None:
    """The API server stand-in, with every cluster's objects, in this (forked) process."""
    from kube_api import install, namespace, serve

    with serve() as api:
        for name in names:
            api.add(namespace(f"ns-{name}"))
            install(api, REPO / "pg-operator-2.9.0.tgz", release="pg-op", namespace=f"ns-{name}")
        pipe.send(api.kubeconfig())
        pipe.recv()  # until the benchmark is done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument(
        "--load-only",
        type=int,
        metavar="N",
        help="only write and load a fleet file of N clusters (e.g. 10000, the most one holds)",
    )
    args = parser.parse_args()

    from percona_pg_operator.checks.preflight import StackState
    from percona_pg_operator.cli import _fleet, cli
    from percona_pg_operator.fleet import load_fleet

    class Stacks:
        """Every stack deployed its release at 2.9.0."""

        @staticmethod
        def last_outputs(cluster: object) -> StackState:
            namespace = cluster.stack_input.target.spec.namespace  # type: ignore[attr-defined]
            return StackState(namespace=namespace, release_name="pg-op", chart_version="2.9.0")

    _fleet._runner = lambda *_: Stacks()  # type: ignore[assignment]

    if args.load_only:
        load_only(args.load_only, load_fleet)
        return
    names = [f"c{i:04d}" for i in range(args.clusters)]
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve_elsewhere, args=(names, theirs), daemon=True)
    server.start()
    try:
        if not ours.poll(600):
            raise SystemExit("the API server stand-in did not start in 600 s")
        kubeconfig = ours.recv()
        with tempfile.TemporaryDirectory() as folder:
            os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "cache")
            os.environ["PERCONA_PG_OPERATOR_CHART_REPO"] = str(REPO)
            path = Path(folder) / "fleet.yaml"
            path.write_text(yaml.safe_dump(fleet_document(names, kubeconfig)))
            start = time.perf_counter()
            load_fleet(path)
            loaded = time.perf_counter() - start
            command = ["fleet", "preflight", str(path), "--output", "json"]
            if args.concurrency:
                command += ["--concurrency", str(args.concurrency)]
            CliRunner().invoke(cli, command)  # warm
            times, cpu = [], []
            for _ in range(args.runs):
                start, used = time.perf_counter(), time.process_time()
                result = CliRunner().invoke(cli, command)
                times.append(time.perf_counter() - start)
                cpu.append(time.process_time() - used)
                if result.exit_code != 0:
                    raise SystemExit(result.output[-2000:])
            size = path.stat().st_size
    finally:
        ours.send("done")
        server.join(timeout=30)
        if server.is_alive():
            server.kill()
    median = statistics.median(times)
    print(f"fleet file: {args.clusters} clusters, {size / 1e6:.1f} MB, loaded in {loaded:.2f} s")
    print(
        f"fleet preflight, {args.clusters} clusters, {args.runs} runs, median {median:.2f} s "
        f"({median / args.clusters * 1000:.1f} ms per cluster; the command's own CPU "
        f"{statistics.median(cpu):.2f} s), Python {sys.version.split()[0]}"
    )


def load_only(count: int, load_fleet: Any) -> None:
    """A fleet file of ``count`` clusters, each with a kubeconfig of its own inline (a CA, a
    token): its size, load time and the memory it took."""
    import base64
    import resource

    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"A" * 1100).decode()

    def kubeconfig(i: int) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": f"https://10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                            "certificate-authority-data": ca,
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"token": f"{i:08d}" * 40}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )

    names = [f"c{i:05d}" for i in range(count)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fleet.yaml"
        document = fleet_document(names, "")
        for cluster, i in zip(document["clusters"], range(count), strict=True):
            cluster["providerConfig"]["kubeconfig"]["content"] = kubeconfig(i)
        path.write_text(yaml.dump(document, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper)))
        start = time.perf_counter()
        loaded = load_fleet(path)
        seconds = time.perf_counter() - start
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"fleet file: {len(loaded.clusters)} clusters, {size / 1e6:.1f} MB, loaded in "
        f"{seconds:.2f} s (peak memory of the process {peak:.0f} MB)"
    )


def fleet_document(names: list[str], kubeconfig: str) -> dict[str, Any]:
    return {
        "apiVersion": "fleet.percona-pg-operator.io/v1",
        "kind": "PerconaPostgresOperatorFleet",
        "manifest": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": "pg-op"},
            "spec": {"helm": {"version": "3.0.0", "acknowledgeIrreversible": "3.0"}},
        },
        "clusters": [
            {
                "name": name,
                "stack": f"prod-{name}",
                # Each its own text, as real kubeconfigs are (YAML would alias equal ones).
                "providerConfig": {
                    "provider": "kubeconfig",
                    "kubeconfig": {"content": f"# cluster {name}\n{kubeconfig}"},
                },
                "overrides": {"spec": {"namespace": f"ns-{name}"}},
            }
            for name in names
        ],
    }


if __name__ == "__main__":
    main()
