"""The fleet: its file, its waves, and the rollout against a scripted runner (no Pulumi here)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import manifest
from pydantic import ValidationError

from percona_pg_operator.checks.preflight import StackState
from percona_pg_operator.errors import OutputFileError, StackInputError
from percona_pg_operator.fleet import (
    ClusterRun,
    FleetCluster,
    Health,
    Rollout,
    RolloutState,
    StartDecision,
    load_fleet,
)

FLEET = {"apiVersion": "fleet.percona-pg-operator.io/v1", "kind": "PerconaPostgresOperatorFleet"}


def fleet_file(tmp_path: Path, clusters: list[dict[str, Any]], **extra: Any) -> Path:
    doc = {
        **FLEET,
        "manifest": manifest(helm={"version": "3.0.0", "manageCrds": False}),
        "clusters": clusters,
        **extra,
    }
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def clusters(count: int, **labels_by_index: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"name": f"c{i}", "stack": f"stack-{i}", "labels": labels_by_index.get(f"c{i}", {})}
        for i in range(count)
    ]


# -- the fleet file ------------------------------------------------------------------------------


def test_a_fleet_of_thousands_with_their_kubeconfigs_inline_loads(tmp_path: Path) -> None:
    """The bounds scale with the clusters: 1,500 inline kubeconfigs are beyond a manifest's 1 MiB
    and well within a fleet's."""

    def config(i: int) -> dict[str, Any]:
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "c", "cluster": {"server": f"https://10.0.{i // 250}.{i % 250}"}}
            ],
            "users": [{"name": "u", "user": {"token": f"{i:04d}" * 400}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
        }
        return {"provider": "kubeconfig", "kubeconfig": {"content": yaml.safe_dump(kubeconfig)}}

    entries = [
        {"name": f"c{i}", "stack": f"s-{i}", "providerConfig": config(i)} for i in range(1500)
    ]
    path = fleet_file(tmp_path, entries)
    assert path.stat().st_size > 2 << 20
    assert len(load_fleet(path).clusters) == 1500


def test_a_fleet_beyond_its_bounds_is_refused_naming_them(tmp_path: Path) -> None:
    from percona_pg_operator.fleet._model import MAX_CLUSTERS

    with pytest.raises(StackInputError) as info:
        load_fleet(fleet_file(tmp_path, clusters(MAX_CLUSTERS + 1)))
    assert f"more than {MAX_CLUSTERS} items" in str(info.value) or str(MAX_CLUSTERS) in str(
        [p.message for p in info.value.problems]
    )


def test_default_waves_are_a_canary_then_the_rest(tmp_path: Path) -> None:
    plan = load_fleet(fleet_file(tmp_path, clusters(4)))
    assert [(w.name, [c.name for c in w.clusters]) for w in plan.waves] == [
        ("canary", ["c0"]),
        ("rest", ["c1", "c2", "c3"]),
    ]
    assert plan.clusters[0].target_version == "3.0.0"


def test_waves_select_by_name_or_labels_first_match_wins(tmp_path: Path) -> None:
    waves = [
        {"name": "dev", "select": {"labels": {"env": "dev"}}},
        {"name": "eu", "select": {"labels": {"region": "eu"}}, "maxConcurrent": 2},
        {"name": "last", "select": {"names": ["c3"]}},
    ]
    members = clusters(
        4,
        c0={"env": "dev", "region": "eu"},
        c1={"env": "prod", "region": "eu"},
        c2={"env": "prod", "region": "eu"},
    )
    plan = load_fleet(fleet_file(tmp_path, members, rollout={"waves": waves}))
    assert [(w.name, [c.name for c in w.clusters]) for w in plan.waves] == [
        ("dev", ["c0"]),
        ("eu", ["c1", "c2"]),
        ("last", ["c3"]),
    ]


def test_per_cluster_overrides_and_stack_input_files(tmp_path: Path) -> None:
    (tmp_path / "c1.yaml").write_text(yaml.safe_dump(manifest(namespace="from-file")))
    members = [
        {"name": "c0", "stack": "s0", "overrides": {"spec": {"namespace": "team-a"}}},
        {"name": "c1", "stack": "s1", "stackInputFile": "c1.yaml"},
    ]
    plan = load_fleet(fleet_file(tmp_path, members))
    assert [c.stack_input.target.spec.namespace for c in plan.clusters] == ["team-a", "from-file"]
    assert plan.clusters[0].stack_input.target.spec.helm.version == "3.0.0"


@pytest.mark.parametrize(
    ("members", "extra", "fragment"),
    [
        ([{"name": "c0", "stack": "s", "colour": "blue"}], {}, "clusters[0].colour: unknown field"),
        ([{"name": "C_0", "stack": "s"}], {}, "clusters[0].name: must be a DNS-1123 label"),
        (
            [{"name": "c0", "stack": "s"}, {"name": "c0", "stack": "t"}],
            {},
            "two clusters have the name 'c0'",
        ),
        (
            [{"name": "c0", "stack": "s", "overrides": {"spec": {"namespace": "Bad_NS"}}}],
            {},
            "clusters[0] (c0): target.spec.namespace",
        ),
        (
            clusters(2),
            {"rollout": {"waves": [{"name": "w", "select": {"names": ["c0", "zz"]}}]}},
            "no cluster named 'zz'",
        ),
        (
            clusters(2),
            {"rollout": {"waves": [{"name": "w", "select": {"names": ["c0"]}}]}},
            "cluster 'c1' is in no wave",
        ),
        (
            clusters(1),
            {
                "rollout": {
                    "waves": [{"name": "w", "select": {"names": ["c0"]}, "failureBudget": "200%"}]
                }
            },
            "failureBudget: must be a count (0 or more) or a percent from 0% to 100%",
        ),
    ],
)
def test_bad_fleet_files_name_every_problem(
    tmp_path: Path, members: list[dict[str, Any]], extra: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(StackInputError) as info:
        load_fleet(fleet_file(tmp_path, members, **extra))
    assert fragment in str(info.value)


# -- the rollout against a scripted runner -------------------------------------------------------


class ScriptedRunner:
    """Outcomes and timings per cluster; counts what ran and how many ran at once."""

    def __init__(self, script: dict[str, dict[str, Any]] | None = None) -> None:
        self.script = script or {}
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.destroyed: list[str] = []
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def _step(self, cluster: FleetCluster) -> dict[str, Any]:
        return self.script.get(cluster.name, {})

    def last_outputs(self, cluster: FleetCluster) -> StackState:
        """The outputs the script gives the cluster's stack (none: never deployed)."""
        return StackState.from_outputs(self._step(cluster).get("outputs", {}))

    def preflight(self, cluster: FleetCluster) -> StartDecision:
        step = self._step(cluster)
        if step.get("interrupt"):
            raise KeyboardInterrupt
        if step.get("refuse"):
            return StartDecision(False, "2.9.0", "release: pending-upgrade")
        return StartDecision(True, step.get("running", "2.9.0"))

    def up(self, cluster: FleetCluster, log: Path, cancelled: threading.Event) -> None:
        step = self._step(cluster)
        with self.lock:
            self.started.append(cluster.name)
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(f"updating {cluster.name}\n")
            if step.get("block"):
                while not cancelled.is_set():
                    time.sleep(0.01)
                raise RuntimeError("update cancelled")
            time.sleep(step.get("seconds", 0.05))
            if step.get("fail"):
                raise RuntimeError(f"error: update of {cluster.name} failed\nreason: boom")
        finally:
            with self.lock:
                self.running -= 1

    def cancel(self, cluster: FleetCluster) -> None:
        self.cancelled.append(cluster.name)

    def preview(self, cluster: FleetCluster, log: Path) -> dict[str, int]:
        if self._step(cluster).get("fail"):
            raise RuntimeError(f"error: preview of {cluster.name} failed")
        return {"same": 14}

    def health(self, cluster: FleetCluster) -> Health:
        step = self._step(cluster)
        ok = not step.get("unhealthy")
        return Health(ok, step.get("running", "3.0.0"), "" if ok else "operator not ready")

    def destroy(self, cluster: FleetCluster, log: Path) -> None:
        with self.lock:
            self.destroyed.append(cluster.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(f"destroying {cluster.name}\n")
        if self._step(cluster).get("fail_destroy"):
            raise RuntimeError(f"error: destroy of {cluster.name} failed\nreason: in use")


def rollout(tmp_path: Path, runner: ScriptedRunner, **options: Any) -> Rollout:
    soaks: list[float] = []
    return Rollout(
        runner=runner,
        state_file=tmp_path / "state.json",
        log_dir=tmp_path / "logs",
        sleep=soaks.append,
        **options,
    )


def plan(tmp_path: Path, count: int, waves: list[dict[str, Any]] | None = None) -> Any:
    extra = {"rollout": {"waves": waves}} if waves else {}
    return load_fleet(fleet_file(tmp_path, clusters(count), **extra)).waves


def results(report: Any) -> dict[str, str]:
    return {r.cluster: r.result for r in report.runs}


def test_every_wave_in_order_with_logs_and_state(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    report = rollout(tmp_path, runner).run(plan(tmp_path, 3))
    assert not report.failed
    assert runner.started[0] == "c0", "the canary first"
    assert results(report) == {"c0": "succeeded", "c1": "succeeded", "c2": "succeeded"}
    assert (tmp_path / "logs" / "c1.log").read_text() == "updating c1\n"
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["runs"]["c2"]["result"] == "succeeded"
    assert (
        saved["runs"]["c2"]["running_version"] == "2.9.0"
        and saved["runs"]["c2"]["target_version"] == "3.0.0"
    )


def test_concurrency_is_bounded_per_wave(tmp_path: Path) -> None:
    runner = ScriptedRunner({f"c{i}": {"seconds": 0.15} for i in range(8)})
    waves = [{"name": "all", "select": {"names": [f"c{i}" for i in range(8)]}, "maxConcurrent": 3}]
    report = rollout(tmp_path, runner).run(plan(tmp_path, 8, waves))
    assert not report.failed
    assert runner.most == 3


def test_a_failure_budget_stops_the_rollout_and_nothing_new_starts(tmp_path: Path) -> None:
    script = {"c1": {"fail": True}, "c2": {"fail": True}}
    waves = [
        {"name": "first", "select": {"names": ["c0", "c1", "c2", "c3", "c4"]}, "failureBudget": 1},
        {"name": "second", "select": {"names": ["c5"]}},
    ]
    runner = ScriptedRunner(script)
    report = rollout(tmp_path, runner).run(plan(tmp_path, 6, waves))
    assert report.failed
    assert report.stopped == "wave first: 2 failed, more than its budget of 1"
    assert results(report) == {
        "c0": "succeeded",
        "c1": "failed",
        "c2": "failed",
        "c3": "not-started",
        "c4": "not-started",
        "c5": "not-started",
    }
    assert "c5" not in runner.started
    failed = next(r for r in report.runs if r.cluster == "c1")
    assert failed.error == "reason: boom"


def test_a_percent_budget(tmp_path: Path) -> None:
    script = {"c1": {"fail": True}}
    waves = [
        {"name": "w", "select": {"names": [f"c{i}" for i in range(10)]}, "failureBudget": "10%"}
    ]
    report = rollout(tmp_path, ScriptedRunner(script)).run(plan(tmp_path, 10, waves))
    assert report.stopped == "" and report.failed, "1 of 10 is within 10%, but it failed"
    assert list(results(report).values()).count("succeeded") == 9


def test_refused_clusters_never_start_and_count_against_the_budget(tmp_path: Path) -> None:
    runner = ScriptedRunner({"c1": {"refuse": True}})
    report = rollout(tmp_path, runner).run(plan(tmp_path, 3))
    assert "c1" not in runner.started
    refused = next(r for r in report.runs if r.cluster == "c1")
    assert (refused.result, refused.error) == ("refused", "release: pending-upgrade")
    assert report.stopped == "wave rest: 1 failed, more than its budget of 0"


def test_soak_then_the_health_gate(tmp_path: Path) -> None:
    soaks: list[float] = []
    waves = [
        {"name": "one", "select": {"names": ["c0"]}, "soakSeconds": 300},
        {"name": "two", "select": {"names": ["c1"]}},
    ]
    runner = ScriptedRunner({"c0": {"unhealthy": True}})
    run = Rollout(runner, tmp_path / "s.json", tmp_path / "logs", sleep=soaks.append)
    report = run.run(plan(tmp_path, 2, waves))
    assert soaks == [300]
    assert report.stopped == "wave one: the health gate failed for c0"
    assert results(report) == {"c0": "unhealthy", "c1": "not-started"}


def test_resume_continues_after_a_stop(tmp_path: Path) -> None:
    waves = plan(tmp_path, 4)
    first = rollout(tmp_path, ScriptedRunner({"c2": {"fail": True}})).run(waves)
    assert results(first)["c2"] == "failed"
    runner = ScriptedRunner()
    second = rollout(tmp_path, runner, resume=True).run(waves)
    assert not second.failed
    assert sorted(runner.started) == ["c2"] + (
        ["c3"] if results(first)["c3"] != "succeeded" else []
    )
    assert set(results(second).values()) == {"succeeded"}


def test_idempotent_a_cluster_at_the_target_and_healthy_is_skipped(tmp_path: Path) -> None:
    runner = ScriptedRunner({"c0": {"running": "3.0.0"}})
    report = rollout(tmp_path, runner).run(plan(tmp_path, 2))
    assert results(report)["c0"] == "skipped" and "c0" not in runner.started
    (skipped,) = [run for run in report.runs if run.cluster == "c0"]
    assert (skipped.error, skipped.reason) == ("", "at the target and healthy")
    forced = ScriptedRunner({"c0": {"running": "3.0.0"}})
    rollout(tmp_path, forced, force=True).run(plan(tmp_path, 2))
    assert "c0" in forced.started


def test_destroy_goes_in_reverse_wave_order_and_records_each_cluster(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    waves = [
        {"name": "one", "select": {"names": ["c0"]}},
        {"name": "two", "select": {"names": ["c1", "c2"]}},
    ]
    report = rollout(tmp_path, runner).destroy(plan(tmp_path, 3, waves))
    assert runner.destroyed == ["c2", "c1", "c0"]
    assert results(report) == {"c0": "destroyed", "c1": "destroyed", "c2": "destroyed"}
    assert not report.failed
    state = RolloutState.load(tmp_path / "state.json")
    assert {name: run.result for name, run in state.runs.items()} == results(report)
    assert (tmp_path / "logs" / "c1.destroy.log").read_text() == "destroying c1\n"


def test_a_destroy_row_reads_from_what_ran_to_none(tmp_path: Path) -> None:
    """Seen on the local cluster: a destroy showed `none -> 2.9.0`, the row of an install.
    What the state says ran (its last successful run) -> none."""
    runner = ScriptedRunner()
    rollout(tmp_path, runner).run(plan(tmp_path, 2))
    RolloutState(
        {
            **RolloutState.load(tmp_path / "state.json").runs,
            "c1": ClusterRun("c1", "s1", "w", "2.8.2", "2.9.0", "failed"),
        }
    ).save(tmp_path / "state.json")
    report = rollout(tmp_path, ScriptedRunner()).destroy(plan(tmp_path, 2))
    versions = {r.cluster: (r.running_version, r.target_version) for r in report.runs}
    target = plan(tmp_path, 2)[0].clusters[0].target_version
    assert versions == {"c0": (target, "none"), "c1": (None, "none")}


def test_destroy_stops_at_the_first_failure_and_can_pick_clusters(tmp_path: Path) -> None:
    runner = ScriptedRunner({"c2": {"fail_destroy": True}})
    report = rollout(tmp_path, runner).destroy(plan(tmp_path, 3))
    assert runner.destroyed == ["c2"]
    assert results(report) == {"c2": "failed", "c1": "not-started", "c0": "not-started"}
    assert report.failed and report.stopped == "the destroy of c2 failed"
    assert "in use" in next(r.error for r in report.runs if r.cluster == "c2")
    picked = ScriptedRunner()
    rollout(tmp_path, picked).destroy(plan(tmp_path, 3), only=["c0"])
    assert picked.destroyed == ["c0"]
    with pytest.raises(StackInputError, match="no cluster 'c9'"):
        rollout(tmp_path, picked).destroy(plan(tmp_path, 3), only=["c9"])


def test_manual_promotion_waits_for_a_yes(tmp_path: Path) -> None:
    waves = [
        {"name": "one", "select": {"names": ["c0"]}},
        {"name": "two", "select": {"names": ["c1"]}, "promotion": "manual"},
    ]
    runner = ScriptedRunner()
    report = rollout(tmp_path, runner, confirm=lambda _q: False).run(plan(tmp_path, 2, waves))
    assert report.stopped == "waiting for promotion to wave two"
    assert runner.started == ["c0"]
    yes = ScriptedRunner()
    resumed = rollout(tmp_path, yes, resume=True, confirm=lambda _q: True).run(
        plan(tmp_path, 2, waves)
    )
    assert yes.started == ["c1"] and not resumed.failed


def test_ctrl_c_stops_starting_and_cancels_the_running_updates(tmp_path: Path) -> None:
    script = {"c1": {"block": True}, "c2": {"interrupt": True}}
    waves = [{"name": "w", "select": {"names": ["c0", "c1", "c2", "c3"]}, "maxConcurrent": 2}]
    runner = ScriptedRunner(script)
    report = rollout(tmp_path, runner).run(plan(tmp_path, 4, waves))
    assert runner.cancelled == ["c1"]
    assert report.stopped.startswith("cancelled (Ctrl-C)")
    assert results(report) == {
        "c0": "succeeded",
        "c1": "cancelled",
        "c2": "not-started",
        "c3": "not-started",
    }
    saved = RolloutState.load(tmp_path / "state.json")
    assert saved.runs["c1"].result == "cancelled"


def test_one_wave_only(tmp_path: Path) -> None:
    runner = ScriptedRunner()
    rollout(tmp_path, runner).run(plan(tmp_path, 3), only="rest")
    assert sorted(runner.started) == ["c1", "c2"]
    with pytest.raises(StackInputError, match="no wave 'nope'"):
        rollout(tmp_path, runner).run(plan(tmp_path, 3), only="nope")


def test_a_broken_state_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{not json")
    with pytest.raises(StackInputError, match="not a rollout state file"):
        rollout(tmp_path, ScriptedRunner(), resume=True).run(plan(tmp_path, 1))


# The shape of an Automation API CommandError for a failed `pulumi up`, as the real engine
# printed it for a release whose operator never became Available (trimmed).
FAILED_UP = """
 code: 1
 stdout: Updating (fleet-b):
 +  pulumi:pulumi:Stack percona-pg-operator-fleet-b creating (0s)
Diagnostics:
  pulumi:pulumi:Stack (percona-pg-operator-fleet-b):
    warning: using pulumi-resource-kubernetes from $PATH at /opt/bin/pulumi-resource-kubernetes
    error: update failed

    Traceback (most recent call last):
    KeyboardInterrupt

  kubernetes:helm.sh/v3:Release (pg-fleet-release):
    error: {helm_error}

Resources:
    + 13 created
    2 errored

 stderr:
""".format(
    helm_error="release pg-fleet failed, and has been uninstalled due to atomic being set: "
    "context deadline exceeded"
)


def test_a_failed_up_is_reported_with_its_reason_not_its_last_line() -> None:
    from percona_pg_operator.deploy.automation import failure_reason

    assert failure_reason(FAILED_UP) == (
        "kubernetes:helm.sh/v3:Release (pg-fleet-release): release pg-fleet failed, and has "
        "been uninstalled due to atomic being set: context deadline exceeded"
    )
    assert failure_reason(" code: 1\n stdout: \n stderr: \n") == "see the stack's log"
    assert len(failure_reason(FAILED_UP.replace("deadline", "x" * 900))) == 500


# -- the committed JSON Schema says what the loader accepts -------------------------------------

_BASE_FLEET: dict[str, Any] = {
    "apiVersion": "fleet.percona-pg-operator.io/v1",
    "kind": "PerconaPostgresOperatorFleet",
    "clusters": [{"name": "c0", "stack": "s0"}],
    "rollout": {"waves": [{"name": "w", "select": {"names": ["c0"]}}]},
}


def _probe(where: str, value: Any) -> dict[str, Any]:
    import copy

    doc = copy.deepcopy(_BASE_FLEET)
    target: Any = doc
    *parents, key = where.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[key] = value
    return doc


SCHEMA_PROBES = [
    *(("rollout.waves.0.failureBudget", v) for v in
      ("150%", -1, "10%", 3, True, "abc", "0%", "100%", "101%", "07%", 2.5, None)),
    *(("rollout.waves.0.maxConcurrent", v) for v in (True, 0, 101, "2", 100, 1.0)),
    *(("rollout.waves.0.soakSeconds", v) for v in (-1, "5", 86401, 0, False)),
    *(("rollout.waves.0.promotion", v) for v in ("manual", "Manual", 1)),
    *(("rollout.waves.0.name", v) for v in ("", "Bad Name", "w2", "x" * 64)),
    *(("clusters.0.stack", v) for v in
      ("", "a\nb", "..", ".hidden", "org/proj/stack", "a/b/c/d", "ok-1.2_x", " s", "a/../b")),
    *(("clusters.0.name", v) for v in ("A", "a_b", "a" * 64, "ok", "-a", 7)),
    *(("clusters.0.labels", v) for v in ({"env": "x" * 64}, {"env": "prod"}, {"env": 1})),
    *(("clusters.0.stackInputFile", v) for v in ("", 5)),
    *(("rollout.healthGate", v) for v in ({"operatorReady": "yes"}, {"operatorReady": False})),
    *(("rollout.waves.0.select", v) for v in
      ({"names": ["c0"], "labels": {"a": "b"}}, {"names": []}, {"labels": {}}, {},
       {"labels": {"env": "dev"}})),
    ("rollout.waves.0.unknown", 1),
    ("clusters", []),
    ("kind", "Fleet"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "value"), SCHEMA_PROBES)
def test_the_schema_and_the_loader_agree(where: str, value: Any) -> None:
    import jsonschema
    from conftest import ROOT

    from percona_pg_operator.fleet import Fleet

    schema = json.loads((ROOT / "schema" / "fleet.schema.json").read_text())
    doc = _probe(where, value)
    schema_ok = jsonschema.Draft202012Validator(schema).is_valid(doc)
    try:
        Fleet.model_validate(doc)
        loader_ok = True
    except ValidationError:
        loader_ok = False
    assert schema_ok == loader_ok, f"{where}={value!r}: schema {schema_ok}, loader {loader_ok}"


@pytest.mark.parametrize(
    ("waves", "fragment"),
    [
        (
            [
                {"name": "a", "select": {"names": ["c0"]}},
                {"name": "b", "select": {"labels": {"env": "none"}}},
            ],
            "wave 'b' selects no cluster",
        ),
        (
            [
                {"name": "a", "select": {"names": ["c0", "c1"]}},
                {"name": "b", "select": {"names": ["c1"]}},
            ],
            "cluster 'c1' is already in wave 'a'",
        ),
        (
            [
                {"name": "a", "select": {"labels": {"env": "dev"}}},
                {"name": "b", "select": {"labels": {"env": "dev"}}},
                {"name": "c", "select": {"names": ["c1"]}},
            ],
            "wave 'b' gets no cluster",
        ),
    ],
)
def test_what_the_schema_cannot_say_the_loader_refuses(
    tmp_path: Path, waves: list[dict[str, Any]], fragment: str
) -> None:
    members = clusters(2, c0={"env": "dev"})
    with pytest.raises(StackInputError, match=fragment):
        load_fleet(fleet_file(tmp_path, members, rollout={"waves": waves}))


def test_a_relative_kubeconfig_path_is_relative_to_the_fleet_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import kubeconfig_text

    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "c0.yaml").write_text(kubeconfig_text())
    members = [
        {
            "name": "c0",
            "stack": "s0",
            "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"path": "kube/c0.yaml"}},
        }
    ]
    path = fleet_file(tmp_path, members)
    monkeypatch.chdir("/")
    plan = load_fleet(path)
    config = plan.clusters[0].stack_input.provider_config
    assert config is not None and config.kubeconfig is not None
    assert config.kubeconfig.path == str(tmp_path / "kube" / "c0.yaml")


def test_fleet_errors_never_echo_credentials(tmp_path: Path) -> None:
    secret = "sUp3r-s3cret-token-value"
    members = [
        {
            "name": "c0",
            "stack": "s0",
            "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": secret}},
        }
    ]
    with pytest.raises(StackInputError) as info:
        load_fleet(fleet_file(tmp_path, members))
    assert "providerConfig" in str(info.value)
    assert secret not in str(info.value)


# -- the fleet never loses a result ------------------------------------------------------------


class BrokenRunner(ScriptedRunner):
    """The Automation API failing in the preflight (creating the stack), or the cluster going
    unreadable for the health gate."""

    def preflight(self, cluster: FleetCluster) -> StartDecision:
        if self._step(cluster).get("automation_error"):
            raise RuntimeError("CommandError: code: 255\nstderr: error: could not create stack")
        return super().preflight(cluster)

    def health(self, cluster: FleetCluster) -> Health:
        if self._step(cluster).get("unreadable"):
            from percona_pg_operator.errors import ClusterUnreachableError

            raise ClusterUnreachableError("no answer from the API server at https://x")
        return super().health(cluster)


def test_an_automation_api_error_is_that_clusters_failure(tmp_path: Path) -> None:
    waves = [{"name": "all", "select": {"names": ["c0", "c1", "c2"]}, "failureBudget": 1}]
    runner = BrokenRunner({"c1": {"automation_error": True}})
    report = rollout(tmp_path, runner).run(plan(tmp_path, 3, waves))
    assert results(report) == {"c0": "succeeded", "c1": "failed", "c2": "succeeded"}
    failed = next(r for r in report.runs if r.cluster == "c1")
    assert (
        "the preflight could not run" in failed.error and "could not create stack" in failed.error
    )


def test_an_unreadable_cluster_at_the_health_gate_is_unhealthy(tmp_path: Path) -> None:
    runner = BrokenRunner({"c0": {"unreadable": True}})
    report = rollout(tmp_path, runner).run(plan(tmp_path, 2))
    assert results(report) == {"c0": "unhealthy", "c1": "not-started"}
    assert "the health gate failed for c0" in report.stopped
    assert "no answer from the API server" in report.runs[0].error


def test_resume_refuses_another_fleets_state(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = rollout(tmp_path, ScriptedRunner())
    first.run(plan(tmp_path / "one", 3))
    other = load_fleet(fleet_file(tmp_path / "two", clusters(2))).waves  # other clusters
    runner = ScriptedRunner()
    with pytest.raises(StackInputError, match="is the state of another rollout"):
        rollout(tmp_path, runner, resume=True).run(other)
    assert runner.started == []


def test_resume_runs_a_cluster_again_when_its_target_changed(tmp_path: Path) -> None:
    from percona_pg_operator.fleet._rollout import RolloutState

    waves = plan(tmp_path, 2)
    rollout(tmp_path, ScriptedRunner()).run(waves)
    state = RolloutState.load(tmp_path / "state.json")
    state.runs["c1"].target_version = "2.9.0"  # c1 was rolled out to another version back then
    state.save(tmp_path / "state.json")
    runner = ScriptedRunner()
    rollout(tmp_path, runner, resume=True).run(waves)
    assert runner.started == ["c1"]


def test_a_state_file_written_by_0_1_0_is_read(tmp_path: Path) -> None:
    """0.1.0 named the versions from_version/to_version; resuming such a rollout still works."""
    from percona_pg_operator.fleet._rollout import RolloutState

    path = tmp_path / "state.json"
    run = {"cluster": "c0", "stack": "s", "wave": "w", "result": "succeeded"}
    path.write_text(
        json.dumps({"runs": {"c0": {**run, "from_version": "2.8.2", "to_version": "2.9.0"}}})
    )
    saved = RolloutState.load(path).runs["c0"]
    assert (saved.running_version, saved.target_version) == ("2.8.2", "2.9.0")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("fifo", "is not a regular file"),
        ("/dev/zero", "is not a regular file"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
        ('{"runs": {"c0": {"cluster": 1}}}', "runs.c0.cluster: must be a string"),
        ('{"runs": {"c0": {"cluster": "c0", "stack": "s", "wave": "w", "running_version": null, '
         '"target_version": "3.0.0", "result": "won"}}}', "runs.c0.result: must be one of"),
        ('{"runs": []}', "no runs object"),
        ("x" * (17 << 20), "is larger than"),
    ],
)  # fmt: skip
def test_a_bad_state_file_is_refused_quickly(tmp_path: Path, content: str, fragment: str) -> None:
    import os

    from percona_pg_operator.fleet._rollout import RolloutState

    path = tmp_path / "state.json"
    if content == "fifo":
        os.mkfifo(path)
    elif content.startswith("/dev/"):
        path = Path(content)
    else:
        path.write_text(content)
    started = time.monotonic()
    with pytest.raises(StackInputError) as info:
        RolloutState.load(path)
    assert time.monotonic() - started < 5
    assert fragment in str(info.value)


def test_an_unwritable_state_file_stops_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")  # a folder that is a file: unwritable even for root
    runner = ScriptedRunner()
    run = Rollout(runner, tmp_path / "a-file" / "state.json", tmp_path / "logs")
    with pytest.raises(OutputFileError, match="cannot be written"):
        run.run(plan(tmp_path, 2))
    assert runner.started == []


@pytest.mark.parametrize("linked", ["workspace", "logs"])
def test_the_fleet_never_writes_through_a_link_out_of_its_folder(
    tmp_path: Path, linked: str
) -> None:
    """A workspace or the logs folder under .fleet that is a link elsewhere is refused, and
    what it points at stays as it was."""
    from percona_pg_operator.errors import FleetError
    from percona_pg_operator.fleet._runner import AutomationRunner, _log_file

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Pulumi.yaml").write_text("theirs")
    (outside / "c0.log").write_text("theirs")
    fleet = tmp_path / ".fleet"
    (fleet / "workspaces").mkdir(parents=True)
    if linked == "workspace":
        (fleet / "workspaces" / "c0").symlink_to(outside, target_is_directory=True)
        runner = AutomationRunner.__new__(AutomationRunner)
        runner.work_root, runner.project = fleet / "workspaces", "p"
        cluster = load_fleet(fleet_file(tmp_path, clusters(1))).clusters[0]
        with pytest.raises(FleetError, match="leads out of"):
            runner._workspace(cluster)
    else:
        (fleet / "logs").symlink_to(outside, target_is_directory=True)
        with pytest.raises(FleetError, match="leads out of"):
            _log_file(fleet / "logs" / "c0.log")
    assert (outside / "Pulumi.yaml").read_text() == "theirs"
    assert (outside / "c0.log").read_text() == "theirs"


def test_a_marked_run_past_its_deadline_is_killed_with_all_it_started(tmp_path: Path) -> None:
    """The Automation API hands out no process: each process it starts for a stack carries
    the stack's marker in its environment, and past the deadline every one of them is killed
    (here a process that started a child, as `pulumi` starts its plugins)."""
    import os
    import subprocess
    import sys
    import time

    from percona_pg_operator._process import RUN_MARKER, marked_deadline

    pids = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    env = {**os.environ, RUN_MARKER: "test-token"}
    start = time.monotonic()
    with marked_deadline("test-token", 1.0) as expired:
        done = subprocess.run([sys.executable, "-c", script], env=env, check=False, timeout=30)
    assert expired() and done.returncode != 0
    assert time.monotonic() - start < 10
    child = int(pids.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the marked child outlived the deadline")
