"""The command line, through click's test runner."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import EXAMPLES, manifest

from percona_pg_operator.cli import cli, main


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def write(tmp_path: Path, doc: object, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return str(path)


def test_validate_examples() -> None:
    code, out = invoke("validate", *map(str, sorted(EXAMPLES.glob("*.yaml"))))
    assert code == 0
    assert out.count(": ok: ") == len(list(EXAMPLES.glob("*.yaml")))


def test_validate_summary_line() -> None:
    code, out = invoke("validate", str(EXAMPLES / "dev.yaml"))
    assert code == 0
    assert "percona-pg-operator-dev -> namespace percona-dev" in out
    assert "limits 500m/512Mi, requests 50m/128Mi" in out


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (manifest(contianer={}), "spec.contianer"),
        (
            manifest(container={"resources": {"limits": {"memory": "1 gig"}}}),
            "spec.container.resources.limits.memory",
        ),
        (manifest(namespace="Not_Valid"), "spec.namespace"),
    ],
)
def test_validate_bad_manifest_exits_1_naming_field(
    tmp_path: Path, doc: object, field: str
) -> None:
    code, out = invoke("validate", write(tmp_path, doc))
    assert code == 1
    assert field in out
    assert "Traceback" not in out


@pytest.mark.parametrize("content", ["", "{{{", "[1, 2]", "\x00\x01binary"])
def test_validate_garbage_without_traceback(tmp_path: Path, content: str) -> None:
    code, out = invoke("validate", write(tmp_path, content))
    assert code == 1
    assert "Traceback" not in out


def test_validate_missing_file(tmp_path: Path) -> None:
    code, out = invoke("validate", str(tmp_path / "absent.yaml"))
    assert code == 1
    assert "no such file" in out


def test_main_turns_errors_into_exit_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", write(tmp_path, manifest(namespace="BAD"))])
    assert info.value.code == 1
    assert "spec.namespace" in capsys.readouterr().err


def test_main_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2
