"""What this program costs over the plain way, with the real Pulumi engine on the local cluster.

In one run, on local control planes (tests/localcluster, built by toolchain/build.sh), each
pair measured interleaved (A B A B ...) so a machine that gets busier part-way weighs on both:

- ``pulumi preview`` and ``pulumi up`` with no change: this program, all safety on (the stack
  input, the live preflight, the managed CRDs, the Release, the verification) vs the plain
  program of the same chart and values (a Provider, a Namespace and a ``helm.v3.Release``);
- a first install on a fresh cluster: this program's ``pulumi up`` vs the plain program's, and
  vs Helm's own ``install --wait`` (helm-python-sdk, Helm's Go code in-process), which installs
  the chart's CRDs too;
- where this program's no-change preview goes: the same stack without the verification, without
  managed CRDs, and without either.

    .venv/bin/python benchmarks/real_engine.py [--runs 5] [--version 2.9.0]

Prints the machine's load, the median seconds of each and the ratios. Nothing is timed in the
test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from localcluster import LocalCluster, toolchain_bin  # noqa: E402
from localcluster.engine import Engine  # noqa: E402

from percona_pg_operator.manifest import build_helm_values, parse_document  # noqa: E402

MINIMAL_PROGRAM = '''"""Provider + Namespace + helm.v3.Release: the plain way, for comparison."""
import json
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config()
values = json.loads(config.require("values"))
provider = k8s.Provider("k8s")
ns = k8s.core.v1.Namespace(
    "ns",
    metadata={"name": config.require("namespace")},
    opts=pulumi.ResourceOptions(provider=provider),
)
k8s.helm.v3.Release(
    "release",
    name=config.require("name"),
    namespace=config.require("namespace"),
    chart=config.require("chart"),
    values=values,
    atomic=True,
    cleanup_on_fail=True,
    opts=pulumi.ResourceOptions(provider=provider, depends_on=[ns]),
)
'''


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--version", default="2.9.0")
    parser.add_argument(
        "--source",
        type=Path,
        help="run this program from another source folder (e.g. an older commit's src/, from "
        "`git archive COMMIT src | tar -x -C DIR`), to compare versions with one benchmark",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="also trace one more run of each (engine OpenTelemetry traces into this folder, "
        "summarised by benchmarks/trace_phases.py), and the floor: a program of one provider",
    )
    args = parser.parse_args()
    runs = max(1, min(args.runs, 20))
    chart = ROOT / "tests" / "fixtures" / "helm-repo" / f"pg-operator-{args.version}.tgz"

    document = {
        "target": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": "pg-bench"},
            "spec": {
                "namespace": "bench",
                "createNamespace": True,
                "helm": {"version": args.version},
            },
        }
    }
    # The program's environment: PYTHONPATH puts another source folder before the installed one.
    ours_env = {"PYTHONPATH": str(args.source.resolve())} if args.source else {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="real-engine-") as tmp:
        work = Path(tmp)
        bin_dir = toolchain_bin()
        settings = plain_settings(document)

        # A first install each on a fresh cluster: Helm installs the chart's CRDs only where
        # none exist, so no side may find another's. Interleaved: ours, plain, helm, ours, ...
        first: dict[str, list[float]] = {"ours": [], "plain": [], "helm": []}
        for i in range(runs):
            with LocalCluster.started(work / f"ours-{i}", bin_dir) as cluster:
                ours = Engine(bin_dir, work / f"ours-engine-{i}", cluster.kubeconfig, ours_env)
                ours.init("ours")
                ours.set_input("ours", document)
                traced = trace(args.profile, "ours-first-install") if i == 0 else ()
                first["ours"].append(timed(lambda e=ours, t=traced: e.up("ours", *t)))
            with LocalCluster.started(work / f"plain-{i}", bin_dir) as cluster:
                plain = plain_engine(bin_dir, work / f"plain-engine-{i}", cluster, chart, settings)
                traced = trace(args.profile, "plain-first-install") if i == 0 else ()
                first["plain"].append(timed(lambda e=plain, t=traced: e.up("plain", *t)))
            with LocalCluster.started(work / f"helm-{i}", bin_dir) as cluster:
                first["helm"].append(timed(lambda c=cluster: helm_install(c, chart, "bench")))

        with LocalCluster.started(work / "cluster", bin_dir) as cluster:
            ours = Engine(bin_dir, work / "ours", cluster.kubeconfig, ours_env)
            ours.init("ours")
            ours.set_input("ours", document)
            ours.up("ours")
            plain = plain_engine(bin_dir, work / "plain", cluster, chart, settings)
            plain.up("plain")

            def preview(engine: Engine, stack: str) -> float:
                return timed(lambda: engine.preview(stack, "--expect-no-changes"))

            def up(engine: Engine, stack: str) -> float:
                return timed(lambda: engine.up(stack))

            rows: dict[str, tuple[list[float], list[float]]] = {}
            for label, step in (("preview, no change", preview), ("up, no change", up)):
                pairs = [(step(ours, "ours"), step(plain, "plain")) for _ in range(runs)]
                rows[label] = ([a for a, _ in pairs], [b for _, b in pairs])
            rows["first install"] = (first["ours"], first["plain"])
            # Where this program's no-change preview goes: the same stack input without the
            # verification, without managed CRDs, without either (each its own stack).
            breakdown: dict[str, float] = {}
            variants: dict[str, dict[str, Any]] = {
                "no verification": {"verify": {"enabled": False}},
                "no managed CRDs": {"helm": {"version": args.version, "manageCrds": False}},
                "neither": {
                    "verify": {"enabled": False},
                    "helm": {"version": args.version, "manageCrds": False},
                },
            }
            for i, (label, extra) in enumerate(variants.items()):
                variant = json.loads(json.dumps(document))
                variant["target"]["metadata"]["name"] = f"pg-variant-{i}"
                variant["target"]["spec"].update(namespace=f"bench-variant-{i}", **extra)
                ours.init(f"variant{i}")
                ours.set_input(f"variant{i}", variant)
                ours.up(f"variant{i}")
                breakdown[label] = statistics.median(
                    preview(ours, f"variant{i}") for _ in range(runs)
                )
            if args.profile is not None:
                profile(args.profile, bin_dir, work, cluster, ours, plain)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"chart {args.version}, {runs} runs each, interleaved, median seconds")
    print(f"{'':32} {'this program':>13} {'plain program':>14} {'ratio':>7}")
    for label, (a, b) in rows.items():
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{label:32} {ma:13.2f} {mb:14.2f} {ma / mb:6.2f}x")
    helm = statistics.median(first["helm"])
    ours_first = statistics.median(first["ours"])
    print(
        f"{'first install vs helm install':32} {ours_first:13.2f} {helm:14.2f} "
        f"{ours_first / helm:6.2f}x  (helm install --wait, CRDs included)"
    )
    print("this program's no-change preview without a part, median seconds")
    for label, seconds in breakdown.items():
        print(f"{label:32} {seconds:13.2f}")


FLOOR_PROGRAM = '''"""The floor: one Kubernetes provider, nothing else."""
import pulumi_kubernetes as k8s

k8s.Provider("k8s")
'''


def trace(folder: Path | None, name: str) -> tuple[str, ...]:
    if folder is None:
        return ()
    folder.mkdir(parents=True, exist_ok=True)
    return ("--otel-traces", (folder.resolve() / f"{name}.json").as_uri())


def profile(
    folder: Path, bin_dir: Path, work: Path, cluster: LocalCluster, ours: Engine, plain: Engine
) -> None:
    """One traced run of each no-change command, and of the floor; each summarised."""
    floor = Engine(bin_dir, work / "floor", cluster.kubeconfig)
    (floor.project / "__main__.py").write_text(FLOOR_PROGRAM)
    floor.init("floor")
    floor.up("floor")
    for engine, stack in ((ours, "ours"), (plain, "plain"), (floor, "floor")):
        engine.preview(stack, "--expect-no-changes", *trace(folder, f"{stack}-preview"))
        engine.up(stack, *trace(folder, f"{stack}-up"))
    from trace_phases import phases, read_spans

    for path in sorted(folder.glob("*.json")):
        print(f"--- {path.stem} (benchmarks/trace_phases.py {path})")
        for start, seconds, what in phases(read_spans(path)):
            print(f"{start:7.3f} {seconds:7.3f}  {what}")


def plain_settings(document: dict[str, Any]) -> dict[str, str]:
    spec = parse_document(document, "benchmark").target.spec
    return {
        "values": json.dumps(build_helm_values(spec)),
        "namespace": "bench-plain",
        "name": "pg-bench",
        "chart": "chart.tgz",
    }


def plain_engine(
    bin_dir: Path, workdir: Path, cluster: LocalCluster, chart: Path, settings: dict[str, str]
) -> Engine:
    """The plain program's project: the same engine and project settings, its own program."""
    plain = Engine(bin_dir, workdir, cluster.kubeconfig)
    (plain.project / "__main__.py").write_text(MINIMAL_PROGRAM)
    (plain.project / "chart.tgz").write_bytes(chart.read_bytes())
    plain.init("plain")
    for key, value in settings.items():
        plain.run("config", "set", key, "--stack", "plain", input=value)
    return plain


def helm_install(cluster: LocalCluster, chart: Path, name: str) -> None:
    import helm_python

    config = helm_python.Config(kubeconfig_path=str(cluster.kubeconfig), namespace=name)
    try:
        config.install(
            str(chart), name, {}, namespace=name, create_namespace=True, wait="watcher", timeout=300
        )
    finally:
        config.close()


if __name__ == "__main__":
    main()
