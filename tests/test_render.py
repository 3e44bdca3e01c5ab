"""Every configuration field rendered with the real Percona chart, and the rendered objects checked.

Chart versions come from the vendored tests/fixtures/helm-repo; each field is tried on every
version that supports it. The rules that refuse bad values are in test_manifest_fields.py.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from click.testing import CliRunner
from conftest import CHART_VERSIONS, EXAMPLES, manifest
from hypothesis import given, settings
from hypothesis import strategies as st
from pod_security import violations

from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.cluster._kubeconfig import ClusterCredentials
from percona_pg_operator.errors import OutputFileError, RenderError, StackInputError
from percona_pg_operator.manifest import StackInput, parse_document, read_file
from percona_pg_operator.review.diff import diff_objects
from percona_pg_operator.review.render import (
    RENDER_MARKER,
    RenderedObject,
    render_stack,
    write_objects,
)

pytestmark = [pytest.mark.chart, pytest.mark.usefixtures("fixture_repo_env")]

# The newest Kubernetes release whose schemas kubernetes-validate ships.
KUBERNETES_VERSION = kubernetes_validate.latest_version()
LEADER_ELECTION_VERSIONS = [v for v in CHART_VERSIONS if v >= "2.9.0"]
DIGEST = "sha256:" + "ab" * 32


def render(version: str = "3.0.0", **spec: Any) -> list[RenderedObject]:
    """The stack rendered with this chart version; a namespace of its own unless told."""
    spec.setdefault("helm", {})["version"] = version
    spec.setdefault("createNamespace", True)
    return render_stack(parse_document(manifest(**spec), "test"))


def one(objects: list[RenderedObject], kind: str) -> dict[str, Any]:
    found = [o.object for o in objects if o.kind == kind]
    assert len(found) == 1, f"{kind}: {len(found)}"
    return found[0]


def pod(objects: list[RenderedObject]) -> dict[str, Any]:
    spec: dict[str, Any] = one(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(objects: list[RenderedObject]) -> dict[str, Any]:
    return next(c for c in pod(objects)["containers"] if c["name"] == "operator")


def env(objects: list[RenderedObject]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(objects)["env"]}


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_default_render(version: str) -> None:
    objects = render(version)
    kinds = [o.kind for o in objects]
    assert kinds == ["Namespace"] + ["CustomResourceDefinition"] * 8 + [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "Deployment",
    ]
    deployment = one(objects, "Deployment")
    assert deployment["metadata"]["name"] == "pg-op-pg-operator"
    assert deployment["metadata"]["namespace"] == "percona-postgres-operator"
    assert container(objects)["image"] == f"docker.io/percona/percona-postgresql-operator:{version}"
    assert container(objects)["resources"] == {
        "limits": {"cpu": "1000m", "memory": "1Gi"},
        "requests": {"cpu": "100m", "memory": "256Mi"},
    }


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_resources_requests_and_limits(version: str) -> None:
    resources = {"limits": {"cpu": "2", "memory": "3Gi"}, "requests": {"cpu": "250m"}}
    objects = render(version, container={"resources": resources})
    assert container(objects)["resources"] == {
        "limits": {"cpu": "2", "memory": "3Gi"},
        "requests": {"cpu": "250m", "memory": "256Mi"},
    }


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_tenancy_own_namespace(version: str) -> None:
    objects = render(version, tenancy={"mode": "own_namespace"})
    assert env(objects)["WATCH_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    assert one(objects, "Role")["metadata"]["namespace"] == "percona-postgres-operator"
    assert one(objects, "RoleBinding")["roleRef"]["kind"] == "Role"
    assert not [o for o in objects if o.kind in ("ClusterRole", "ClusterRoleBinding")]


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_tenancy_listed_namespaces(version: str) -> None:
    objects = render(version, tenancy={"mode": "namespaces", "namespaces": ["team-a", "team-b"]})
    assert env(objects)["WATCH_NAMESPACE"] == "team-a,team-b,percona-postgres-operator"
    assert one(objects, "ClusterRoleBinding")["roleRef"]["kind"] == "ClusterRole"
    assert one(objects, "ClusterRole")["metadata"]["name"] == "pg-op-pg-operator"
    assert not [o for o in objects if o.kind in ("Role", "RoleBinding")]


def test_tenancy_own_namespace_listed_is_not_repeated() -> None:
    objects = render(
        tenancy={"mode": "namespaces", "namespaces": ["percona-postgres-operator", "team-a"]}
    )
    assert env(objects)["WATCH_NAMESPACE"] == "percona-postgres-operator,team-a"


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_tenancy_all_namespaces(version: str) -> None:
    objects = render(version, tenancy={"mode": "ALL_NAMESPACES"})
    assert env(objects)["WATCH_NAMESPACE"] == ""
    assert one(objects, "ClusterRole")
    assert one(objects, "ClusterRoleBinding")["subjects"][0]["namespace"] == (
        "percona-postgres-operator"
    )


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_image_repository_only_keeps_chart_tag(version: str) -> None:
    objects = render(version, image={"repository": "registry.example.com/pg/operator"})
    assert container(objects)["image"] == f"registry.example.com/pg/operator:{version}"


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_image_tag_digest_policy_and_pull_secrets(version: str) -> None:
    image = {
        "repository": "registry.example.com:5000/pg/operator",
        "tag": "3.0.0-custom",
        "digest": DIGEST,
        "pullPolicy": "IfNotPresent",
        "pullSecrets": ["regcred", "other"],
    }
    objects = render(version, image=image)
    assert (
        container(objects)["image"]
        == f"registry.example.com:5000/pg/operator:3.0.0-custom@{DIGEST}"
    )
    assert container(objects)["imagePullPolicy"] == "IfNotPresent"
    assert pod(objects)["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]


def test_image_digest_only_uses_default_repository() -> None:
    objects = render(image={"digest": DIGEST})
    assert container(objects)["image"] == f"docker.io/percona/percona-postgresql-operator@{DIGEST}"


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_scheduling(version: str) -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}
                        ]
                    }
                ]
            }
        }
    }
    scheduling = {
        "nodeSelector": {"pool": "system"},
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoSchedule"},
            {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        ],
        "affinity": affinity,
    }
    spec = pod(render(version, scheduling=scheduling))
    assert spec["nodeSelector"] == {"pool": "system"}
    assert spec["tolerations"] == scheduling["tolerations"]
    assert spec["affinity"] == affinity


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_operator_behaviour(version: str) -> None:
    operator = {
        "replicas": 2,
        "logLevel": "debug",
        "logStructured": True,
        "disableTelemetry": True,
        "podAnnotations": {"example.com/team": "db"},
    }
    objects = render(version, operator=operator)
    values = env(objects)
    assert one(objects, "Deployment")["spec"]["replicas"] == 2
    assert values["LOG_LEVEL"] == "DEBUG"
    assert values["LOG_STRUCTURED"] == "true"
    assert values["DISABLE_TELEMETRY"] == "true"
    template = one(objects, "Deployment")["spec"]["template"]
    assert template["metadata"]["annotations"] == {"example.com/team": "db"}


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_telemetry_on_by_default(version: str) -> None:
    assert env(render(version))["DISABLE_TELEMETRY"] == "false"


@pytest.mark.parametrize("version", LEADER_ELECTION_VERSIONS)
def test_leader_election_and_feature_gates(version: str) -> None:
    operator = {
        "leaderElection": {
            "enabled": True,
            "leaseName": "pg-op-lock",
            "leaseDuration": "90s",
            "renewDeadline": "1m",
            "retryPeriod": "15s",
        },
        "featureGates": {"backupSnapshots": True},
    }
    values = env(render(version, operator=operator))
    assert values["PGO_CONTROLLER_LEADER_ELECTION_ENABLED"] == "true"
    assert values["PGO_CONTROLLER_LEASE_NAME"] == "pg-op-lock"
    assert values["PGO_CONTROLLER_LEASE_DURATION"] == "90s"
    assert values["PGO_CONTROLLER_RENEW_DEADLINE"] == "1m"
    assert values["PGO_CONTROLLER_RETRY_PERIOD"] == "15s"
    assert values["PGO_FEATURE_GATES"] == "BackupSnapshots=true"


def test_raw_helm_values_merged_with_typed() -> None:
    """Raw values the typed fields do not own reach the chart; a raw copy of a typed value that
    equals it (quantities by value) is redundant, not a conflict."""
    objects = render(
        operator={"logLevel": "DEBUG"},
        container={"resources": {"limits": {"cpu": "3"}}},
        helmValues={
            "pprofBindAddress": ":6060",
            "logLevel": "DEBUG",
            "resources": {"limits": {"cpu": "3000m"}},
        },
    )
    values = env(objects)
    assert values["PPROF_BIND_ADDRESS"] == ":6060"
    assert values["LOG_LEVEL"] == "DEBUG"
    assert container(objects)["resources"]["limits"] == {"cpu": "3", "memory": "1Gi"}


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_namespace_pod_security_is_one_the_operator_passes(version: str) -> None:
    objects = render(version)
    labels = one(objects, "Namespace")["metadata"]["labels"]
    level = labels["pod-security.kubernetes.io/enforce"]
    assert level == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == level
    assert labels["pod-security.kubernetes.io/audit"] == level
    assert violations(pod(objects), level) == []


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_restricted_would_reject_the_operator_pod(version: str) -> None:
    """Why `restricted` is refused: the chart's container sets no seccompProfile."""
    found = violations(pod(render(version)), "restricted")
    assert found == ["operator: seccompProfile must be RuntimeDefault or Localhost"]
    with pytest.raises(StackInputError, match="seccompProfile"):
        parse_document(manifest(namespacePodSecurity={"level": "restricted"}), "t")


def test_pod_security_configurable() -> None:
    labels = one(render(namespacePodSecurity={"level": "privileged"}), "Namespace")["metadata"][
        "labels"
    ]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    labels = one(render(namespacePodSecurity={"enabled": False}), "Namespace")["metadata"]["labels"]
    assert not [k for k in labels if k.startswith("pod-security.kubernetes.io/")]


def test_plain_helm_renders_the_chart_crds_as_shipped() -> None:
    objects = render(helm={"manageCrds": False})
    crds = [o.object for o in objects if o.kind == "CustomResourceDefinition"]
    assert len(crds) == 8
    assert all(
        "pulumi.com/patchForce" not in (c["metadata"].get("annotations") or {}) for c in crds
    )


def test_existing_namespace_not_rendered() -> None:
    objects = render(namespace="databases", createNamespace=False)
    assert "Namespace" not in [o.kind for o in objects]
    assert one(objects, "Deployment")["metadata"]["namespace"] == "databases"


def _validate(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_every_crd_validates(version: str) -> None:
    """Each chart's CRDs, as the stack applies them, once per chart version."""
    crds = [o for o in render(version) if o.kind == "CustomResourceDefinition"]
    assert len(crds) == 8
    for rendered in crds:
        _validate(rendered.object)


@pytest.mark.parametrize("version", CHART_VERSIONS)
@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_rendered_object_validates(version: str, example: Path) -> None:
    """Every other object of every example (the CRDs do not depend on the example)."""
    stack_input = read_file(example)
    target = stack_input.target.model_dump(by_alias=True, exclude_unset=True)
    target.setdefault("spec", {}).setdefault("helm", {})["version"] = version
    if version not in LEADER_ELECTION_VERSIONS:
        target["spec"].get("operator", {}).pop("leaderElection", None)
        target["spec"].get("operator", {}).pop("featureGates", None)
        target["spec"].get("helmValues", {}).pop("pprofBindAddress", None)  # since 2.9.0 too
    objects = render_stack(StackInput(target=parse_document(target, "t").target))
    checked = [o for o in objects if o.kind != "CustomResourceDefinition"]
    assert "Deployment" in [o.kind for o in checked]
    for rendered in checked:
        _validate(rendered.object)


def test_renderer_and_release_use_the_same_values(monkeypatch: pytest.MonkeyPatch) -> None:
    import helm_python
    from pulumi_harness import RELEASE_TYPE, run_pulumi

    from percona_pg_operator.deploy import PerconaPostgresOperator

    stack_input = read_file(EXAMPLES / "private-registry.yaml")
    used: list[dict[str, Any]] = []
    original = helm_python.Chart.render

    def spy(self: Any, values: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        used.append(values or {})
        return original(self, values, **kwargs)

    monkeypatch.setattr(helm_python.Chart, "render", spy)
    render_stack(stack_input)
    run = run_pulumi(lambda: PerconaPostgresOperator("pg", stack_input))
    assert used == [run.one(RELEASE_TYPE).inputs["values"]]
    assert used[0]["watchNamespace"] == "team-a-db,team-b-db,percona-platform"


def test_render_and_diff_use_one_install_order() -> None:
    from percona_pg_operator.review.render import install_order

    objects = [
        {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "pgo"}}
        for kind, name in (("Deployment", "b"), ("ServiceAccount", "a"), ("Role", "c"))
    ]
    changes = diff_objects([], objects, set())
    expected = sorted(objects, key=lambda o: install_order(o["kind"], "pgo", o["metadata"]["name"]))
    assert [c.kind for c in changes] == [o["kind"] for o in expected]
    assert [c.kind for c in changes] == ["ServiceAccount", "Role", "Deployment"]


@pytest.mark.parametrize("purpose", ["render", "repair"])
def test_one_install_hint_for_the_helm_engine(
    monkeypatch: pytest.MonkeyPatch, purpose: str
) -> None:
    from percona_pg_operator.chart import INSTALL_HINT, helm_engine
    from percona_pg_operator.cluster.repair import helm_config

    monkeypatch.setitem(sys.modules, "helm_python", None)
    with pytest.raises(RenderError) as info:
        if purpose == "render":
            helm_engine()
        else:
            helm_config(ClusterCredentials(kubeconfig=yaml.safe_dump({})), "pgo")
    assert INSTALL_HINT in str(info.value)


# -- --output-dir writes and removes only its own files ----------------------------------------


OBJECTS = [
    RenderedObject({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pgo"}}),
    RenderedObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
]


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry below ``root``: a file's bytes, a link's target, a folder."""
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = ("link", os.readlink(path))
        elif path.is_file():
            found[key] = ("file", path.read_bytes())
        else:
            found[key] = ("dir",)
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """What a render must never touch: a sibling render's folder and a file beside them."""
    root = tmp_path / "outside"
    (root / "other-render").mkdir(parents=True)
    (root / "other-render" / "01-namespace-pgo.yaml").write_text("theirs")
    (root / "x").write_text("precious")
    return root


@pytest.mark.parametrize(
    "listed",
    [
        "../outside/x",
        "{outside}/x",
        "../outside/other-render/01-namespace-pgo.yaml",
        "link/x",
        "01-linked-x.yaml",
    ],
)
def test_a_marker_never_leads_a_render_outside_its_folder(
    tmp_path: Path, outside: Path, listed: str
) -> None:
    """Before: the marker listing `../x`, an absolute path, a path through a link inside the
    folder or a sibling render's file made render delete that file, exit 0."""
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "link").symlink_to(outside, target_is_directory=True)
    (out / "01-linked-x.yaml").symlink_to(outside / "x")
    (out / RENDER_MARKER).write_text(listed.format(outside=outside) + "\n")
    before = snapshot(outside)
    with pytest.raises(OutputFileError):
        write_objects(OBJECTS, out)
    assert snapshot(outside) == before
    assert (out / "01-linked-x.yaml").is_symlink(), "what it did not write is left alone"


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        ("marker-directory", "is a directory"),
        ("marker-binary", "is not UTF-8"),
        ("marker-fifo", "is not a regular file"),
        ("marker-link", "is a link"),
        ("parent-file", "cannot be written"),
        ("folder-file", "cannot be written"),
    ],
)
def test_a_bad_folder_or_marker_is_a_clear_error_not_a_crash(
    tmp_path: Path, state: str, fragment: str
) -> None:
    """Before: internal errors (exit 9); a FIFO marker would have blocked."""
    out = tmp_path / "rendered"
    if state.startswith("marker"):
        out.mkdir()
        marker = out / RENDER_MARKER
        if state == "marker-directory":
            marker.mkdir()
        elif state == "marker-binary":
            marker.write_bytes(b"\xff\xfe\x00")
        elif state == "marker-fifo":
            os.mkfifo(marker)
        else:
            marker.symlink_to(tmp_path / "elsewhere")
    elif state == "parent-file":
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "rendered"
    else:
        out.write_text("a file where the folder should be")
    with pytest.raises(OutputFileError, match=fragment):
        write_objects(OBJECTS, out)


def test_a_bad_output_dir_exits_2_through_the_command(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "rendered"
    result = CliRunner().invoke(
        cli, ["render", str(EXAMPLES / "dev.yaml"), "--output-dir", str(out)]
    )
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "cannot be written" in result.stderr and "Traceback" not in result.output


# Marker lines as an attacker would write them, against a folder with links going out.
_MARKER_LINES = st.one_of(
    st.sampled_from(
        ["../outside/x", "OUTSIDE/x", "link/x", "01-linked-x.yaml", "01-namespace-pgo.yaml",
         "../outside/other-render/01-namespace-pgo.yaml", "..", ".", "/", "", "02-x.yaml"]
    ),
    st.text(min_size=1, max_size=30),
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(_MARKER_LINES, max_size=6),
    links=st.lists(st.sampled_from(["link", "01-linked-x.yaml", "02-x.yaml"]), max_size=3),
    raw=st.binary(max_size=40),
    use_raw=st.booleans(),
)
def test_no_marker_and_no_link_lets_a_render_change_anything_outside(
    lines: list[str], links: list[str], raw: bytes, use_raw: bool
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        outside = root / "outside"
        (outside / "other-render").mkdir(parents=True)
        (outside / "other-render" / "01-namespace-pgo.yaml").write_text("theirs")
        (outside / "x").write_text("precious")
        out = root / "rendered"
        out.mkdir()
        for name in set(links):
            target = outside if name == "link" else outside / "x"
            (out / name).symlink_to(target)
        text = "\n".join(line.replace("OUTSIDE", str(outside)) for line in lines)
        (out / RENDER_MARKER).write_bytes(raw if use_raw else text.encode())
        before = snapshot(outside)
        with contextlib.suppress(OutputFileError):
            write_objects(OBJECTS, out)
        assert snapshot(outside) == before
        for name in set(links):
            assert (out / name).is_symlink()
