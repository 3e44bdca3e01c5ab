"""Raw spec.helmValues against the chart version's own values (chart/_raw_values.py), and
where they are checked: render, the component, validate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import FIXTURE_REPO, manifest

from percona_pg_operator.chart import (
    ChartRepository,
    raw_values_problems,
)
from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.errors import (
    StackInputError,
)
from percona_pg_operator.manifest import (
    parse_document,
)
from percona_pg_operator.review.render import render_stack


@pytest.fixture
def package_27(warm_cache: Path) -> Any:
    return ChartRepository(str(FIXTURE_REPO), cache_dir=warm_cache).fetch("pg-operator", "2.7.0")


@pytest.mark.parametrize(
    ("raw", "path", "fragment"),
    [
        ({"pprofBindAdress": ":6060"}, "pprofBindAdress", "has no value 'pprofBindAdress'"),
        ({"pprofBindAddress": ":6060"}, "pprofBindAddress", "2.7.0 has no value"),  # since 2.9.0
        ({"rbac": {"useClusterAdmn": True}}, "rbac.useClusterAdmn", "has no value"),
        ({"nameOverride": ["x"]}, "nameOverride", "expects a string here"),
        ({"fullnameOverride": {"a": 1}}, "fullnameOverride", "not a mapping"),
    ],
)
def test_raw_values_the_chart_version_does_not_have_are_refused(
    package_27: Any, raw: dict[str, Any], path: str, fragment: str
) -> None:
    problems = raw_values_problems(raw, package_27)
    assert [".".join(p.loc) for p in problems] == [f"helmValues.{path}"]
    assert fragment in problems[0].message and "pg-operator 2.7.0" in problems[0].message


def test_raw_values_the_chart_reads_are_accepted(package_27: Any) -> None:
    """Keys from values.yaml and keys only the templates read (rbac.useClusterAdmin, commented out
    in values.yaml), numbers where a string is expected, and null (Helm's "unset")."""
    raw = {"nameOverride": "pgo", "fullnameOverride": None, "rbac": {"useClusterAdmin": True}}
    assert raw_values_problems(raw, package_27) == []


@pytest.mark.parametrize(
    ("raw", "owner"),
    [
        ({"watchNamespace": "a,b"}, "spec.tenancy"),
        ({"watchAllNamespaces": True}, "spec.tenancy"),
        ({"image": "evil/operator:latest"}, "spec.image"),
        ({"resources": {"limits": {"cpu": "2"}}}, "spec.container.resources"),
        ({"podAnnotations": {"a": "b"}}, "spec.operator.podAnnotations"),
        ({"leaseDuration": "1h"}, "spec.operator.leaderElection.leaseDuration"),
    ],
)
def test_raw_values_a_typed_field_owns_must_be_set_through_it(
    raw: dict[str, Any], owner: str
) -> None:
    """Otherwise raw values would bypass the typed checks (tenancy, image, quantities)."""
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(helmValues=raw), "t")
    assert f"is owned by {owner}" in str(info.value)
    assert "set it there" in str(info.value)


def test_render_refuses_raw_values_the_chart_lacks(fixture_repo_env: Path) -> None:
    doc = manifest(helm={"version": "2.8.2"}, helmValues={"pprofBindAddress": "0"})
    stack_input = parse_document(doc, "t")  # valid on its own; the chart decides
    with pytest.raises(StackInputError) as info:
        render_stack(stack_input)
    assert "does not fit chart pg-operator 2.8.2" in str(info.value)
    assert "spec.helmValues.pprofBindAddress" in str(info.value)


def test_the_component_refuses_raw_values_the_chart_lacks(fixture_repo_env: Path) -> None:
    """With plain Helm CRDs too: the package is fetched and verified to check the values."""
    from pulumi_harness import run_pulumi

    from percona_pg_operator.deploy import PerconaPostgresOperator

    doc = manifest(helm={"manageCrds": False}, helmValues={"bogus": 1})
    stack_input = parse_document(doc, "t")
    with pytest.raises(StackInputError, match=r"spec\.helmValues\.bogus: chart pg-operator 3\.0"):
        run_pulumi(lambda: PerconaPostgresOperator("pg", stack_input))


def manifest_file(tmp_path: Path, **spec: object) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(manifest(**spec)))
    return path


def test_validate_checks_raw_values_when_the_chart_is_available(
    fixture_repo_env: Path, tmp_path: Path
) -> None:
    path = manifest_file(tmp_path, helmValues={"nameOverrde": "x"})
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "spec.helmValues.nameOverrde: chart pg-operator 3.0.0 has no value" in result.output


def test_validate_checks_raw_values_in_the_same_pass_as_the_schema(
    fixture_repo_env: Path, tmp_path: Path
) -> None:
    """A typo elsewhere no longer hides what the chart says about helmValues."""
    path = manifest_file(tmp_path, createNamespce=True, helmValues={"nameOverrde": "x"})
    result = CliRunner().invoke(cli, ["validate", str(path), "-o", "json"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    (file,) = json.loads(result.stdout)["files"]
    assert [p["path"] for p in file["problems"]] == [
        "spec.createNamespce",
        "spec.helmValues.nameOverrde",
    ]


def test_validate_says_when_raw_values_could_not_be_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(tmp_path / "no-such-repo"))
    path = manifest_file(tmp_path, helmValues={"nameOverride": "x"})
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    assert "spec.helmValues not checked against chart pg-operator 3.0.0" in result.output


def test_validate_offline_uses_only_the_cache(
    fixture_repo_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = manifest_file(tmp_path, helmValues={"nameOverrde": "x"})
    # The warm cache holds 3.0.0: checked with no repository at all.
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    result = CliRunner().invoke(cli, ["validate", "--offline", str(path)])
    assert (
        result.exit_code == ExitCode.INVALID_INPUT and "has no value 'nameOverrde'" in result.output
    )
    assert ": ok:" not in result.output  # no "ok" line for a file that fails
    # An empty cache: not checked, and said so, with no download attempted.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    result = CliRunner().invoke(cli, ["validate", "--offline", str(path)])
    assert result.exit_code == 0
    assert "not in the chart cache (--offline)" in result.output
    assert not (tmp_path / "empty-cache").exists()
