"""``python -m tests.localcluster up [DIR]`` starts the local cluster and prints its kubeconfig
path (the processes keep running); ``python -m tests.localcluster down [DIR]`` stops it.

DIR defaults to ``$TMPDIR/percona-pg-operator-cluster``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import LocalCluster, ToolchainMissing, stop_detached, toolchain_bin

DEFAULT_DIR = Path(tempfile.gettempdir()) / "percona-pg-operator-cluster"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.localcluster")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    workdir: Path = args.dir.resolve()
    if args.command == "down":
        stopped = stop_detached(workdir)
        print(f"stopped: {', '.join(stopped)}" if stopped else f"nothing running in {workdir}")
        return 0
    if (workdir / "state.json").is_file():
        print(f"already running in {workdir}: python -m tests.localcluster down {workdir}")
        return 1
    cluster = LocalCluster(workdir, toolchain_bin(), detach=True)
    try:
        cluster.start()
    except (ToolchainMissing, TimeoutError, RuntimeError) as exc:
        cluster.stop()
        print(f"cannot start the local cluster: {exc}", file=sys.stderr)
        return 1
    except BaseException:
        cluster.stop()
        raise
    print(cluster.kubeconfig)
    print(f"export KUBECONFIG={cluster.kubeconfig}", file=sys.stderr)
    # The children were started in their own sessions and are not waited for.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
