"""`upgrade-plan` against the four real chart packages: every pair, every fact checked against the
packages read here independently (tarfile + PyYAML + helm-python-sdk), not through plan.py."""

from __future__ import annotations

import itertools
import json
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import CHART_VERSIONS, FIXTURE_REPO

from percona_pg_operator.chart import ChartRepository
from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.errors import ChartRepositoryError, UpgradeGuardError
from percona_pg_operator.review.plan import upgrade_plan

pytestmark = pytest.mark.chart
PAIRS = [(a, b) for a, b in itertools.combinations(CHART_VERSIONS, 2)]
# Percona's path through the versions the fixture repository holds (one minor at a time).
PATHS = {
    ("2.7.0", "2.8.2"): ["2.8.2"],
    ("2.7.0", "2.9.0"): ["2.8.2", "2.9.0"],
    ("2.7.0", "3.0.0"): ["2.8.2", "2.9.0", "3.0.0"],
    ("2.8.2", "2.9.0"): ["2.9.0"],
    ("2.8.2", "3.0.0"): ["2.9.0", "3.0.0"],
    ("2.9.0", "3.0.0"): ["3.0.0"],
}


@cache
def package_file(version: str, member: str) -> bytes:
    with tarfile.open(FIXTURE_REPO / f"pg-operator-{version}.tgz") as archive:
        handle = archive.extractfile(f"pg-operator/{member}")
        assert handle is not None
        return handle.read()


@cache
def crds(version: str) -> dict[str, dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs = yaml.load_all(package_file(version, "crds/crd.yaml"), Loader=loader)
    return {d["metadata"]["name"]: d for d in docs if d and d["kind"] == "CustomResourceDefinition"}


def storage(crd: dict[str, Any]) -> dict[str, Any]:
    version: dict[str, Any] = next(v for v in crd["spec"]["versions"] if v["storage"])
    return version


def spec_fields(node: dict[str, Any], path: str = "spec") -> set[str]:
    """An independent walk: every property below spec, arrays passed through."""
    out: set[str] = set()
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if current.get("type") == "array":
            stack.append((current.get("items") or {}, where))
            continue
        for name, sub in (current.get("properties") or {}).items():
            out.add(f"{where}.{name}")
            stack.append((sub, f"{where}.{name}"))
    return out


def leaves(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    pending = [("", values)]
    while pending:
        prefix, node = pending.pop()
        for key, value in node.items():
            if isinstance(value, dict) and value:
                pending.append((f"{prefix}{key}.", value))
            else:
                out[f"{prefix}{key}"] = value
    return out


@cache
def rendered(version: str) -> list[dict[str, Any]]:
    import helm_python

    data = (FIXTURE_REPO / f"pg-operator-{version}.tgz").read_bytes()
    out = helm_python.Chart.load_archive(data).render({}, name="x", namespace="y", is_install=True)
    return [d for p, t in out.items() if p.endswith(".yaml") for d in yaml.safe_load_all(t) if d]


def rules(version: str) -> set[str]:
    role = next(o for o in rendered(version) if o["kind"] in ("Role", "ClusterRole"))
    return {
        f"{group or 'core'}/{resource}:{verb}"
        for rule in role["rules"]
        for group in rule.get("apiGroups", [""])
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def image(version: str) -> list[str]:
    deployment = next(o for o in rendered(version) if o["kind"] == "Deployment")
    return [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> ChartRepository:
    cache_dir = tmp_path_factory.mktemp("plan-cache")
    return ChartRepository(str(FIXTURE_REPO), cache_dir=cache_dir)


@pytest.mark.parametrize(("start", "end"), PAIRS)
def test_every_pair_follows_percona_path_and_each_fact_matches_the_packages(
    repository: ChartRepository, start: str, end: str
) -> None:
    plan = upgrade_plan(repository, start, end)
    assert (plan["from"], plan["to"]) == (start, end)
    assert [s["to"] for s in plan["steps"]] == PATHS[(start, end)]
    for step in plan["steps"]:
        old, new = step["from"], step["to"]
        assert set(step) == {"from", "to", "crds", "values", "rbac", "images", "warnings"}
        # CRDs
        before, after = crds(old), crds(new)
        assert step["crds"]["added"] == sorted(after.keys() - before.keys())
        assert step["crds"]["removed"] == sorted(before.keys() - after.keys())
        changed = {c["name"]: c for c in step["crds"]["changed"]}
        assert list(changed) == sorted(changed)
        for name in sorted(before.keys() & after.keys()):
            served_old = {v["name"] for v in before[name]["spec"]["versions"] if v["served"]}
            served_new = {v["name"] for v in after[name]["spec"]["versions"] if v["served"]}
            schema = "schema"
            fields_old = spec_fields(
                storage(before[name])[schema]["openAPIV3Schema"]["properties"]["spec"]
            )
            fields_new = spec_fields(
                storage(after[name])[schema]["openAPIV3Schema"]["properties"]["spec"]
            )
            expected = {
                "name": name,
                "versions_added": sorted(served_new - served_old),
                "versions_removed": sorted(served_old - served_new),
                "storage_version": {
                    "from": storage(before[name])["name"],
                    "to": storage(after[name])["name"],
                },
                "fields_added": sorted(fields_new - fields_old),
                "fields_removed": sorted(fields_old - fields_new),
            }
            differs = expected["fields_added"] or expected["fields_removed"]
            differs = differs or served_old != served_new
            if differs or expected["storage_version"]["from"] != expected["storage_version"]["to"]:
                assert changed.pop(name) == expected
        assert changed == {}, f"reported but unchanged: {list(changed)}"
        # values
        values_old = leaves(yaml.safe_load(package_file(old, "values.yaml")))
        values_new = leaves(yaml.safe_load(package_file(new, "values.yaml")))
        assert step["values"]["added"] == sorted(values_new.keys() - values_old.keys())
        assert step["values"]["removed"] == sorted(values_old.keys() - values_new.keys())
        assert step["values"]["changed"] == [
            {"key": k, "from": values_old[k], "to": values_new[k]}
            for k in sorted(values_old.keys() & values_new.keys())
            if values_old[k] != values_new[k]
        ]
        # RBAC and images
        assert step["rbac"] == {
            "added": sorted(rules(new) - rules(old)),
            "removed": sorted(rules(old) - rules(new)),
        }
        assert step["images"] == {"from": image(old), "to": image(new)}
        assert step["images"]["to"] == [f"docker.io/percona/percona-postgresql-operator:{new}"]


def test_the_steps_warn_of_what_cannot_be_undone_and_what_is_dropped(
    repository: ChartRepository,
) -> None:
    plan = upgrade_plan(repository, "2.7.0", "3.0.0")
    warnings = {step["to"]: step["warnings"] for step in plan["steps"]}
    assert any("irreversible" in w and "upstream.pgv2.percona.com" in w for w in warnings["3.0.0"])
    assert any("crVersion 2.7.x" in w for w in warnings["3.0.0"])
    assert any("crVersion 2.6.x" in w for w in warnings["2.9.0"])
    assert not any("irreversible" in w for w in warnings["2.9.0"] + warnings["2.8.2"])


def test_the_2_9_to_3_0_step_moves_the_upstream_crds(repository: ChartRepository) -> None:
    (step,) = upgrade_plan(repository, "2.9.0", "3.0.0")["steps"]
    moved = ["crunchybridgeclusters", "pgadmins", "pgupgrades", "postgresclusters"]
    assert step["crds"]["added"] == [f"{n}.upstream.pgv2.percona.com" for n in moved]
    assert step["crds"]["removed"] == [f"{n}.postgres-operator.crunchydata.com" for n in moved]


def test_to_defaults_to_the_newest(repository: ChartRepository) -> None:
    assert upgrade_plan(repository, "2.8.2")["to"] == "3.0.0"
    assert upgrade_plan(repository, "3.0.0") == {"from": "3.0.0", "to": "3.0.0", "steps": []}


@pytest.mark.parametrize(
    ("start", "end", "error", "fragment"),
    [
        ("2.6.0", None, ChartRepositoryError, "2.6.0 is not in"),
        # A refusal, not "not available" (exit 4, not 6): before, a ChartRepositoryError.
        ("3.0.0", "2.9.0", UpgradeGuardError, "downgrade"),
        ("2.7.0", "9.9.9", ChartRepositoryError, "9.9.9"),
    ],
)
def test_bad_versions_are_clear_errors(
    repository: ChartRepository, start: str, end: str | None, error: type, fragment: str
) -> None:
    with pytest.raises(error, match=fragment):
        upgrade_plan(repository, start, end)


def test_cli_upgrade_plan(monkeypatch: pytest.MonkeyPatch, repository: ChartRepository) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    result = CliRunner().invoke(cli, ["upgrade-plan", "--from", "2.8.2", "--output", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"schema_version": 1, **upgrade_plan(repository, "2.8.2")}
    text = CliRunner().invoke(cli, ["upgrade-plan", "--from", "2.9.0"])
    assert "upgrade path: 2.9.0 -> 3.0.0" in text.output
    assert "- CRD postgresclusters.postgres-operator.crunchydata.com (kept in the cluster)" in (
        text.output
    )
    bad = CliRunner().invoke(cli, ["upgrade-plan", "--from", "1.0.0"])
    assert bad.exit_code == ExitCode.UNAVAILABLE and "1.0.0 is not in" in bad.output


def test_cli_upgrade_plan_of_a_stack_starts_at_the_live_release(
    monkeypatch: pytest.MonkeyPatch, repository: ChartRepository, tmp_path: Path
) -> None:
    """FILE: --from is the release the cluster runs, --to the manifest's version, and the
    manifest's repository (here spec.helm.repo; the mirror variable points nowhere)."""
    from conftest import manifest
    from kube_api import install, namespace, serve

    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(tmp_path / "no-such-repo"))
    with serve() as api:
        api.add(namespace("pgo"))
        install(api, FIXTURE_REPO / "pg-operator-2.8.2.tgz", release="pg-op", namespace="pgo")
        helm = {"version": "3.0.0", "repo": str(FIXTURE_REPO)}
        credentials = {"content": api.kubeconfig()}
        doc = {
            "target": manifest(namespace="pgo", helm=helm),
            "providerConfig": {"provider": "kubeconfig", "kubeconfig": credentials},
        }
        path = tmp_path / "stack.yaml"
        path.write_text(yaml.safe_dump(doc))
        result = CliRunner().invoke(cli, ["upgrade-plan", str(path), "-o", "json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert (document["from"], document["to"]) == ("2.8.2", "3.0.0")
        assert [step["to"] for step in document["steps"]] == ["2.9.0", "3.0.0"]
        api.objects.clear()  # no release: nothing to plan from
        api.add(namespace("pgo"))
        nothing = CliRunner().invoke(cli, ["upgrade-plan", str(path)])
        assert nothing.exit_code == ExitCode.USAGE and "give --from VERSION" in nothing.stderr
    neither = CliRunner().invoke(cli, ["upgrade-plan"])
    assert neither.exit_code == ExitCode.USAGE


def test_the_plan_writes_only_to_the_chart_cache(tmp_path: Path) -> None:
    """The plan reads only the verified packages: nothing is written outside the cache."""
    repo = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path / "cache")
    upgrade_plan(repo, "2.9.0", "3.0.0")
    assert {p.name for p in tmp_path.iterdir()} == {"cache", "project"}
    assert list((tmp_path / "project").iterdir()) == [], "nothing staged: the plan installs nothing"
