"""How long `fleet preflight` takes for 100 clusters, against the local Kubernetes API test server.

Each cluster has its own namespace holding a chart 2.9.0 release (records encoded as Helm
stores them), its operator Deployment and the chart's CRDs; the fleet's target is 3.0.0. The
`fleet preflight` runs every cluster's preflight (8 at a time, the default) through the real client.

    .venv/bin/python benchmarks/fleet_preflight.py [--clusters 100] [--runs 3]

Prints the median wall time of the whole `fleet preflight` command (in-process, warm chart cache).
Each stack's last outputs (read through the Pulumi CLI in a real run) come from a stand-in that
says each stack deployed its release: this measures the cluster reads and the checks.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT / "tests" / "fixtures" / "helm-repo"
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from kube_api import install, namespace, serve

    from percona_pg_operator.checks.preflight import StackState
    from percona_pg_operator.cli import _fleet, cli

    class Stacks:
        """Every stack deployed its release at 2.9.0."""

        @staticmethod
        def last_outputs(cluster: object) -> StackState:
            namespace = cluster.stack_input.target.spec.namespace  # type: ignore[attr-defined]
            return StackState(namespace=namespace, release_name="pg-op", chart_version="2.9.0")

    _fleet._runner = lambda *_: Stacks()  # type: ignore[assignment]

    with tempfile.TemporaryDirectory() as folder, serve() as api:
        os.environ["XDG_CACHE_HOME"] = str(Path(folder) / "cache")
        os.environ["PERCONA_PG_OPERATOR_CHART_REPO"] = str(REPO)
        names = [f"c{i:03d}" for i in range(args.clusters)]
        for name in names:
            api.add(namespace(f"ns-{name}"))
            install(api, REPO / "pg-operator-2.9.0.tgz", release="pg-op", namespace=f"ns-{name}")
        fleet = {
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
                    "providerConfig": {
                        "provider": "kubeconfig",
                        "kubeconfig": {"content": api.kubeconfig()},
                    },
                    "overrides": {"spec": {"namespace": f"ns-{name}"}},
                }
                for name in names
            ],
        }
        path = Path(folder) / "fleet.yaml"
        path.write_text(yaml.safe_dump(fleet))
        CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])  # warm
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = CliRunner().invoke(cli, ["fleet", "preflight", str(path), "--output", "json"])
            times.append(time.perf_counter() - start)
            if result.exit_code != 0:
                raise SystemExit(result.output[-2000:])
    print(
        f"fleet preflight, {args.clusters} clusters, {args.runs} runs, median "
        f"{statistics.median(times):.2f} s ({statistics.median(times) / args.clusters * 1000:.0f} "
        f"ms per cluster), Python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
