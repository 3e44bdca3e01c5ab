"""`diff` with the real chart: one field per configuration area changes exactly the expected
objects; `--live` against the local API server; the preview summary under mocks; no secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, manifest
from kube_api import KubeApi, install, namespace, serve
from pulumi_harness import RecordingMocks, run_pulumi

from percona_pg_operator.chart import ChartRepository
from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.manifest import build_helm_values, parse_document
from percona_pg_operator.review.diff import (
    MASK,
    describe,
    diff_objects,
    field_changes,
    mask,
    rendered_objects,
    sensitive_values,
    summary,
)

pytestmark = [pytest.mark.chart, pytest.mark.usefixtures("fixture_repo_env")]

BASE: dict[str, Any] = {"createNamespace": True}
# One field of each configuration area, and exactly the objects it changes.
AREAS = [
    (
        "resources",
        {"container": {"resources": {"limits": {"cpu": "2"}}}},
        {("Deployment", "changed")},
    ),
    (
        "tenancy",
        {"tenancy": {"mode": "namespaces", "namespaces": ["team-a"]}},
        {
            ("Deployment", "changed"),
            ("Role", "removed"),
            ("RoleBinding", "removed"),
            ("ClusterRole", "added"),
            ("ClusterRoleBinding", "added"),
        },
    ),
    ("image", {"image": {"pullPolicy": "IfNotPresent"}}, {("Deployment", "changed")}),
    ("scheduling", {"scheduling": {"nodeSelector": {"pool": "db"}}}, {("Deployment", "changed")}),
    ("operator", {"operator": {"logLevel": "DEBUG"}}, {("Deployment", "changed")}),
    (
        "pod security",
        {"namespacePodSecurity": {"level": "privileged"}},
        {("Namespace", "changed")},
    ),
    ("raw values", {"helmValues": {"pprofBindAddress": ":6060"}}, {("Deployment", "changed")}),
    (
        "plain helm CRDs",
        {"helm": {"manageCrds": False}},
        {("CustomResourceDefinition", "changed")},
    ),
    (
        "chart version",
        {"helm": {"version": "2.9.0"}},
        {
            ("Deployment", "changed"),
            ("Role", "changed"),
            ("RoleBinding", "changed"),  # its helm.sh/chart label names the chart version
            ("CustomResourceDefinition", "changed"),
            ("CustomResourceDefinition", "added"),
            ("CustomResourceDefinition", "removed"),
        },
    ),
]


def doc(**spec: Any) -> Any:
    return parse_document(manifest(**{**BASE, **spec}), "t")


@pytest.mark.parametrize(("area", "change", "expected"), AREAS, ids=[a[0] for a in AREAS])
def test_one_field_per_area_changes_exactly_the_expected_objects(
    area: str, change: dict[str, Any], expected: set[tuple[str, str]]
) -> None:
    changes = diff_objects(rendered_objects(doc()), rendered_objects(doc(**change)))
    assert {(c.kind, c.change) for c in changes} == expected
    assert all(c.unified for c in changes)


def test_field_paths_carry_old_and_new_values() -> None:
    changes = diff_objects(
        rendered_objects(doc()), rendered_objects(doc(operator={"logLevel": "DEBUG"}))
    )
    (deployment,) = changes
    (field,) = deployment.fields
    assert field.path.startswith("spec.template.spec.containers[0].env[")
    assert (field.old, field.new) == ("INFO", "DEBUG")
    assert (
        "- name: LOG_LEVEL" in deployment.unified
        and "+          value: DEBUG" in deployment.unified
    )


def test_field_changes_on_plain_data() -> None:
    old = {"a": {"b": 1, "c": [1, 2]}, "gone": True}
    new = {"a": {"b": 2, "c": [1, 3]}, "new": "x"}
    assert [(f.path, f.old, f.new) for f in field_changes(old, new)] == [
        ("a.b", 1, 2),
        ("a.c[1]", 2, 3),
        ("gone", True, None),
        ("new", None, "x"),
    ]


def test_secrets_and_credential_like_values_are_masked() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"k": "c2VjcmV0"},
    }
    masked = mask(secret, set())
    assert masked["data"] == {"k": MASK}
    values = {
        "pprofBindAddress": "x",
        "db": {"password": "hunter22", "port": 5432},
        "apiToken": 9876,
    }
    assert sensitive_values(values) == {"hunter22", "9876"}
    assert mask({"env": "url=postgres://u:hunter22@h"}, {"hunter22"}) == {
        "env": f"url=postgres://u:{MASK}@h"
    }


def write(tmp_path: Path, name: str, **spec: Any) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(manifest(**{**BASE, **spec})))
    return str(path)


def test_cli_diff_exit_codes_text_and_json(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml")
    same = CliRunner().invoke(cli, ["diff", base, "--against", base])
    assert same.exit_code == 0 and same.stdout == "no changes\n"
    assert same.stderr.count("chart pg-operator 3.0.0:") == 1, "one chart, resolved once"
    debug = write(tmp_path, "debug.yaml", operator={"logLevel": "DEBUG"})
    text = CliRunner().invoke(cli, ["diff", debug, "--against", base])
    assert text.exit_code == ExitCode.CHANGES
    assert text.stdout.startswith(
        "Summary: 1 object(s) change: Deployment/pg-op-pg-operator (env LOG_LEVEL)\n"
    )
    assert "\nDeployment percona-postgres-operator/pg-op-pg-operator: changed\n" in text.stdout
    assert "\x1b[" not in text.stdout, "no colour when not on a terminal"
    document = json.loads(
        CliRunner().invoke(cli, ["diff", debug, "--against", base, "--output", "json"]).stdout
    )
    (change,) = document["changes"]
    assert change["kind"] == "Deployment" and change["change"] == "changed"
    assert change["fields"][0]["old"] == "INFO" and change["fields"][0]["new"] == "DEBUG"
    assert document["summary"] == "1 object(s) change: Deployment/pg-op-pg-operator (env LOG_LEVEL)"
    missing = CliRunner().invoke(cli, ["diff", str(tmp_path / "nope.yaml"), "--against", base])
    assert missing.exit_code == ExitCode.INVALID_INPUT and "no such file" in missing.output
    neither = CliRunner().invoke(cli, ["diff", base])
    assert neither.exit_code == ExitCode.USAGE and "exactly one of" in neither.output


def _upgrade_to_3_0(tmp_path: Path, *extra: str) -> Any:
    old = write(tmp_path, "old.yaml", helm={"version": "2.9.0"})
    new = write(tmp_path, "new.yaml", helm={"version": "3.0.0", "acknowledgeIrreversible": "3.0"})
    return CliRunner().invoke(cli, ["diff", new, "--against", old, *extra])


def test_the_2_9_to_3_0_review_names_the_image_change_first(tmp_path: Path) -> None:
    """A reviewer finds the operator's image change in the first 2,000 bytes, not at line
    33,910 after megabytes of CRD schema."""
    result = _upgrade_to_3_0(tmp_path)
    assert result.exit_code == ExitCode.CHANGES, result.output
    head = result.stdout.encode()[:2000].decode(errors="ignore")
    assert "Deployment pg-op-pg-operator: image 2.9.0 -> 3.0.0" in head
    assert "-        image: docker.io/percona/percona-postgresql-operator:2.9.0" in head
    assert len(result.stdout) < 20_000, "CRD schemas collapsed"


def test_crds_show_what_changes_and_the_old_group_is_kept(tmp_path: Path) -> None:
    text = _upgrade_to_3_0(tmp_path).stdout
    kept = "postgresclusters.postgres-operator.crunchydata.com"
    assert f"CustomResourceDefinition {kept}: kept in the cluster" in text
    assert f"CustomResourceDefinition {kept}: removed" not in text
    assert "CRDs kept: " in text and "never deleted" in text
    assert "openAPIV3Schema:" not in text, "no schema body without --full"
    full = _upgrade_to_3_0(tmp_path, "--full").stdout
    assert "openAPIV3Schema:" in full and len(full) > 10 * len(text)


def test_max_bytes_keeps_the_summary_and_the_workloads(tmp_path: Path) -> None:
    result = _upgrade_to_3_0(tmp_path, "--full", "--max-bytes", "3000")
    assert len(result.stdout.encode()) <= 3000
    assert result.stdout.startswith("Summary: ")
    assert "image: docker.io/percona/percona-postgresql-operator:3.0.0" in result.stdout
    assert result.stdout.endswith("more bytes; without --max-bytes, or with -o json, for all)\n")


def test_cli_diff_masks_credential_values(tmp_path: Path) -> None:
    base = write(tmp_path, "base.yaml")
    token = "s3cr3t-token-value"
    leaky = write(tmp_path, "leaky.yaml", operator={"podAnnotations": {"example.com/token": token}})
    for output in ("text", "json"):
        result = CliRunner().invoke(cli, ["diff", leaky, "--against", base, "--output", output])
        assert result.exit_code == ExitCode.CHANGES
        assert token not in result.output and MASK in result.output


# -- against the live release --------------------------------------------------------------------

NS, RELEASE = "percona-postgres-operator", "pg-op"


@pytest.fixture
def api() -> Iterator[KubeApi]:
    with serve() as server:
        yield server


def live_input(api: KubeApi, tmp_path: Path, **spec: Any) -> str:
    doc = {
        "target": manifest(**{**BASE, **spec}),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    path = tmp_path / "stack-input.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_cli_diff_live(api: KubeApi, tmp_path: Path) -> None:
    api.add(namespace(NS, {"kubernetes.io/metadata.name": NS}))
    install(api, FIXTURE_REPO / "pg-operator-2.9.0.tgz", release=RELEASE, namespace=NS)
    path = live_input(api, tmp_path, helm={"version": "3.0.0"})
    result = CliRunner().invoke(cli, ["diff", path, "--live", "--output", "json"])
    assert result.exit_code == ExitCode.CHANGES, result.output
    changes = {(c["kind"], c["name"]): c["change"] for c in json.loads(result.output)["changes"]}
    moved = ["crunchybridgeclusters", "pgadmins", "pgupgrades", "postgresclusters"]
    for name in moved:
        assert changes[("CustomResourceDefinition", f"{name}.upstream.pgv2.percona.com")] == "added"
        assert (
            changes[("CustomResourceDefinition", f"{name}.postgres-operator.crunchydata.com")]
            == "removed"
        )
    assert changes[("Deployment", "pg-op-pg-operator")] == "changed"
    assert changes[("Namespace", NS)] == "changed", "the stack adds its labels"
    assert api.token not in result.output


def test_preview_logs_what_changes_inside_the_release(api: KubeApi) -> None:
    from percona_pg_operator.deploy.program import run

    api.add(namespace(NS))
    install(api, FIXTURE_REPO / "pg-operator-2.9.0.tgz", release=RELEASE, namespace=NS)
    stack_input = {
        "target": manifest(**BASE, helm={"acknowledgeIrreversible": "3.0"}),
        "providerConfig": {"provider": "kubeconfig", "kubeconfig": {"content": api.kubeconfig()}},
    }
    mocks = RecordingMocks(
        previous_outputs={"namespace": NS, "release_name": RELEASE, "chart_version": "2.9.0"}
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("STACK_INPUT_YAML", yaml.safe_dump(stack_input))
        env.setenv("PERCONA_PG_OPERATOR_PREFLIGHT", "on")
        result = run_pulumi(run, mocks, preview=True)
    (line,) = [m for m in result.logged("INFO") if m.startswith("inside the release:")]
    assert "Deployment/pg-op-pg-operator (" in line
    assert "Deployment/pg-op-pg-operator (image 2.9.0 -> 3.0.0" in line
    assert "CRDs: 4 added" in line and "4 kept in cluster" in line
    (full,) = [m for m in result.logged("DEBUG") if "Deployment percona-postgres-operator/" in m]
    assert "+++ Deployment" in full


def test_no_summary_when_version_and_values_are_what_runs(api: KubeApi) -> None:
    from percona_pg_operator.cluster._state import ClusterState
    from percona_pg_operator.review.diff import release_change

    state = ClusterState(
        server="s", server_version="v1", namespace_exists=True, namespace_labels={},
        releases=[], deployment=None, crds=[], databases=[],
    )  # fmt: skip
    package = ChartRepository(str(FIXTURE_REPO)).fetch("pg-operator", "3.0.0")
    values = build_helm_values(doc().target.spec)
    assert release_change(doc(), state, package, values) is None, "nothing installed"


def test_summary_counts() -> None:
    old = rendered_objects(doc())
    new = rendered_objects(doc(helm={"version": "2.9.0"}))
    text = summary(diff_objects(old, new))
    assert text.startswith(
        "3 object(s) change: Role/pg-op-pg-operator (rules, labels); "
        "RoleBinding/pg-op-pg-operator (labels); "
        "Deployment/pg-op-pg-operator (image 3.0.0 -> 2.9.0, labels); "
    )
    assert "CRDs: 4 added, 4 changed, 4 kept in cluster" in text


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        ([], {}, True),
        ([], {"NO_COLOR": "1"}, False),
        ([], {"NO_COLOR": ""}, True),  # https://no-color.org: set and not empty
        (["--no-color"], {}, False),
        (["--no-color", "first"], {}, False),  # before the command's name too
    ],
)
def test_diff_colour_on_a_terminal_unless_told_no(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    env: dict[str, str],
    coloured: bool,
) -> None:
    from types import SimpleNamespace

    from percona_pg_operator.cli import _cluster

    class Terminal:
        @staticmethod
        def isatty() -> bool:
            return True

    monkeypatch.setattr(_cluster, "sys", SimpleNamespace(stdout=Terminal()))
    monkeypatch.delenv("NO_COLOR", raising=False)
    base = write(tmp_path, "base.yaml")
    debug = write(tmp_path, "debug.yaml", operator={"logLevel": "DEBUG"})
    before = ["--no-color"] if "first" in flags else []
    after = [] if "first" in flags else flags
    args = [*before, "diff", debug, "--against", base, *after]
    result = CliRunner(env=env).invoke(cli, args)
    assert result.exit_code == ExitCode.CHANGES, result.output
    assert ("\x1b[" in result.stdout) is coloured


DIGEST = "sha256:" + "0123456789abcdef" * 4


def _deployment(image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "op", "namespace": "pgo"},
        "spec": {"template": {"spec": {"containers": [{"name": "op", "image": image}]}}},
    }


def test_the_diff_shows_a_digest_as_the_verification_reads_it() -> None:
    """The preview line used to show a digest's hex where the verification showed the tag."""
    before = [_deployment("percona/op:2.9.0")]
    after = [_deployment(f"percona/op@{DIGEST}")]
    (change,) = diff_objects(before, after, set())
    assert "image 2.9.0 -> sha256:0123456789ab" in describe(change)
