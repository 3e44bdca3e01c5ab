"""What the manifest loader still let through: booleans as numbers, YAML sets as lists, URLs
with impossible ports, YAML 1.1 booleans as keys; and key files that are not files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import manifest

from percona_pg_operator.chart import chart_repo_url
from percona_pg_operator.cli import cli
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.errors import ChartRepositoryError, StackInputError
from percona_pg_operator.manifest import load_stack_input, parse_document


def load_text(text: str) -> Any:
    return load_stack_input(environ={"STACK_INPUT_YAML": text}, config_value=lambda: None)


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        ({"operator": {"replicas": True}}, "spec.operator.replicas"),
        ({"helm": {"timeoutSeconds": False}}, "spec.helm.timeoutSeconds"),
        ({"verify": {"pollSeconds": True}}, "spec.verify.pollSeconds"),
    ],
)
def test_a_boolean_is_not_a_number(spec: dict[str, Any], path: str) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(**spec), "t")
    assert f"{path}: must be a number, not a boolean" in str(info.value)


def test_numbers_still_work() -> None:
    stack = parse_document(manifest(operator={"replicas": 2}), "t")
    assert stack.target.spec.operator.replicas == 2


def test_a_yaml_set_is_not_a_list() -> None:
    text = yaml.safe_dump({"target": manifest()}) + "extra: !!set {a, b}\n"
    with pytest.raises(StackInputError, match=r"a YAML set \(!!set\) is not a list"):
        load_text(text)


def test_a_yaml_1_1_boolean_key_is_named_as_such() -> None:
    text = yaml.safe_dump({"target": manifest()}).replace("spec: {}", "spec:\n    on: x")
    assert "on: x" in text
    with pytest.raises(StackInputError) as info:
        load_text(text)
    message = str(info.value)
    assert "read as the boolean true" in message and "YAML 1.1" in message
    assert 'quote it, e.g. "on":' in message


@pytest.mark.parametrize(
    "url", ["https://charts.example.com:99999", "https://charts.example.com:0", "https://:443/x"]
)
def test_a_repository_url_with_no_possible_port_or_host_is_refused(url: str) -> None:
    with pytest.raises(StackInputError) as info:
        parse_document(manifest(helm={"repo": url}), "t")
    assert "spec.helm.repo: is not a URL" in str(info.value)
    with pytest.raises(ChartRepositoryError, match="is not a URL"):
        chart_repo_url(None, {"PERCONA_PG_OPERATOR_CHART_REPO": url})


def test_good_repository_urls_pass() -> None:
    for url in ("https://percona.github.io/percona-helm-charts/", "http://mirror:8080/charts"):
        stack = parse_document(manifest(helm={"repo": url}), "t")
        assert stack.target.spec.helm.repo == url


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_the_gke_key_file_must_be_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "key.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path = Path(kind)
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["credentials", "gke", "--key-file", str(path)])
    assert time.monotonic() - started < 5
    assert result.exit_code in (ExitCode.UNREADABLE, ExitCode.USAGE), result.output
    assert "--key-file" in result.output or "Invalid value" in result.output
    assert "Traceback" not in result.output
