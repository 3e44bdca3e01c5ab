"""`fleet up` for real on the local cluster: three stacks in three namespaces, one wave each; the
second wave's operator can never become Available (a nodeSelector no node matches), so the
rollout stops there: exit 7 (FAILED), the first succeeded, the second failed with the reason
(Helm's atomic wait, which sees it before the verification does), the third never started.
Then `fleet destroy` takes the fleet down, the last wave first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from localcluster import LocalCluster
from localcluster.engine import Engine

from percona_pg_operator.cli.exitcodes import ExitCode

pytestmark = pytest.mark.e2e


def _fleet(tmp_path: Path) -> Path:
    def cluster(name: str, **spec: object) -> dict[str, object]:
        return {
            "name": name,
            "stack": f"fleet-{name}",
            "overrides": {"spec": {"namespace": f"fleet-{name}", **spec}},
        }

    fleet = {
        "apiVersion": "fleet.percona-pg-operator.io/v1",
        "kind": "PerconaPostgresOperatorFleet",
        "manifest": {
            "apiVersion": "kubernetes.project-planton.org/v1",
            "kind": "KubernetesPerconaPostgresOperator",
            "metadata": {"name": "pg-fleet"},
            "spec": {
                "createNamespace": True,
                "helm": {"version": "2.9.0", "timeoutSeconds": 60},
                "verify": {"timeoutSeconds": 30, "pollSeconds": 2},
            },
        },
        "clusters": [
            cluster("a"),
            cluster("b", scheduling={"nodeSelector": {"percona-e2e/never": "true"}}),
            cluster("c"),
        ],
        "rollout": {
            "waves": [
                {"name": "first", "select": {"names": ["a"]}},
                {"name": "second", "select": {"names": ["b"]}},
                {"name": "third", "select": {"names": ["c"]}},
            ]
        },
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    return path


def test_a_failing_second_wave_stops_the_rollout(
    engine: Engine, local_cluster: LocalCluster, tmp_path: Path
) -> None:
    path = _fleet(tmp_path)
    report_file = tmp_path / "report.json"
    command = [
        str(Path(sys.prefix) / "bin" / "percona-pg-operator"),
        "fleet", "up", str(path), "--yes", "--report", str(report_file),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=tmp_path, env=engine.env(), capture_output=True, text=True, timeout=1200,
        check=False,
    )  # fmt: skip
    assert done.returncode == ExitCode.FAILED, done.stdout + done.stderr
    report = json.loads(report_file.read_text())
    results = {c["cluster"]: c["result"] for c in report["clusters"]}
    assert results == {"a": "succeeded", "b": "failed", "c": "not-started"}, report
    assert report["stopped"].startswith("wave second")
    failed = next(c for c in report["clusters"] if c["cluster"] == "b")
    # Helm's own wait (atomic) sees the Deployment never become Available before the
    # verification runs, and rolls the release back: that is the reason reported.
    assert "release pg-fleet failed" in failed["error"], failed
    assert "atomic" in failed["error"], failed
    namespaces = local_cluster.request("GET", "/api/v1/namespaces")["items"]
    assert "fleet-c" not in {n["metadata"]["name"] for n in namespaces}
    # `fleet preview -o json` of the same fleet after the stop: the stack that succeeded would
    # change nothing, the one never started would create everything.
    preview = subprocess.run(
        [command[0], "fleet", "preview", str(path), "-o", "json"], cwd=tmp_path,
        env=engine.env(), capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    document = json.loads(preview.stdout)
    assert document["schema_version"] == 1, preview.stderr
    rows = {row["cluster"]: row for row in document["clusters"]}
    assert rows["a"]["ok"] and set(rows["a"]["changes"]) == {"same"}, rows["a"]
    assert rows["c"]["ok"] and rows["c"]["changes"].get("create", 0) > 0, rows["c"]
    # `fleet destroy` takes the fleet down, the last wave first: every stack is destroyed (the
    # one never started had nothing to destroy); the releases go, the namespaces stay.
    destroyed_report = tmp_path / "destroyed.json"
    destroy = subprocess.run(
        [command[0], "fleet", "destroy", str(path), "--yes", "--report", str(destroyed_report)],
        cwd=tmp_path, env=engine.env(), capture_output=True, text=True, timeout=1200,
        check=False,
    )  # fmt: skip
    assert destroy.returncode == ExitCode.OK, destroy.stdout + destroy.stderr
    down = json.loads(destroyed_report.read_text())
    assert [(c["cluster"], c["result"]) for c in down["clusters"]] == [
        ("c", "destroyed"),
        ("b", "destroyed"),
        ("a", "destroyed"),
    ], down
    releases = local_cluster.request(
        "GET", "/api/v1/namespaces/fleet-a/secrets?labelSelector=owner%3Dhelm"
    )["items"]
    assert releases == []
    namespaces = local_cluster.request("GET", "/api/v1/namespaces")["items"]
    assert "fleet-a" in {n["metadata"]["name"] for n in namespaces}, "kept on destroy"
