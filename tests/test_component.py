"""The component under Pulumi mocks: what it registers, how, and what it exports."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest
from conftest import EXAMPLES, FIXTURE_REPO, manifest
from pulumi_harness import (
    COMPONENT_TYPE,
    DYNAMIC_TYPE,
    NAMESPACE_TYPE,
    PROVIDER_TYPE,
    RELEASE_TYPE,
    RecordingMocks,
    Run,
    run_pulumi,
)

from percona_pg_operator import StackInputError, UpgradeGuardError, outputs
from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
from percona_pg_operator.manifest import StackInput, parse_document, read_file

PLAIN_HELM = {"helm": {"manageCrds": False}}


def build(
    doc: dict[str, object] | StackInput, opts: pulumi.ResourceOptions | None = None
) -> PerconaPostgresOperator:
    stack_input = doc if isinstance(doc, StackInput) else parse_document(doc, "test")
    return PerconaPostgresOperator("pg", stack_input, opts)


def test_release_inputs_from_defaults() -> None:
    run = run_pulumi(lambda: build(manifest(**PLAIN_HELM)))
    release = run.one(RELEASE_TYPE).inputs
    package = FIXTURE_REPO / "pg-operator-3.0.0.tgz"
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    # The verified package, staged in the project and named relative to it: the same state on
    # every machine, and no second download by Helm.
    assert release["chart"] == f".percona-pg-operator/charts/pg-operator-3.0.0-{digest[:12]}.tgz"
    assert Path(release["chart"]).read_bytes() == package.read_bytes()
    assert "repositoryOpts" not in release
    assert release["version"] == "3.0.0"
    assert release["name"] == "pg-op"
    assert release["namespace"] == "percona-postgres-operator"
    assert release["atomic"] is True
    assert release["cleanupOnFail"] is True
    assert release["skipAwait"] is False
    assert release["waitForJobs"] is True
    assert release["timeout"] == 600
    assert release["values"] == {
        "resources": {
            "limits": {"cpu": "1000m", "memory": "1Gi"},
            "requests": {"cpu": "100m", "memory": "256Mi"},
        }
    }


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_each_example_registers_its_resources(
    example: Path, monkeypatch: pytest.MonkeyPatch, fixture_repo_env: Path
) -> None:
    stack_input = read_file(example)
    doc = stack_input.model_dump(by_alias=True, exclude_none=True)
    doc["target"]["spec"]["helm"]["manageCrds"] = False
    monkeypatch.setenv("HOME", "/nonexistent")  # no ambient kubeconfig
    run = run_pulumi(lambda: build(parse_document(doc, "t")))
    spec = stack_input.target.spec
    types = sorted(r.type for r in run.registrations)
    expected = [COMPONENT_TYPE, PROVIDER_TYPE, RELEASE_TYPE, DYNAMIC_TYPE]
    if spec.create_namespace:
        expected.append(NAMESPACE_TYPE)
    assert types == sorted(expected)
    release = run.one(RELEASE_TYPE).inputs
    assert release["namespace"] == spec.namespace
    assert release["values"]["resources"]["limits"] == spec.container.resources.effective_limits
    assert release["values"]["resources"]["requests"] == (
        spec.container.resources.effective_requests
    )


def test_namespace_created_with_labels() -> None:
    doc = manifest(createNamespace=True, **PLAIN_HELM)
    doc["metadata"] = {
        "name": "pg-op",
        "id": "pgop-123",
        "org": "acme",
        "env": "prod",
        "labels": {"team": "data"},
    }
    run = run_pulumi(lambda: build(doc))
    ns = run.one(NAMESPACE_TYPE).inputs["metadata"]
    assert ns["name"] == "percona-postgres-operator"
    assert ns["labels"] == {  # metadata.labels are the manifest's own, never copied
        "planton.ai/resource": "true",
        "planton.ai/name": "pg-op",
        "planton.ai/kind": "KubernetesPerconaPostgresOperator",
        "planton.ai/id": "pgop-123",
        "planton.ai/organization": "acme",
        "planton.ai/environment": "prod",
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/audit": "baseline",
        "pod-security.kubernetes.io/audit-version": "latest",
        "pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/warn-version": "latest",
    }


@pytest.mark.parametrize("create", [{"createNamespace": False}, {}], ids=["false", "absent"])
def test_existing_namespace_is_not_created(create: dict[str, bool]) -> None:
    """Absent means false, as proto3 and project-planton's CLI (which drops false) have it."""
    run = run_pulumi(lambda: build(manifest(namespace="databases", **create, **PLAIN_HELM)))
    assert run.of_type(NAMESPACE_TYPE) == []
    assert run.one(RELEASE_TYPE).inputs["namespace"] == "databases"


def test_created_namespace_is_kept_on_destroy_unless_asked() -> None:
    run = run_pulumi(lambda: build(manifest(createNamespace=True, **PLAIN_HELM)))
    assert run.one(NAMESPACE_TYPE).retain_on_delete
    doc = manifest(createNamespace=True, deleteNamespaceOnDestroy=True, **PLAIN_HELM)
    assert not run_pulumi(lambda: build(doc)).one(NAMESPACE_TYPE).retain_on_delete


@pytest.mark.usefixtures("fixture_repo_env")
def test_children_parented_to_component_and_use_explicit_provider() -> None:
    run = run_pulumi(lambda: build(manifest(createNamespace=True)))
    assert run.dynamic("crds"), "managed CRDs expected, to check their parent too"
    component = run.one(COMPONENT_TYPE)
    provider = run.one(PROVIDER_TYPE)
    children = [r for r in run.registrations if r.type != COMPONENT_TYPE]
    assert children, "nothing registered under the component"
    for child in children:
        assert child.parent == component.urn, child.name
    for child in children:
        if child.type not in (PROVIDER_TYPE, DYNAMIC_TYPE):  # CRDs, verification: their own
            assert child.provider.startswith(provider.urn + "::"), child.name


def test_release_waits_for_namespace() -> None:
    run = run_pulumi(lambda: build(manifest(createNamespace=True, **PLAIN_HELM)))
    assert run.one(NAMESPACE_TYPE).urn in run.one(RELEASE_TYPE).dependencies


def test_ambient_provider_honours_kube_ctx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_CTX", "kind-dev")
    run = run_pulumi(lambda: build(manifest(**PLAIN_HELM)))
    provider = run.one(PROVIDER_TYPE).inputs
    assert provider["context"] == "kind-dev"
    assert "kubeconfig" not in provider
    assert provider["enableServerSideApply"] == "true"  # provider inputs travel as strings


def test_kubeconfig_is_a_secret() -> None:
    stack_input = read_file(EXAMPLES / "stack-input.yaml")
    doc = stack_input.model_dump(by_alias=True, exclude_none=True)
    doc["target"]["spec"]["helm"]["manageCrds"] = False
    run = run_pulumi(lambda: build(parse_document(doc, "t")))
    provider = run.one(PROVIDER_TYPE)
    assert provider.is_secret("kubeconfig")
    assert "placeholder-token" not in run.plain_text()
    # The endpoint is no secret: it is the cluster's stable identity.
    assert provider.inputs["clusterIdentifier"] == "doks:https://staging.k8s.example.com"


def test_component_outputs() -> None:
    def program() -> PerconaPostgresOperator:
        import pulumi

        op = build(manifest(**PLAIN_HELM))
        for key, value in op.outputs().items():
            pulumi.export(key, value)
        return op

    run = run_pulumi(program, RecordingMocks(app_version="3.0.0"))
    assert run.stack_outputs == {
        outputs.NAMESPACE: "percona-postgres-operator",
        outputs.RELEASE_NAME: "pg-op",
        outputs.CHART_VERSION: "3.0.0",
        outputs.OPERATOR_VERSION: "3.0.0",
        outputs.CRDS: [],
        outputs.VERIFIED_AT: "2026-11-26T00:00:00Z",  # what the (mock) verification reported
        outputs.DATABASES_CHECKED: [],
    }


# -- Pulumi's component contract -------------------------------------------------------------


def _callers_provider() -> k8s.Provider:
    return k8s.Provider("callers", context="callers-context")


@pytest.mark.parametrize("how", ["provider", "providers-map", "providers-list"])
def test_the_provider_comes_from_opts(how: str) -> None:
    """Every child uses the caller's provider, and no other provider is registered."""

    def program() -> None:
        provider = _callers_provider()
        opts = {
            "provider": pulumi.ResourceOptions(provider=provider),
            "providers-map": pulumi.ResourceOptions(providers={"kubernetes": provider}),
            "providers-list": pulumi.ResourceOptions(providers=[provider]),
        }[how]
        build(manifest(createNamespace=True, **PLAIN_HELM), opts)

    run = run_pulumi(program)
    (provider,) = run.of_type(PROVIDER_TYPE)
    assert provider.name == "callers"
    children = [r for r in run.registrations if r.custom and r.type != PROVIDER_TYPE]
    assert {r.type for r in children} == {NAMESPACE_TYPE, RELEASE_TYPE}
    for child in children:
        assert child.provider.startswith(provider.urn + "::"), child.name


def test_callers_provider_wins_over_provider_config_loudly() -> None:
    stack_input = read_file(EXAMPLES / "stack-input.yaml")  # provider_config: DOKS
    doc = stack_input.model_dump(by_alias=True, exclude_none=True)
    doc["target"]["spec"]["helm"]["manageCrds"] = False
    opts = lambda: pulumi.ResourceOptions(provider=_callers_provider())  # noqa: E731
    run = run_pulumi(lambda: build(parse_document(doc, "t"), opts()))
    assert [p.name for p in run.of_type(PROVIDER_TYPE)] == ["callers"]
    (warning,) = [w for w in run.logged("WARNING") if "provider_config" in w]
    assert "provider from the options deploys" in warning and "digital_ocean_doks" in warning


def test_two_instances_from_one_manifest_coexist() -> None:
    doc = manifest(createNamespace=True, **PLAIN_HELM)

    def program() -> None:
        PerconaPostgresOperator("blue", parse_document(doc, "t"))
        PerconaPostgresOperator("green", parse_document(doc, "t"))

    run = run_pulumi(program)
    names = [r.name for r in run.registrations]
    assert len(names) == len(set(names))
    assert sorted(r.name for r in run.of_type(RELEASE_TYPE)) == ["blue-release", "green-release"]
    assert sorted(r.name for r in run.of_type(NAMESPACE_TYPE)) == [
        "blue-namespace",
        "green-namespace",
    ]


def test_an_invalid_manifest_raises_before_anything_registers() -> None:
    mocks = RecordingMocks()
    bad = manifest(namespace="Bad_NS")
    with pytest.raises(StackInputError, match=r"spec\.namespace"):
        run_pulumi(lambda: PerconaPostgresOperator("pg", bad), mocks)
    assert mocks.registrations == []


def test_the_constructor_is_name_args_opts() -> None:
    import inspect

    params = list(inspect.signature(PerconaPostgresOperator.__init__).parameters)
    assert params == ["self", "name", "args", "opts"]


def test_args_form_takes_previous_version_and_plain_manifests_work() -> None:
    doc = manifest(helm={"manageCrds": False, "acknowledgeIrreversible": "3.0"})
    args = PerconaPostgresOperatorArgs(doc, running_version="2.9.0")
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args))
    assert run.one(RELEASE_TYPE).inputs["version"] == "3.0.0"
    with pytest.raises(UpgradeGuardError, match="downgrade"):
        run_pulumi(
            lambda: PerconaPostgresOperator(
                "pg", PerconaPostgresOperatorArgs(doc, running_version="9.0.0")
            )
        )


def test_release_ignores_only_what_refresh_reads_back() -> None:
    from percona_pg_operator.deploy.component import RELEASE_IGNORE_CHANGES

    assert RELEASE_IGNORE_CHANGES == ["description", "resourceNames"]
    run = run_pulumi(lambda: build(manifest(**PLAIN_HELM)))
    inputs = run.one(RELEASE_TYPE).inputs
    assert not set(RELEASE_IGNORE_CHANGES) & set(inputs), "ignored fields must not be set"


def test_adoption_imports_by_the_ids_pulumi_kubernetes_defines() -> None:
    """Release: <namespace>/<name>; Namespace: <name>. The import run takes the live values and
    the Release's own flags (ignored inputs are copied from what Pulumi reads), so it changes
    nothing; without adoption, nothing is imported."""
    from percona_pg_operator.deploy.component import (
        ADOPT_NAMESPACE_IGNORE_CHANGES,
        ADOPT_RELEASE_IGNORE_CHANGES,
        RELEASE_IGNORE_CHANGES,
    )

    doc = manifest(
        namespace="dbs",
        createNamespace=True,
        adopt={"release": True, "namespace": True},
        **PLAIN_HELM,
    )
    run = run_pulumi(lambda: build(doc))
    release, ns = run.one(RELEASE_TYPE), run.one(NAMESPACE_TYPE)
    assert release.import_id == "dbs/pg-op"
    assert ns.import_id == "dbs"
    assert release.ignore_changes == RELEASE_IGNORE_CHANGES + ADOPT_RELEASE_IGNORE_CHANGES
    assert "values" in release.ignore_changes and "version" not in release.ignore_changes
    assert ns.ignore_changes == ADOPT_NAMESPACE_IGNORE_CHANGES
    plain = run_pulumi(lambda: build(manifest(createNamespace=True, **PLAIN_HELM)))
    assert plain.one(RELEASE_TYPE).import_id == "" and plain.one(NAMESPACE_TYPE).import_id == ""
    assert plain.one(RELEASE_TYPE).ignore_changes == RELEASE_IGNORE_CHANGES


def test_adopting_a_namespace_needs_create_namespace() -> None:
    with pytest.raises(StackInputError, match=r"adopt\.namespace: only applies"):
        build(manifest(adopt={"namespace": True}, **PLAIN_HELM))


def test_adopting_a_release_stages_the_package_where_the_import_looks() -> None:
    """pulumi-kubernetes' Release import records `<name>-<version>.tgz` of the program directory
    as the chart when it is there, else the bare chart name, which its check refuses: the
    verified package is put there while adopting, and only then."""

    doc = manifest(adopt={"release": True}, helm={"version": "2.9.0"})
    run_pulumi(lambda: build(doc))
    staged = Path("pg-operator-2.9.0.tgz")
    assert staged.is_file()
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()
    staged.unlink()
    run_pulumi(lambda: build(manifest(helm={"version": "2.9.0"})))
    assert not staged.exists()


@pytest.mark.parametrize("as_output", [False, True])
@pytest.mark.parametrize(
    ("running", "target", "reason"),
    [
        ("2.8.2", "3.0.0", r"skips a minor"),
        ("2.9.0", "3.0.0", r"is irreversible"),
        ("3.0.0", "2.9.0", r"is a downgrade"),
    ],
)
def test_a_refused_step_registers_no_resource_at_all(
    running: str, target: str, reason: str, as_output: bool
) -> None:
    """Not the provider, not the namespace, whether the running version is plain or an Output
    (from a StackReference, say): every child waits on the guard's decision."""
    import pulumi

    doc = manifest(createNamespace=True, helm={"version": target, "manageCrds": True})

    def program() -> None:
        previous = pulumi.Output.from_input(running) if as_output else running
        PerconaPostgresOperator("pg", PerconaPostgresOperatorArgs(doc, running_version=previous))

    mocks = RecordingMocks()
    with pytest.raises(Exception, match=reason):
        run_pulumi(program, mocks)
    assert not [r.type for r in mocks.registrations if r.custom], "a refusal registers nothing"


def test_an_allowed_step_from_an_output_registers_everything() -> None:
    import pulumi

    doc = manifest(namespace="pg-ops", createNamespace=True, helm={"version": "2.9.0"})
    previous = pulumi.Output.from_input("2.8.2")
    args = PerconaPostgresOperatorArgs(doc, running_version=previous)
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args))
    assert run.one(NAMESPACE_TYPE).inputs["metadata"]["name"] == "pg-ops"
    assert run.one(RELEASE_TYPE).inputs["version"] == "2.9.0"
    assert run.of_type(PROVIDER_TYPE)


def test_the_run_log_says_which_chart_source_was_used() -> None:
    run = run_pulumi(lambda: build(manifest(**PLAIN_HELM)))
    (line,) = [m for m in run.logged("INFO") if m.startswith("chart pg-operator 3.0.0: ")]
    assert "sha256 51f804dc6d11" in line


# -- the Namespace and Release registered by type token (deploy/_resources.py) -----------------


def test_the_namespace_and_release_register_as_pulumi_kubernetes_classes_do() -> None:
    """The same type, inputs and options on the wire as pulumi_kubernetes' generated classes;
    fails when a pulumi-kubernetes release sends something else."""
    from percona_pg_operator.deploy._resources import Namespace, Release

    metadata = {"name": "ns", "labels": {"a": "b"}}
    release = {
        "name": "r", "namespace": "ns", "version": "2.9.0", "values": {"x": {"y": 1}},
        "atomic": True, "cleanupOnFail": True, "skipAwait": False, "waitForJobs": True,
        "timeout": 600, "createNamespace": False, "skipCrds": True, "chart": "c.tgz",
    }  # fmt: skip

    def opts() -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            ignore_changes=["description", "resourceNames", "metadata.labels"],
            retain_on_delete=True,
        )

    def generated() -> None:
        k8s.core.v1.Namespace("ns", metadata=k8s.meta.v1.ObjectMetaArgs(**metadata), opts=opts())
        k8s.helm.v3.Release(
            "r",
            k8s.helm.v3.ReleaseArgs(
                name="r", namespace="ns", version="2.9.0", values={"x": {"y": 1}}, atomic=True,
                cleanup_on_fail=True, skip_await=False, wait_for_jobs=True, timeout=600,
                create_namespace=False, skip_crds=True, chart="c.tgz",
            ),
            opts=opts(),
        )  # fmt: skip

    def ours() -> None:
        Namespace("ns", metadata, opts())
        Release("r", release, opts())

    def wire(run: Run) -> list[tuple[str, dict[str, object], list[str], bool]]:
        # By type: the SDK registers the two concurrently, in either order (seen in CI).
        return sorted(
            (
                (r.type, r.inputs, r.ignore_changes, r.retain_on_delete)
                for r in run.registrations
                if r.type in (NAMESPACE_TYPE, RELEASE_TYPE)
            ),
            key=lambda registration: registration[0],
        )

    theirs = wire(run_pulumi(generated))
    assert [t for t, *_ in theirs] == sorted([NAMESPACE_TYPE, RELEASE_TYPE])
    assert wire(run_pulumi(ours)) == theirs


def test_the_component_does_not_load_the_kubernetes_api_groups() -> None:
    """core/v1 and helm/v3 are 0.15-0.3 s of imports the registration does without: a fresh
    interpreter runs the component under mocks and lists what it loaded."""
    import subprocess
    import sys

    code = """
import sys
sys.path.insert(0, "tests")
from conftest import manifest
from pulumi_harness import run_pulumi
from percona_pg_operator.deploy import PerconaPostgresOperator
from percona_pg_operator.manifest import parse_document
doc = manifest(createNamespace=True, helm={"manageCrds": False})
run_pulumi(lambda: PerconaPostgresOperator("pg", parse_document(doc, "t")))
groups = ("pulumi_kubernetes.core.v1", "pulumi_kubernetes.helm.v3", "pulumi_kubernetes.yaml.v2")
print(sorted(m for m in sys.modules if m.startswith(groups)))
"""
    env = {**os.environ, "PERCONA_PG_OPERATOR_PREFLIGHT": "off"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env,
        cwd=Path(__file__).resolve().parents[1], timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
