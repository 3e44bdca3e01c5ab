"""What reviewing a change costs, warm chart cache: `diff`, `upgrade-plan`, and the preview summary.

- `diff NEW --against OLD` and `upgrade-plan --from 2.7.0` as a user runs them: whole processes.
- The preview summary's added time: `release_change` (render the new side, diff it against the
  live release) plus the summary line and the debug text, in-process, against the local
  Kubernetes API test server (tests/kube_api.py) holding a chart 2.9.0 release, for a manifest
  at 3.0.0: the work a `pulumi preview` adds.

    .venv/bin/python benchmarks/review.py [--runs 7]

Prints the median wall time of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT / "tests" / "fixtures" / "helm-repo"
sys.path.insert(0, str(ROOT / "tests"))


def manifest(**spec: object) -> dict[str, object]:
    return {
        "apiVersion": "kubernetes.project-planton.org/v1",
        "kind": "KubernetesPerconaPostgresOperator",
        "metadata": {"name": "pg-op"},
        "spec": {"createNamespace": True, **spec},
    }


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[1:3]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "percona_pg_operator"]
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(Path(folder) / "cache"),
            "PERCONA_PG_OPERATOR_CHART_REPO": str(REPO),
        }
        old, new = Path(folder) / "old.yaml", Path(folder) / "new.yaml"
        old.write_text(yaml.safe_dump(manifest()))
        new.write_text(yaml.safe_dump(manifest(operator={"logLevel": "DEBUG"})))
        diff = [*cli, "diff", str(new), "--against", str(old)]
        plan = [*cli, "upgrade-plan", "--from", "2.7.0", "--output", "json"]
        timed(diff, env)  # warms the chart cache
        timed(plan, env)
        results: dict[str, list[float]] = {"diff": [], "upgrade-plan": [], "preview": []}
        for _ in range(args.runs):
            results["diff"].append(timed(diff, env))
            results["upgrade-plan"].append(timed(plan, env))
        os.environ.update(env)
        results["preview"] = preview_overhead(args.runs)
    print(f"{args.runs} runs each, median wall time, warm cache, Python {sys.version.split()[0]}")
    labels = {
        "diff": "diff NEW --against OLD (process)",
        "upgrade-plan": "upgrade-plan --from 2.7.0 (process, 3 steps)",
        "preview": "preview summary added (in-process)",
    }
    for key, label in labels.items():
        print(f"  {label:46s} {statistics.median(results[key]) * 1000:7.1f} ms")


def preview_overhead(runs: int) -> list[float]:
    from kube_api import install, namespace, serve

    from percona_pg_operator.cluster.read import inspect_cluster, target_package
    from percona_pg_operator.manifest import parse_document
    from percona_pg_operator.review.diff import release_change, summary, to_text

    times = []
    with serve() as api:
        api.add(namespace("percona-postgres-operator"))
        install(
            api,
            REPO / "pg-operator-2.9.0.tgz",
            release="pg-op",
            namespace="percona-postgres-operator",
        )
        doc = {
            "target": manifest(),
            "providerConfig": {
                "provider": "kubeconfig",
                "kubeconfig": {"content": api.kubeconfig()},
            },
        }
        stack_input = parse_document(doc, "benchmark")
        state = inspect_cluster(stack_input, target_package(stack_input))
        release_change(stack_input, state)  # warm
        for _ in range(runs):
            start = time.perf_counter()
            changes = release_change(stack_input, state)
            assert changes, "the 2.9.0 -> 3.0.0 step changes objects"
            summary(changes)  # the info line, and the debug text the program logs with it
            to_text(changes)
            times.append(time.perf_counter() - start)
    return times


if __name__ == "__main__":
    main()
