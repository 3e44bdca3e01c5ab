"""The deploy path's stages (checks/stages.py): prepare, read and decide once, on the cluster the
resources deploy to. Each test below failed on the code before the stages (the component worked
the credentials, the chart and the decision out again at every hop); the stand-in API server
plays the clusters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from conftest import FIXTURE_REPO, manifest
from kube_api import KubeApi, cluster_crd, install, namespace, percona_pg_cluster, serve
from pulumi_harness import NAMESPACE_TYPE, RELEASE_TYPE, RecordingMocks, run_pulumi

from percona_pg_operator.checks.preflight import StackState
from percona_pg_operator.checks.stages import Observed, decide, observe, prepare
from percona_pg_operator.deploy import PerconaPostgresOperator, PerconaPostgresOperatorArgs
from percona_pg_operator.errors import ClusterUnreachableError, PreflightRefusedError
from percona_pg_operator.manifest import parse_document

NS, RELEASE = "pgo", "pg-op"


def package(version: str) -> Path:
    return FIXTURE_REPO / f"pg-operator-{version}.tgz"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[KubeApi]:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "on")
    with serve() as server:
        yield server


def stack_input(api: KubeApi | None, **spec: Any) -> Any:
    spec.setdefault("namespace", NS)
    doc: dict[str, Any] = {"target": manifest(**spec)}
    if api is not None:
        doc["providerConfig"] = {
            "provider": "kubeconfig",
            "kubeconfig": {"content": api.kubeconfig()},
        }
    return parse_document(doc, "test")


def custom(mocks: RecordingMocks) -> list[str]:
    """What the component registered (the caller's own provider aside)."""
    return [r.type for r in mocks.registrations if r.custom and r.name != "callers"]


# -- the read goes to the cluster the deploy goes to, or nowhere ----------------------------------


class _CallersProvider(pulumi.ProviderResource):
    def __init__(self) -> None:
        super().__init__("kubernetes", "callers", {})


def _with_callers_provider(args: PerconaPostgresOperatorArgs) -> Any:
    return lambda: PerconaPostgresOperator(
        "pg", args, pulumi.ResourceOptions(provider=_CallersProvider())
    )


@pytest.fixture
def ambient_cluster_with_a_stuck_release(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> KubeApi:
    """KUBECONFIG names another cluster, which holds a stuck release."""
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("pending-upgrade",))
    path = tmp_path / "ambient-kubeconfig"
    path.write_text(api.kubeconfig())
    monkeypatch.setenv("KUBECONFIG", str(path))
    return api


def test_a_callers_provider_is_never_checked_against_the_ambient_cluster_at_preview(
    ambient_cluster_with_a_stuck_release: KubeApi,
) -> None:
    api = ambient_cluster_with_a_stuck_release
    args = PerconaPostgresOperatorArgs(stack_input(None, helm={"version": "2.9.0"}))
    run = run_pulumi(_with_callers_provider(args), preview=True)
    assert api.requests == [], "not one request to a cluster the resources do not deploy to"
    assert run.of_type(RELEASE_TYPE), "the preview goes on"
    (warning,) = [w for w in run.logged("WARNING") if "preflight skipped" in w]
    assert "provider_config" in warning and "preflight=False" in warning


def test_a_callers_provider_without_provider_config_refuses_the_update(
    ambient_cluster_with_a_stuck_release: KubeApi,
) -> None:
    api = ambient_cluster_with_a_stuck_release
    mocks = RecordingMocks()
    args = PerconaPostgresOperatorArgs(stack_input(None, helm={"version": "2.9.0"}))
    with pytest.raises(PreflightRefusedError, match="give provider_config for the same cluster"):
        run_pulumi(_with_callers_provider(args), mocks)
    assert api.requests == []
    assert not custom(mocks), "a refusal registers nothing"


def test_a_callers_provider_with_preflight_false_deploys_without_the_read(
    ambient_cluster_with_a_stuck_release: KubeApi,
) -> None:
    api = ambient_cluster_with_a_stuck_release
    args = PerconaPostgresOperatorArgs(
        stack_input(None, helm={"version": "2.9.0"}), preflight=False
    )
    run = run_pulumi(_with_callers_provider(args))
    assert run.of_type(RELEASE_TYPE) and api.requests == []


def test_the_read_uses_exactly_the_credentials_prepared_for_the_deploy(api: KubeApi) -> None:
    prepared = prepare(stack_input(api), chart_repo=str(FIXTURE_REPO))
    assert prepared.credentials is not None
    assert observe(prepared, True).state is not None
    assert api.requests, "the provider_config's cluster was read"


# -- a hint is a hint ------------------------------------------------------------------------------


def test_a_running_version_hint_never_makes_the_owner_check_refuse(api: KubeApi) -> None:
    """A deployed release and no stack state: the owner is unknown (a warning), with or
    without the hint; before, the hint made up a stack state and the release was refused."""
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS)
    for hint in (None, "2.9.0"):
        args = PerconaPostgresOperatorArgs(
            stack_input(api, helm={"version": "2.9.0"}), running_version=hint
        )
        run = run_pulumi(lambda a=args: PerconaPostgresOperator("pg", a))  # type: ignore[misc]
        assert run.of_type(RELEASE_TYPE), hint
        assert any("its owner is unknown here" in w for w in run.logged("WARNING")), hint


def test_decide_uses_the_hint_only_where_the_cluster_was_not_read() -> None:
    prepared = prepare(stack_input(None, helm={"version": "3.0.0"}), chart_repo=str(FIXTURE_REPO))
    skipped = Observed(skipped="preflight=False")
    decision = decide(prepared, skipped, stack=None, dry_run=False, running_hint="2.8.2")
    assert decision.refused and "skips a minor" in str(decision.refusal)
    stack = StackState(namespace=NS, release_name=RELEASE, chart_version="2.9.0")
    decision = decide(prepared, skipped, stack=stack, dry_run=False, running_hint="2.8.2")
    assert decision.refused, "the stack's state wins over the hint: 2.9 -> 3.0 needs the ack"
    assert "acknowledgeIrreversible" in str(decision.refusal)


def test_an_unreadable_cluster_refuses_an_update_and_warns_a_plain_preview() -> None:
    prepared = prepare(
        stack_input(None, helm={"version": "2.9.0", "manageCrds": False}),
        chart_repo=str(FIXTURE_REPO),
    )
    failed = Observed(error=ClusterUnreachableError("no answer"))
    up = decide(prepared, failed, stack=None, dry_run=False)
    assert up.refused and "cannot read the cluster" in str(up.refusal)
    preview = decide(prepared, failed, stack=None, dry_run=True)
    assert not preview.refused and any("no answer" in w for w in preview.warnings)


# -- every stage honours the component's arguments -------------------------------------------------


def test_the_preview_diff_uses_the_components_cache_and_repository(
    api: KubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the preview's release diff fetched the chart again with no repository or cache,
    into $XDG_CACHE_HOME."""
    pytest.importorskip("helm_python")
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    args = PerconaPostgresOperatorArgs(
        stack_input(api, helm={"version": "2.9.0"}),
        stack_state=StackState(namespace=NS, release_name=RELEASE, chart_version="2.8.2"),
        chart_repo=str(FIXTURE_REPO),
        cache_dir=tmp_path / "cache",
        project_dir=tmp_path / "project",
    )
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args), preview=True)
    assert any("inside the release" in i for i in run.logged("INFO"))
    assert not xdg.exists(), "nothing written outside the cache the component was given"


def test_a_missing_helm_engine_is_a_warning_at_preview(
    api: KubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from percona_pg_operator.errors import RenderError
    from percona_pg_operator.review import render

    def missing(*_: object) -> None:
        raise RenderError("rendering needs the in-process Helm engine (helm-python-sdk)")

    monkeypatch.setattr(render, "helm_engine", missing)
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    args = PerconaPostgresOperatorArgs(
        stack_input(api, helm={"version": "2.9.0"}),
        stack_state=StackState(namespace=NS, release_name=RELEASE, chart_version="2.8.2"),
    )
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args), preview=True)
    assert any("no diff inside the release" in w for w in run.logged("WARNING"))


def test_the_programs_requirements_include_the_helm_engine() -> None:
    """Pulumi builds the program's virtualenv from requirements.txt: the preview's diff needs
    the render extra there."""
    root = Path(__file__).resolve().parents[1]
    lines = (root / "requirements.txt").read_text().splitlines()
    assert "-e .[render]" in lines


# -- own leftovers ---------------------------------------------------------------------------------


def test_a_namespace_left_by_this_manifests_destroy_is_taken_back(api: KubeApi) -> None:
    """After `pulumi destroy` (the namespace kept, the stack's outputs gone), an `up` of the same
    manifest imports the namespace instead of refusing it as someone else's."""
    doc = stack_input(api, createNamespace=True, helm={"version": "2.9.0"})
    api.add(namespace(NS, labels=doc.target.namespace_labels()))
    args = PerconaPostgresOperatorArgs(doc, stack_state=StackState())
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args))
    ns = run.one(NAMESPACE_TYPE)
    assert ns.import_id == NS


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {"planton.ai/resource": "true", "planton.ai/kind": "KubernetesPerconaPostgresOperator"},
        "another name",
        "another id",
    ],
)
def test_a_namespace_without_exactly_this_manifests_labels_is_still_refused(
    api: KubeApi, labels: Any
) -> None:
    doc = stack_input(api, createNamespace=True, helm={"version": "2.9.0"})
    mine = doc.target.namespace_labels()
    if labels == "another name":
        labels = {**mine, "planton.ai/name": "someone-else"}
    elif labels == "another id":
        labels = {**mine, "planton.ai/id": "other-id"}
    api.add(namespace(NS, labels=labels))
    mocks = RecordingMocks()
    args = PerconaPostgresOperatorArgs(doc, stack_state=StackState())
    with pytest.raises(PreflightRefusedError, match="this stack did not create it"):
        run_pulumi(lambda: PerconaPostgresOperator("pg", args), mocks)
    assert not custom(mocks)


# -- no churn --------------------------------------------------------------------------------------


def test_the_verification_is_no_change_once_the_3_0_move_is_done() -> None:
    """The first preview after 2.9 -> 3.0 saw migrateApiGroup flip true -> false."""
    from percona_pg_operator.deploy.verification import VerificationProvider

    olds = {"chartVersion": "3.0.0", "migrateApiGroup": True, "operator_version": "3.0.0",
            "verified_at": "t", "databases_checked": []}  # fmt: skip
    news = {**olds, "migrateApiGroup": False}
    assert not VerificationProvider().diff("id", olds, news).changes


def component(args: PerconaPostgresOperatorArgs) -> Any:
    return lambda: PerconaPostgresOperator("pg", args)


def test_a_stuck_release_is_refused_and_nothing_registered(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.9.0"), release=RELEASE, namespace=NS, revisions=("pending-upgrade",))
    mocks = RecordingMocks()
    args = PerconaPostgresOperatorArgs(stack_input(api, helm={"version": "2.9.0"}))
    with pytest.raises(pulumi.RunError, match="the preflight refused the change"):
        run_pulumi(component(args), mocks)
    assert not [r.type for r in mocks.registrations if r.custom]


def test_the_step_is_guarded_from_the_version_the_cluster_runs(api: KubeApi) -> None:
    """No running_version passed: the live release (2.8.2) says 3.0.0 skips a minor."""
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    mocks = RecordingMocks()
    spec = {"helm": {"version": "3.0.0", "acknowledgeIrreversible": "3.0"}}
    args = PerconaPostgresOperatorArgs(stack_input(api, **spec))
    with pytest.raises(pulumi.RunError, match="skips a minor"):
        run_pulumi(component(args), mocks)
    assert not [r.type for r in mocks.registrations if r.custom]


def test_the_databases_that_were_ready_are_verified_again(api: KubeApi) -> None:
    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    api.add(percona_pg_cluster(cluster_crd(package("2.8.2")), "db", NS, "2.8.2"))
    args = PerconaPostgresOperatorArgs(stack_input(api, helm={"version": "2.9.0"}))
    run = run_pulumi(component(args))
    assert run.one(RELEASE_TYPE).inputs["version"] == "2.9.0"
    assert run.verification().inputs["readyBefore"] == [f"{NS}/db"]


def test_preflight_false_opts_out_and_says_so(api: KubeApi) -> None:
    args = PerconaPostgresOperatorArgs(
        stack_input(api, helm={"version": "2.9.0", "manageCrds": False}), preflight=False
    )
    run = run_pulumi(component(args))
    assert run.of_type(RELEASE_TYPE)
    assert api.requests == [], "no live read"
    assert any(
        "preflight=False: the live cluster is not checked" in w for w in run.logged("WARNING")
    )


def test_what_the_component_uses_from_outside_is_an_argument(tmp_path: Path) -> None:
    """The repository, the cache, the project folder and the environment are arguments: no
    chdir, no setenv; the package is cached and staged where the arguments say."""
    project, cache = tmp_path / "project", tmp_path / "cache"
    doc = manifest(namespace=NS, helm={"version": "2.9.0"})
    args = PerconaPostgresOperatorArgs(
        doc,
        preflight=False,
        chart_repo=str(FIXTURE_REPO),
        cache_dir=cache,
        project_dir=project,
        environ={"KUBECONFIG": str(tmp_path / "none")},
    )
    run = run_pulumi(component(args))
    chart = run.one(RELEASE_TYPE).inputs["chart"]
    assert (project / chart).is_file(), chart
    assert list((cache / "charts").glob("*.tgz")), "cached where the argument says"


def test_one_run_resolves_its_chart_once(api: KubeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """A preview with the live read and the diff inside the release: the package is fetched
    (and its bytes hashed) once, with no process-wide memo; before, three times (the component,
    the live read, the diff), a memo hiding it."""
    pytest.importorskip("helm_python")
    from percona_pg_operator.chart import ChartRepository

    api.add(namespace(NS))
    install(api, package("2.8.2"), release=RELEASE, namespace=NS)
    fetched: list[str] = []
    real = ChartRepository.fetch

    def counting(self: ChartRepository, chart: str, version: str) -> Any:
        fetched.append(version)
        return real(self, chart, version)

    monkeypatch.setattr(ChartRepository, "fetch", counting)
    args = PerconaPostgresOperatorArgs(
        stack_input(api, helm={"version": "2.9.0"}),
        stack_state=StackState(namespace=NS, release_name=RELEASE, chart_version="2.8.2"),
    )
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", args), preview=True)
    assert any("inside the release" in i for i in run.logged("INFO"))
    assert fetched == ["2.9.0"]
