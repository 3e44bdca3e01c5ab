"""Managed CRDs vs plain Helm: the cost of the Pulumi program under mocks, cold and warm cache.

Each run is a fresh Python process running the real program (``percona_pg_operator.program``)
under Pulumi's mocks, as `pulumi preview` starts the program afresh each time. The chart
repository is the vendored Percona fixture (tests/fixtures/helm-repo), served on 127.0.0.1.

- warm: the cache is filled once before timing, so no run downloads or parses YAML;
- cold: every managed run starts from an empty cache (download, verify, parse the CRDs).

    .venv/bin/python benchmarks/crd_overhead.py [--runs 7] [--version 3.0.0]

Prints, per mode, the median wall time of the whole process and of the program body alone
(after imports), and the managed/plain ratios. Goal: warm whole-process ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_REPO = ROOT / "tests" / "fixtures" / "helm-repo"

CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
import pulumi
from percona_pg_operator.program import run

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            state = {"name": args.name, "outputs": {}, "secretOutputNames": []}
        return args.name + "-id", state
    def call(self, args):
        return {}, None

pulumi.runtime.set_mocks(Mocks(), project="bench", stack="bench", preview=True)
t1 = time.perf_counter()
pulumi.runtime.test(run)()
t2 = time.perf_counter()
print(json.dumps({"body": t2 - t1, "imports": t1 - t0}))
"""


def stack_input(version: str, manage: bool) -> str:
    return json.dumps(
        {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": "bench"},
            "spec": {"helm": {"version": version, "manageCrds": manage}},
        }
    )


def one_run(env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"program run failed:\n{out.stderr[-3000:]}")
    return wall, json.loads(out.stdout.strip().splitlines()[-1])["body"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--version", default="3.0.0")
    args = parser.parse_args()
    if not (FIXTURE_REPO / "index.yaml").is_file():
        raise SystemExit(f"needs the Percona chart fixture repository at {FIXTURE_REPO}")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

    handler = partial(Quiet, directory=str(FIXTURE_REPO))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    repo = f"http://127.0.0.1:{server.server_address[1]}/"

    with tempfile.TemporaryDirectory() as cache:
        base = {
            **os.environ,
            "XDG_CACHE_HOME": cache,
            "PERCONA_PG_OPERATOR_CHART_REPO": repo,
            # No cluster here: this measures the CRDs' cost, not the live preflight's.
            "PERCONA_PG_OPERATOR_PREFLIGHT": "off",
        }
        base.pop("STACK_INPUT_YAML_FILE", None)
        modes = {"managed": True, "plain": False}
        envs = {
            m: {**base, "STACK_INPUT_YAML": stack_input(args.version, manage)}
            for m, manage in modes.items()
        }
        one_run(envs["managed"])  # fills the cache: download, verify, parse the CRDs once
        results: dict[str, list[tuple[float, float]]] = {m: [] for m in [*modes, "cold"]}
        for _ in range(args.runs):  # interleaved, so drift on the machine hits all alike
            for mode in modes:
                results[mode].append(one_run(envs[mode]))
            with tempfile.TemporaryDirectory() as empty:
                results["cold"].append(one_run({**envs["managed"], "XDG_CACHE_HOME": empty}))
    server.shutdown()

    med = {
        m: (statistics.median(w for w, _ in r), statistics.median(b for _, b in r))
        for m, r in results.items()
    }
    print(
        f"chart {args.version}, {args.runs} runs each, Python {sys.version.split()[0]}; "
        "managed and plain with a warm cache, cold = managed from an empty cache"
    )
    for mode, (wall, body) in med.items():
        print(
            f"{mode:8s} median process {wall * 1000:7.1f} ms   program body {body * 1000:6.1f} ms"
        )
    ratio = med["managed"][0] / med["plain"][0]
    print(
        f"ratio managed/plain: process {ratio:.2f}x (goal <= 1.30), "
        f"program body {med['managed'][1] / med['plain'][1]:.2f}x"
    )


if __name__ == "__main__":
    main()
