"""Managed CRDs under Pulumi mocks, from the real chart packages, and the CRD parse cache."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from conftest import CHART_VERSIONS, FIXTURE_REPO, manifest
from pulumi_harness import (
    CONFIG_GROUP_TYPE,
    CRD_TYPE,
    RELEASE_TYPE,
    RecordingMocks,
    Registration,
    Run,
    run_pulumi,
)
from repo_server import RepoServer, serve

from percona_pg_operator import outputs
from percona_pg_operator.chart import PATCH_FORCE_ANNOTATION, ChartRepository, load_managed_crds
from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
from percona_pg_operator.errors import UpgradeGuardError
from percona_pg_operator.manifest import parse_document

pytestmark = pytest.mark.chart


def package_crd_names(version: str) -> list[str]:
    """The CRD names in the published package, read independently of the code under test."""
    data = (FIXTURE_REPO / f"pg-operator-{version}.tgz").read_bytes()
    names = []
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        member = archive.extractfile("pg-operator/crds/crd.yaml")
        assert member is not None
        text = member.read().decode()
    for doc in text.split("\n---"):
        head = doc[: doc.find("spec:")]
        if "kind: CustomResourceDefinition" in head:
            names.append(yaml.safe_load(head)["metadata"]["name"])
    return sorted(names)


@pytest.fixture
def http_repo(monkeypatch: pytest.MonkeyPatch, warm_cache: Path) -> Iterator[RepoServer]:
    with serve(FIXTURE_REPO) as server:
        monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", server.url)
        yield server


def crd_objects(run: Run) -> list[dict[str, Any]]:
    """The CRDs the stack applies: the staged manifest the CRD set names, whose sha256 is the
    set's digest (what its provider checks before applying)."""
    inputs = run.crd_set().inputs
    manifest_text = Path(inputs["manifest"]).read_text()
    assert hashlib.sha256(manifest_text.encode()).hexdigest() == inputs["digest"]
    return [json.loads(doc) for doc in manifest_text.split("\n---\n")]


def child_options(group: Registration, type_: str, name: str) -> pulumi.ResourceOptions:
    """Run the group's transforms as the engine does for each child it creates."""
    opts = pulumi.ResourceOptions()
    for transform in group.transforms:
        result = transform(pulumi.ResourceTransformArgs(True, type_, name, {}, opts))
        if result is not None:
            opts = result.opts
    return opts


def program(
    doc: dict[str, Any], previous: str | None = None, opts: pulumi.ResourceOptions | None = None
) -> PerconaPostgresOperator:
    import pulumi

    args = PerconaPostgresOperatorArgs(parse_document(doc, "t"), running_version=previous)
    op = PerconaPostgresOperator("pg", args, opts)
    for key, value in op.outputs().items():
        pulumi.export(key, value)
    return op


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_managed_crds_for_each_version(http_repo: RepoServer, version: str) -> None:
    run = run_pulumi(lambda: program(manifest(helm={"version": version})))
    crds = crd_objects(run)
    names = sorted(c["metadata"]["name"] for c in crds)
    assert len(names) == 8
    assert names == package_crd_names(version)
    assert {c["kind"] for c in crds} == {"CustomResourceDefinition"}
    crd_set = run.crd_set()
    assert crd_set.inputs["names"] == names
    assert crd_set.inputs["chartVersion"] == version
    assert crd_set.retain_on_delete
    assert crd_set.is_secret("kubeconfig") or crd_set.inputs.get("kubeconfig") is None
    release = run.one(RELEASE_TYPE)
    assert release.inputs["skipCrds"] is True
    assert "repositoryOpts" not in release.inputs  # Helm installs the package verified here
    assert (
        Path(release.inputs["chart"]).read_bytes()
        == (FIXTURE_REPO / f"pg-operator-{version}.tgz").read_bytes()
    )
    assert crd_set.urn in release.dependencies
    assert run.stack_outputs[outputs.CRDS] == names
    assert run.of_type(CONFIG_GROUP_TYPE) == []


def test_the_crd_set_carries_no_schema(http_repo: RepoServer) -> None:
    """Megabytes of schema stay out of the engine: a few hundred bytes of inputs."""
    run = run_pulumi(lambda: program(manifest(helm={"version": "2.8.2"})))
    inputs = dict(run.crd_set().inputs)
    inputs.pop("kubeconfig", None)
    assert len(json.dumps(inputs)) < 2000, inputs


def test_callers_provider_without_credentials_applies_crds_through_it(
    http_repo: RepoServer,
) -> None:
    """With only a provider in the options the credentials are unknown: the CRDs go through
    that provider (a yaml/v2 ConfigGroup), each retained on delete."""

    def with_callers_provider() -> None:
        import pulumi_kubernetes as k8s

        provider = k8s.Provider("callers", context="callers-context")
        program(manifest(), opts=pulumi.ResourceOptions(provider=provider))

    run = run_pulumi(with_callers_provider)
    assert run.dynamic("crds") == []
    group = run.one(CONFIG_GROUP_TYPE)
    assert group.retain_on_delete
    documents = [json.loads(doc) for doc in group.inputs["yaml"].split("\n---\n")]
    for crd in documents:
        assert crd["metadata"]["annotations"][PATCH_FORCE_ANNOTATION] == "true"
        name = crd["metadata"]["name"]
        assert child_options(group, CRD_TYPE, name).retain_on_delete is True, name
    assert not child_options(group, "kubernetes:core/v1:ConfigMap", "x").retain_on_delete
    assert group.urn in run.one(RELEASE_TYPE).dependencies


def test_crd_spec_is_the_package_spec(http_repo: RepoServer) -> None:
    run = run_pulumi(lambda: program(manifest(helm={"version": "3.0.0"})))
    crd = next(
        c for c in crd_objects(run) if c["metadata"]["name"] == "perconapgclusters.pgv2.percona.com"
    )
    assert crd["metadata"]["labels"]["pgv2.percona.com/version"] == "v2.10.0"
    assert crd["spec"]["group"] == "pgv2.percona.com"
    assert crd["spec"]["names"]["kind"] == "PerconaPGCluster"
    assert "openAPIV3Schema" in crd["spec"]["versions"][0]["schema"]


def test_3_0_moves_upstream_crds_to_new_group(http_repo: RepoServer) -> None:
    old = run_pulumi(lambda: program(manifest(helm={"version": "2.9.0"})))
    new = run_pulumi(lambda: program(manifest(helm={"version": "3.0.0"})))
    groups = {c["spec"]["group"] for c in crd_objects(old)}
    assert "postgres-operator.crunchydata.com" in groups
    groups = {c["spec"]["group"] for c in crd_objects(new)}
    assert groups == {"pgv2.percona.com", "upstream.pgv2.percona.com"}


def test_plain_helm_switch(http_repo: RepoServer) -> None:
    run = run_pulumi(lambda: program(manifest(helm={"manageCrds": False})))
    assert run.dynamic("crds") == []
    assert run.one(RELEASE_TYPE).inputs["skipCrds"] is False
    assert run.stack_outputs[outputs.CRDS] == []
    # Plain Helm CRDs, but the package is still verified here and Helm installs exactly it.
    assert http_repo.requests == ["/index.yaml", "/pg-operator-3.0.0.tgz"]
    staged = Path(run.one(RELEASE_TYPE).inputs["chart"])
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-3.0.0.tgz").read_bytes()


def test_directory_repo_installs_the_verified_package(fixture_repo_env: Path) -> None:
    run = run_pulumi(lambda: program(manifest(helm={"version": "2.9.0"})))
    chart = run.one(RELEASE_TYPE).inputs["chart"]
    assert chart.endswith(".tgz")
    assert Path(chart).read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()
    assert "repositoryOpts" not in run.one(RELEASE_TYPE).inputs


def test_operator_version_is_the_verified_image_else_the_chart_app_version(
    fixture_repo_env: Path,
) -> None:
    unverified = manifest(helm={"version": "2.8.2"}, verify={"enabled": False})
    run = run_pulumi(lambda: program(unverified))
    assert run.stack_outputs[outputs.OPERATOR_VERSION] == "2.8.2"
    assert run.stack_outputs[outputs.CHART_VERSION] == "2.8.2"
    verified = run_pulumi(
        lambda: program(manifest(helm={"version": "2.8.2"})), RecordingMocks(app_version="2.8.1")
    )
    assert verified.stack_outputs[outputs.OPERATOR_VERSION] == "2.8.1", "what runs, once verified"


def run_program_with(doc: dict[str, Any], mocks: RecordingMocks) -> Any:
    """The real program (stack input from env, previous version from its own stack outputs)."""
    from percona_pg_operator.deploy.program import run as run_program

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
        return run_pulumi(run_program, mocks)


def test_guard_refuses_before_any_crd_or_release(fixture_repo_env: Path) -> None:
    mocks = RecordingMocks(previous_outputs={outputs.CHART_VERSION: "2.8.2"})
    with pytest.raises(UpgradeGuardError, match=r"2\.8\.2 -> 3\.0\.0 skips a minor") as info:
        run_program_with(manifest(helm={"version": "3.0.0"}), mocks)
    assert isinstance(info.value, pulumi.RunError), "Pulumi must show it without a traceback"
    assert mocks.registrations == [], "a refused step registers nothing, no CRD set"


def test_guard_passes_a_supported_step_from_stack_state(fixture_repo_env: Path) -> None:
    mocks = RecordingMocks(previous_outputs={outputs.CHART_VERSION: "2.9.0"})
    doc = manifest(helm={"version": "3.0.0", "acknowledgeIrreversible": "3.0"})
    run = run_program_with(doc, mocks)
    assert run.one(RELEASE_TYPE).inputs["version"] == "3.0.0"
    assert len(crd_objects(run)) == 8


def test_fresh_stack_passes_the_guard(fixture_repo_env: Path) -> None:
    run = run_program_with(manifest(helm={"version": "2.7.0"}), RecordingMocks())
    assert run.one(RELEASE_TYPE).inputs["version"] == "2.7.0"


def test_guard_override(fixture_repo_env: Path) -> None:
    doc = manifest(
        helm={"version": "3.0.0", "allowUnsafeUpgrade": True, "acknowledgeIrreversible": "3.0"}
    )
    run = run_pulumi(lambda: program(doc, previous="2.7.0"))
    assert run.one(RELEASE_TYPE).inputs["version"] == "3.0.0"


def test_crd_parse_is_cached_per_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from percona_pg_operator.chart import _crds as crds_module

    package = ChartRepository(str(FIXTURE_REPO), cache_dir=tmp_path).fetch("pg-operator", "2.9.0")
    first = load_managed_crds(package)
    assert package.path.with_suffix(".crds.json").is_file()
    assert first.names == package_crd_names("2.9.0")

    def no_parse(*_: object) -> None:
        raise AssertionError("parsed the YAML again")

    monkeypatch.setattr(crds_module, "_parse_package", no_parse)
    assert load_managed_crds(package) == first
