"""Drop-in for project-planton's Go module: its real input shapes, its names, its stacks.

The inputs are what project-planton's CLI and web backend really write (tests/fixtures/upstream,
see its README). The expected names, labels and URNs are written out here from upstream's Go
module (module/main.go, namespace.go, locals.go, pulumikubernetesprovider), not derived from
this package's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from pulumi_harness import (
    NAMESPACE_TYPE,
    PROVIDER_TYPE,
    RELEASE_TYPE,
    RecordingMocks,
    Registration,
    Run,
    run_pulumi,
)

from percona_pg_operator.errors import StackInputError, UpgradeGuardError
from percona_pg_operator.manifest import parse_document, read_file

UPSTREAM = ROOT / "tests" / "fixtures" / "upstream"
EXAMPLES = sorted((UPSTREAM / "examples").glob("*.yaml"))
PROJECT, STACK = "percona-pg-operator", "test"  # the harness's project and stack

pytestmark = pytest.mark.usefixtures("fixture_repo_env")


def deploy(path: Path, mocks: RecordingMocks | None = None) -> Run:
    """The stack program, reading the stack input the way project-planton's modules do."""
    from percona_pg_operator.deploy.program import run

    with pytest.MonkeyPatch.context() as env:
        env.setenv("STACK_INPUT_YAML_FILE", str(path))
        return run_pulumi(run, mocks)


def upstream_labels(metadata: dict[str, Any]) -> dict[str, str]:
    """locals.go: resource, name, kind, and id/organization/environment when set."""
    labels = {
        "planton.ai/resource": "true",
        "planton.ai/name": metadata["name"],
        "planton.ai/kind": "KubernetesPerconaPostgresOperator",
    }
    for field, key in (("id", "id"), ("org", "organization"), ("env", "environment")):
        if metadata.get(field):
            labels[f"planton.ai/{key}"] = metadata[field]
    return labels


def pod_security_labels(level: str = "baseline") -> dict[str, str]:
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


def raw_target(path: Path) -> dict[str, Any]:
    import yaml

    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc.get("target", doc)


def spec_value(spec: dict[str, Any], snake: str, camel: str, default: Any = None) -> Any:
    return spec.get(camel, spec.get(snake, default))


@pytest.mark.parametrize(
    "path",
    [UPSTREAM / "cli-stack-input.yaml", UPSTREAM / "web-backend-stack-input.yaml", *EXAMPLES],
    ids=lambda p: p.name,
)
def test_deploys_as_upstream_would(path: Path) -> None:
    target = raw_target(path)
    spec, metadata = target["spec"], target["metadata"]
    namespace = spec["namespace"]["value"]
    create = bool(spec_value(spec, "create_namespace", "createNamespace", False))
    run = deploy(path)

    namespaces = run.of_type(NAMESPACE_TYPE)
    assert len(namespaces) == int(create), "a Namespace only when createNamespace is true"
    if create:
        ns = namespaces[0].inputs["metadata"]
        assert ns["name"] == namespace
        assert ns["labels"] == {**upstream_labels(metadata), **pod_security_labels()}

    release = run.one(RELEASE_TYPE).inputs
    assert release["name"] == metadata["name"]
    assert release["namespace"] == namespace
    assert release["chart"] == "pg-operator" or release["chart"].endswith(".tgz")
    # main.go's helm values: the container resources, nothing else of the manifest's.
    assert release["values"] == {"resources": spec["container"]["resources"]}
    assert release["atomic"] and release["cleanupOnFail"] and release["waitForJobs"]
    assert next(iter(run.stack_outputs)) == "namespace"
    assert run.stack_outputs["namespace"] == namespace


def _alias_urns(registration: Registration) -> list[str]:
    """Resolve aliases as the engine does: a spec with noParent is a top-level URN."""
    urns = []
    for alias in registration.aliases:
        if "urn" in alias:
            urns.append(alias["urn"])
            continue
        spec = alias["spec"]
        assert spec.get("noParent"), f"{registration.name}: alias not at the top: {alias}"
        type_ = spec.get("type") or registration.type
        project, stack = spec.get("project") or PROJECT, spec.get("stack") or STACK
        urns.append(f"urn:pulumi:{stack}::{project}::{type_}::{spec.get('name')}")
    return urns


def test_aliases_resolve_to_the_upstream_urns() -> None:
    path = UPSTREAM / "web-backend-stack-input.yaml"
    run = deploy(path)
    top = f"urn:pulumi:{STACK}::{PROJECT}"
    expected = {
        # GetWithKubernetesProviderConfig(ctx, config, "kubernetes")
        PROVIDER_TYPE: f"{top}::pulumi:providers:kubernetes::kubernetes",
        # kubernetescorev1.NewNamespace(ctx, locals.Namespace, ...)
        NAMESPACE_TYPE: f"{top}::kubernetes:core/v1:Namespace::percona-staging",
        # helm.NewRelease(ctx, locals.HelmReleaseName (= metadata.name), ...)
        RELEASE_TYPE: f"{top}::kubernetes:helm.sh/v3:Release::pg-operator-staging",
    }
    for type_, urn in expected.items():
        registration = run.one(type_)
        assert _alias_urns(registration) == [urn], type_
        assert registration.urn != urn, "the new URN differs; the alias carries the state over"


def test_the_component_alone_sets_no_upstream_aliases() -> None:
    from percona_pg_operator.deploy import PerconaPostgresOperator

    stack_input = read_file(UPSTREAM / "web-backend-stack-input.yaml")
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", stack_input))
    assert all(r.aliases == [] for r in run.registrations)


def _moved(doc: dict[str, Any], release: dict[str, Any] | None = None, secret: bool = False) -> Run:
    """The stack program on a stack upstream deployed: its outputs, and its Release's (as one
    secret, as the engine gives a resource's outputs that hold one, with ``secret``)."""
    import yaml
    from pulumi.runtime import rpc

    from percona_pg_operator.deploy.program import run as program

    resources: dict[str, Any] = {}
    if release is not None:
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{RELEASE_TYPE}::percona-pg-operator"
        recorded: Any = release
        if secret:
            recorded = {rpc._special_sig_key: rpc._special_secret_sig, "value": release}
        resources[urn] = {"type": RELEASE_TYPE, "outputs": recorded}
    mocks = RecordingMocks(
        previous_outputs={"namespace": "percona-postgres-operator"},
        previous_resources=resources,
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
        return run_pulumi(program, mocks)


def upstream_release(**overrides: Any) -> dict[str, Any]:
    """The Release's outputs as upstream's module.go leaves them in the state (cli input)."""
    return {
        "name": "percona-pg-operator",
        "namespace": "percona-postgres-operator",
        "chart": "pg-operator",
        "repositoryOpts": {"repo": "https://percona.github.io/percona-helm-charts/"},
        "version": "2.7.0",
        "values": {
            "resources": {
                "limits": {"cpu": "1000m", "memory": "1Gi"},
                "requests": {"cpu": "100m", "memory": "256Mi"},
            }
        },
        "timeout": 300,
        "skipCrds": False,
        **overrides,
    }


KEEP = {"chart", "repositoryOpts", "timeout", "skipCrds"}


@pytest.mark.parametrize("secret", [False, True], ids=["plain", "as-a-secret"])
def test_the_move_keeps_the_chart_reference_upstream_installed_the_release_with(
    secret: bool,
) -> None:
    """Same version, same values: how the chart is fetched is no reason for a Helm upgrade
    (a new revision); the Release keeps upstream's chart, repository, timeout and skipCrds."""
    import yaml

    doc = yaml.safe_load((UPSTREAM / "cli-stack-input.yaml").read_text())
    run = _moved(doc, upstream_release(), secret=secret)
    assert set(run.one(RELEASE_TYPE).ignore_changes) >= KEEP
    assert any("the Release keeps the chart it was installed with" in m for m in run.logged("INFO"))


@pytest.mark.parametrize(
    ("change", "release"),
    [
        ("a step to 2.8", upstream_release()),
        ("other values", upstream_release(values={"resources": {}})),
        ("this package's staged chart", upstream_release(chart="x.tgz", repositoryOpts=None)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_first_change_installs_from_the_verified_package(
    change: str, release: dict[str, Any]
) -> None:
    import yaml

    doc = yaml.safe_load((UPSTREAM / "cli-stack-input.yaml").read_text())
    if change == "a step to 2.8":
        doc["target"]["spec"]["helm"] = {"version": "2.8.2"}
    registered = _moved(doc, release).one(RELEASE_TYPE)
    assert not KEEP & set(registered.ignore_changes)
    assert registered.inputs["chart"].endswith(".tgz") and "repositoryOpts" not in registered.inputs


def test_the_same_stack_input_keeps_the_chart_upstream_installed() -> None:
    """Upstream exports only `namespace`, pins chart 2.7.0 (vars.go) and its manifest has no
    spec.helm (its CLI refuses one): the same stack input moves the stack on 2.7.0, and says so."""
    import yaml

    doc = yaml.safe_load((UPSTREAM / "cli-stack-input.yaml").read_text())
    run = _moved(doc)
    assert run.one(RELEASE_TYPE).inputs["version"] == "2.7.0"
    assert any("the one project-planton's module installed" in m for m in run.logged("INFO"))
    assert any("project-planton's Go module" in m for m in run.logged("INFO"))


def test_a_version_the_manifest_sets_is_guarded_from_upstreams_chart() -> None:
    """2.7 -> 3.0 is refused with the path; 2.7 -> 2.8 is the next step."""
    import yaml

    doc = yaml.safe_load((UPSTREAM / "cli-stack-input.yaml").read_text())
    doc["target"]["spec"]["helm"] = {"version": "3.0.0", "acknowledgeIrreversible": "3.0"}
    with pytest.raises(UpgradeGuardError, match=r"2\.7\.x -> 2\.8\.x -> 2\.9\.x -> 3\.0\.x"):
        _moved(doc)
    doc["target"]["spec"]["helm"] = {"version": "2.8.2"}
    assert _moved(doc).one(RELEASE_TYPE).inputs["version"] == "2.8.2"


def test_after_the_move_the_same_stack_input_stays_on_the_chart_that_runs() -> None:
    """The outputs are this program's now (chart_version), and the Release still holds
    upstream's chart reference: the unpinned stack input keeps 2.7.0, with no Helm upgrade."""
    import yaml

    from percona_pg_operator.deploy.program import run as program

    doc = yaml.safe_load((UPSTREAM / "cli-stack-input.yaml").read_text())
    urn = f"urn:pulumi:{STACK}::{PROJECT}::{RELEASE_TYPE}::percona-pg-operator"
    mocks = RecordingMocks(
        previous_outputs={"namespace": "percona-postgres-operator", "chart_version": "2.7.0"},
        previous_resources={urn: {"type": RELEASE_TYPE, "outputs": upstream_release()}},
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STACK_INPUT_YAML", yaml.safe_dump(doc))
        run = run_pulumi(program, mocks)
    release = run.one(RELEASE_TYPE)
    assert release.inputs["version"] == "2.7.0"
    assert set(release.ignore_changes) >= KEEP


def test_a_new_stack_without_a_version_gets_the_default() -> None:
    """Only a stack upstream deployed stays on its chart: a new one gets the newest."""
    from percona_pg_operator import defaults

    run = deploy(UPSTREAM / "cli-stack-input.yaml")
    assert run.one(RELEASE_TYPE).inputs["version"] == defaults.CHART_VERSION


@pytest.mark.parametrize(
    ("block", "value", "expected"),
    [
        ("provider", 4, "digital_ocean_doks"),
        ("provider", "DIGITAL_OCEAN_DOKS", "digital_ocean_doks"),
        ("provider", 0, "digital_ocean_doks"),  # unspecified: taken from the one block
        ("provider", "kubernetes_provider_unspecified", "digital_ocean_doks"),
    ],
)
def test_provider_enum_by_name_or_number(block: str, value: Any, expected: str) -> None:
    import yaml

    doc = yaml.safe_load((UPSTREAM / "web-backend-stack-input.yaml").read_text())
    doc["providerConfig"][block] = value
    stack_input = parse_document(doc, "t")
    assert stack_input.provider_config is not None
    assert stack_input.provider_config.provider == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(607, "GcpGkeCluster"), ("AwsEksCluster", "AwsEksCluster"), (1507, "CivoKubernetesCluster")],
)
def test_cluster_kind_by_name_or_number(value: Any, expected: str) -> None:
    doc = raw_target(UPSTREAM / "web-backend-stack-input.yaml")
    doc["spec"]["targetCluster"]["clusterKind"] = value
    target = parse_document(doc, "t").target
    assert target.spec.target_cluster is not None
    assert target.spec.target_cluster.cluster_kind == expected


@pytest.mark.parametrize(
    ("where", "value"),
    [("provider", 7), ("provider", "gke"), ("clusterKind", 615), ("clusterKind", "KindCluster")],
)
def test_an_unknown_enum_value_lists_the_valid_names(where: str, value: Any) -> None:
    import yaml

    doc = yaml.safe_load((UPSTREAM / "web-backend-stack-input.yaml").read_text())
    if where == "provider":
        doc["providerConfig"]["provider"] = value
        names = ["gcp_gke", "aws_eks", "azure_aks", "digital_ocean_doks"]
        path = "providerConfig.provider"
    else:
        doc["target"]["spec"]["targetCluster"]["clusterKind"] = value
        names = ["AwsEksCluster", "AzureAksCluster", "GcpGkeCluster", "CivoKubernetesCluster"]
        path = "target.spec.targetCluster.clusterKind"
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    (problem,) = info.value.problems
    assert problem.path == path
    assert all(name in problem.message for name in names)


def test_metadata_group_and_the_old_version_are_accepted_without_effect() -> None:
    doc = raw_target(UPSTREAM / "web-backend-stack-input.yaml")
    doc["metadata"]["version"] = {"id": "ver-01", "message": "older manifests carry this"}
    target = parse_document(doc, "t").target
    assert target.metadata.group == "databases"
    assert target.namespace_labels() == {
        **upstream_labels(doc["metadata"]),
        **pod_security_labels(),
    }


def test_cli_control_labels_are_never_copied() -> None:
    target = read_file(UPSTREAM / "cli-stack-input.yaml").target
    assert "pulumi.project-planton.org/stack.fqdn" in target.metadata.labels
    labels = target.model_copy(
        update={"spec": target.spec.model_copy(update={"create_namespace": True})}
    ).namespace_labels()
    assert not [key for key in labels if "project-planton.org" in key]


@pytest.mark.parametrize(
    ("field", "value"),
    [("org", "acme/planton"), ("env", "x" * 64), ("id", "-leading-dash"), ("env", "dev\n")],
)
def test_metadata_that_would_be_an_invalid_namespace_label_is_refused(
    field: str, value: str
) -> None:
    doc = raw_target(UPSTREAM / "web-backend-stack-input.yaml")  # createNamespace: true
    doc["metadata"][field] = value
    with pytest.raises(StackInputError) as info:
        parse_document(doc, "t")
    (problem,) = info.value.problems
    assert problem.path == f"metadata.{field}"
    assert "valid label value" in problem.message
    doc["spec"].pop("createNamespace")  # no namespace, no labels: accepted
    assert parse_document(doc, "t").target.metadata.model_dump()[field] == value
