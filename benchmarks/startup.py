"""Start-up costs a user feels on every call: the credential plugin and `validate`.

- The kubeconfig exec plugin (``python -m percona_pg_operator credentials gke``) runs on every
  token refresh; it must not load pydantic, the models or the Pulumi SDK. Timed with ``--help``
  (imports and argument parsing, no network).
- ``percona-pg-operator validate`` of 100 manifests (the production example), one process.

    .venv/bin/python benchmarks/startup.py [--runs 7]

Prints the median wall time of each, and the modules of note the plugin loaded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pydantic", "pulumi", "pulumi_kubernetes", "percona_pg_operator.manifest", "yaml")


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{done.stderr[-2000:]}")
    return elapsed


def plugin_modules() -> list[str]:
    code = (
        "import sys\nfrom percona_pg_operator.cli import main\n"
        "try:\n    main(['credentials', 'gke', '--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted({{m.split('.')[0] if not m.startswith('percona') else m "
        f"for m in sys.modules if m.startswith({HEAVY!r})}}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(eval(done.stdout.strip().splitlines()[-1]))  # our own output: a list literal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    plugin = [sys.executable, "-m", "percona_pg_operator", "credentials", "gke", "--help"]
    bare = [sys.executable, "-c", "pass"]
    with tempfile.TemporaryDirectory() as folder:
        files = []
        for index in range(100):
            path = Path(folder) / f"m{index:03d}.yaml"
            shutil.copy(ROOT / "examples" / "production.yaml", path)
            files.append(str(path))
        validate = [sys.executable, "-m", "percona_pg_operator", "validate", *files]
        results: dict[str, list[float]] = {"python -c pass": [], "plugin": [], "validate": []}
        for _ in range(args.runs):
            results["python -c pass"].append(timed(bare))
            results["plugin"].append(timed(plugin))
            results["validate"].append(timed(validate))
    print(f"{args.runs} runs each, median wall time, Python {sys.version.split()[0]}")
    labels = {
        "python -c pass": "python -c pass (interpreter floor)",
        "plugin": "credentials gke --help (exec plugin)",
        "validate": "validate, 100 manifests",
    }
    for key, label in labels.items():
        print(f"  {label:38s} {statistics.median(results[key]) * 1000:7.1f} ms")
    print(f"  plugin loaded of {', '.join(HEAVY)}: {plugin_modules() or 'none'}")


if __name__ == "__main__":
    main()
