"""Helpers for the real-cluster tier (tests/e2e): stack inputs, reads of the local cluster,
this package's command line, bounded waits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from localcluster import LocalCluster
from localcluster.engine import Engine


def manifest(name: str, namespace: str, version: str, **spec: Any) -> dict[str, Any]:
    """A stack input as project-planton sends it (the credentials: the ambient KUBECONFIG)."""
    helm = {"version": version, **spec.pop("helm", {})}
    return {
        "target": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": name, **spec.pop("metadata", {})},
            "spec": {"namespace": namespace, "helm": helm, **spec},
        }
    }


def new_stack(engine: Engine, stack: str, document: dict[str, Any]) -> Engine:
    """A stack of its own, its input set and its first `up` done."""
    engine.init(stack)
    engine.set_input(stack, document)
    engine.up(stack)
    return engine


def target_file(tmp: Path, document: dict[str, Any]) -> Path:
    path = tmp / f"{document['target']['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(document["target"]))
    return path


def cli(engine: Engine, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """This package's command line, as a user runs it, against the local cluster."""
    command = [str(Path(sys.prefix) / "bin" / "percona-pg-operator"), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=engine.env(), check=False
    )


def bind_cluster_role(cluster: LocalCluster, user: str, role: str, name: str) -> None:
    """A ClusterRoleBinding ``name`` that gives the token user ``user`` the ClusterRole ``role``."""
    binding = {
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": user}],
    }
    cluster.request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding)


def get(cluster: LocalCluster, path: str) -> Any:
    return cluster.request("GET", path)


def exists(cluster: LocalCluster, path: str) -> bool:
    import urllib.error

    try:
        cluster.request("GET", path)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def helm_releases(cluster: LocalCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    """Helm's release records (its Secrets), oldest first, with their status label."""
    selector = f"owner=helm,name={name}"
    listed = get(cluster, f"/api/v1/namespaces/{namespace}/secrets?labelSelector={selector}")
    records = [
        {
            "revision": int(item["metadata"]["labels"]["version"]),
            "status": item["metadata"]["labels"]["status"],
        }
        for item in listed["items"]
    ]
    return sorted(records, key=lambda r: r["revision"])


def wait_for(
    what: str, condition: Callable[[], bool], timeout: float = 120, poll: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def state_fingerprint(engine: Engine, stack: str) -> dict[str, Any]:
    """Each resource in the stack's state by URN, with its inputs and outputs."""
    return {
        r["urn"]: json.dumps([r.get("inputs"), r.get("outputs")], sort_keys=True)
        for r in engine.resources(stack)
    }


def wait_for_release(
    cluster: LocalCluster, namespace: str, name: str, revision: int, status: str
) -> None:
    """Until Helm's record of ``revision`` has ``status`` (a scenario's cue to step in)."""
    wait_for(
        f"revision {revision} of {namespace}/{name} {status}",
        lambda: {"revision": revision, "status": status} in helm_releases(cluster, namespace, name),
        timeout=300,
        poll=0.2,
    )


def percona_pg_cluster(name: str, namespace: str, cr_version: str = "2.9.0") -> dict[str, Any]:
    """A small PerconaPGCluster (one instance, pgBouncer, one pgBackRest repo) of chart
    ``cr_version``'s CRD, as a user would apply it."""

    def claim() -> dict[str, Any]:
        return {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        }

    return {
        "apiVersion": "pgv2.percona.com/v2",
        "kind": "PerconaPGCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "crVersion": cr_version,
            "postgresVersion": 17,
            "instances": [{"name": "instance1", "replicas": 1, "dataVolumeClaimSpec": claim()}],
            "proxy": {"pgBouncer": {"replicas": 1}},
            "backups": {
                "pgbackrest": {"repos": [{"name": "repo1", "volume": {"volumeClaimSpec": claim()}}]}
            },
        },
    }


def pulumi_in(
    engine: Engine,
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """The toolchain's `pulumi ARGS` in another project folder than the engine's own, with the
    engine's environment; it must succeed."""
    done = subprocess.run(
        [str(engine.bin_dir / "pulumi"), *args, "--non-interactive", "--cwd", str(project)],
        input=stdin, capture_output=True, text=True, timeout=timeout,
        env=engine.env(**(env or {})), check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"pulumi {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done
