"""The command line, through click's test runner."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import EXAMPLES, FIXTURE_REPO, manifest

from percona_pg_operator.cli import cli, main
from percona_pg_operator.cli.exitcodes import ExitCode
from percona_pg_operator.review.render import RENDER_MARKER


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
def test_validate_bad_manifest_is_invalid_input_naming_field(
    tmp_path: Path, doc: object, field: str
) -> None:
    code, out = invoke("validate", write(tmp_path, doc))
    assert code == ExitCode.INVALID_INPUT
    assert field in out
    assert "Traceback" not in out


@pytest.mark.parametrize("content", ["", "{{{", "[1, 2]", "\x00\x01binary"])
def test_validate_garbage_without_traceback(tmp_path: Path, content: str) -> None:
    code, out = invoke("validate", write(tmp_path, content))
    assert code == ExitCode.INVALID_INPUT
    assert "Traceback" not in out


def test_validate_missing_file(tmp_path: Path) -> None:
    code, out = invoke("validate", str(tmp_path / "absent.yaml"))
    assert code == ExitCode.INVALID_INPUT
    assert "no such file" in out


def test_main_turns_errors_into_exit_codes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", write(tmp_path, manifest(namespace="BAD"))])
    assert info.value.code == ExitCode.INVALID_INPUT
    assert "spec.namespace" in capsys.readouterr().err


def test_main_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def test_schema_is_json_and_matches_the_committed_file() -> None:
    import json

    from conftest import ROOT

    code, out = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    committed = ROOT / "schema" / "kubernetes-percona-postgres-operator.schema.json"
    assert json.loads(committed.read_text()) == schema, "regenerate: percona-pg-operator schema"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_every_example(example: Path) -> None:
    import json

    import jsonschema

    stack = json.loads(invoke("schema", "--stack-input")[1])
    doc = yaml.safe_load(example.read_text())
    if "target" not in doc:
        doc = {"target": doc}
    jsonschema.validate(doc, stack)


def test_schema_rejects_a_typo() -> None:
    import json

    import jsonschema

    schema = json.loads(invoke("schema")[1])
    with pytest.raises(jsonschema.ValidationError, match="contianer"):
        jsonschema.validate(manifest(contianer={}), schema)


def test_schema_accepts_snake_case() -> None:
    import json

    import jsonschema

    schema = json.loads(invoke("schema")[1])
    jsonschema.validate(manifest(create_namespace=False, namespace="x"), schema)


@pytest.fixture
def http_repo(warm_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The Percona repository on 127.0.0.1, with the session's warm chart cache."""
    from repo_server import serve

    monkeypatch.setenv("XDG_CACHE_HOME", str(warm_cache.parent))
    with serve(FIXTURE_REPO) as server:
        yield server.url


def test_render_stdout_is_a_stable_yaml_stream(http_repo: str) -> None:
    args = ["render", str(EXAMPLES / "basic.yaml"), "--chart-repo", http_repo]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in docs][:2] == ["Namespace", "CustomResourceDefinition"]
    assert docs[-1]["kind"] == "Deployment"
    assert "downloading" not in result.stderr, "no progress indicator when not on a terminal"
    again = CliRunner().invoke(cli, args)
    assert again.stdout == result.stdout


def test_render_output_dir(tmp_path: Path, http_repo: str) -> None:
    out = tmp_path / "rendered"
    result = CliRunner().invoke(
        cli,
        ["render", str(EXAMPLES / "dev.yaml"), "--chart-repo", http_repo, "--output-dir", str(out)],
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir() if p.name != RENDER_MARKER)
    assert files[0] == "01-namespace-percona-dev.yaml"
    assert files[-1] == "13-deployment-percona-pg-operator-dev.yaml"
    assert len(files) == 13
    deployment = yaml.safe_load((out / files[-1]).read_text())
    assert deployment["metadata"]["namespace"] == "percona-dev"
    assert result.stdout == ""


def test_render_output_dir_replaces_what_it_wrote_before(tmp_path: Path, http_repo: str) -> None:
    out = tmp_path / "rendered"

    def render(*args: str) -> Result:
        flags = ["--chart-repo", http_repo, "--output-dir", str(out)]
        return CliRunner().invoke(cli, ["render", *args, *flags])

    assert render(str(EXAMPLES / "dev.yaml")).exit_code == 0
    stack = tmp_path / "no-namespace.yaml"
    stack.write_text(yaml.safe_dump(manifest(createNamespace=False, namespace="elsewhere")))
    second = render(str(stack))
    assert second.exit_code == 0, second.output
    files = sorted(p.name for p in out.iterdir() if p.name != RENDER_MARKER)
    assert len(files) == 12 and not any("percona-dev" in name for name in files)
    assert f"wrote {len(files)} objects" in second.stderr


def test_render_output_dir_refuses_a_folder_holding_other_files(
    tmp_path: Path, http_repo: str
) -> None:
    out = tmp_path / "rendered"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    flags = ["--chart-repo", http_repo, "--output-dir", str(out)]
    result = CliRunner().invoke(cli, ["render", str(EXAMPLES / "dev.yaml"), *flags])
    assert result.exit_code == ExitCode.USAGE
    assert "holds files an earlier render did not write (notes.txt)" in result.stderr
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_render_reads_mirror_from_env(monkeypatch: pytest.MonkeyPatch, http_repo: str) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", http_repo)
    result = CliRunner().invoke(cli, ["render", str(EXAMPLES / "basic.yaml")])
    assert result.exit_code == 0, result.output


def test_render_without_helm_engine_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, http_repo: str
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "helm_python", None)
    code, out = invoke("render", str(EXAMPLES / "basic.yaml"), "--chart-repo", http_repo)
    assert code == ExitCode.UNAVAILABLE
    assert "pip install 'helm-python-sdk>=0.2.2' (the render extra)" in out


def test_render_unreachable_repo_is_one_clear_error(tmp_path: Path) -> None:
    code, out = invoke(
        "render", str(EXAMPLES / "basic.yaml"), "--chart-repo", str(tmp_path / "no-repo")
    )
    assert code == ExitCode.UNAVAILABLE
    assert "index.yaml" in out
    assert "Traceback" not in out


def test_progress_indicator(capsys: pytest.CaptureFixture[str]) -> None:
    from percona_pg_operator.cli._notes import _Progress

    progress = _Progress()
    progress("https://example.com/charts/pg-operator-3.0.0.tgz", 50, 200)
    progress("https://example.com/charts/pg-operator-3.0.0.tgz", 200, 200)
    progress.finish()
    err = capsys.readouterr().err
    assert "downloading pg-operator-3.0.0.tgz 25%" in err
    assert err.endswith("100%\n")


def test_validate_puts_each_error_under_its_file(tmp_path: Path) -> None:
    """A chart-values error names a spec path only: with several files, it is said under the
    file it belongs to, in the text and in the JSON."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(manifest(helmValues={"bogus": 1})))
    good = str(EXAMPLES / "basic.yaml")
    text = CliRunner().invoke(cli, ["validate", good, str(bad)])
    assert text.exit_code == ExitCode.INVALID_INPUT
    assert f"{bad}: spec.helmValues does not fit chart pg-operator 3.0.0" in text.stderr
    assert text.stdout.startswith(f"{good}: ok:")
    result = CliRunner().invoke(cli, ["validate", good, str(bad), "-o", "json"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    document = json.loads(result.stdout)
    assert (document["schema_version"], document["valid"]) == (1, False)
    first, second = document["files"]
    assert (first["file"], first["valid"]) == (good, True)
    assert second["file"] == str(bad) and second["error"].startswith(f"{bad}: ")
    assert [p["path"] for p in second["problems"]] == ["spec.helmValues.bogus"]


def test_every_json_document_starts_with_its_schema_version(tmp_path: Path) -> None:
    """The error document too: a command that fails with -o json still prints one."""
    missing = str(tmp_path / "absent.yaml")
    for args in (["preflight", missing], ["status", missing], ["diff", missing, "--live"]):
        result = CliRunner().invoke(cli, [*args, "-o", "json"])
        assert result.exit_code == ExitCode.INVALID_INPUT, args
        document = json.loads(result.stdout)
        assert next(iter(document)) == "schema_version" and "error" in document


def test_tables_fit_80_columns_and_keep_every_character() -> None:
    """A long reason with a link wraps inside its cell at 80 columns; nothing is cut off."""

    from rich.console import Console

    from percona_pg_operator.checks.preflight import Check, Preflight
    from percona_pg_operator.cli._cluster import preflight_table

    link = "https://docs.percona.com/percona-operator-for-postgresql/2.0/update-operator.html"
    reason = (
        f"chart 2.7.0 -> 2.9.0 skips a minor version; Percona upgrades one minor at a time: {link}"
    )
    report = Preflight("2.9.0", "2.7.0", [Check("upgrade", "fail", reason)])
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(preflight_table(report))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in out.getvalue()
    cells = "".join(line.split("│")[3].strip() for line in lines if line.count("│") == 4)
    assert link in cells.replace(" ", "")


def test_a_cold_download_shows_progress_on_a_terminal_in_any_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from percona_pg_operator.cli import _notes

    class Terminal:
        @staticmethod
        def isatty() -> bool:
            return True

    from repo_server import serve

    bad = tmp_path / "values.yaml"
    bad.write_text(yaml.safe_dump(manifest(helmValues={"bogus": 1})))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cold"))
    monkeypatch.setattr(_notes, "sys", SimpleNamespace(stderr=Terminal()))
    with serve(FIXTURE_REPO) as server:
        monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", server.url)
        result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == ExitCode.INVALID_INPUT  # the values were checked: downloaded
    assert "\rdownloading pg-operator-3.0.0.tgz 100%\n" in result.stderr


def _versioned(tmp_path: Path, version: str) -> str:
    return write(tmp_path, manifest(helm={"version": version}), f"m-{version}.yaml")


@pytest.mark.parametrize("version", ["2.6.0", "2.8.0", "3.0.1", "4.0.0"])
@pytest.mark.parametrize("offline", [False, True])
def test_validate_refuses_a_chart_version_percona_does_not_offer_here(
    tmp_path: Path, version: str, offline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: "ok" for each, the error coming only at render or preview. Percona's repository
    is judged by the versions bundled here, so no network is needed, --offline included."""
    monkeypatch.delenv("PERCONA_PG_OPERATOR_CHART_REPO", raising=False)
    args = ["validate", _versioned(tmp_path, version)] + (["--offline"] if offline else [])
    code, out = invoke(*args)
    assert code == ExitCode.INVALID_INPUT, out
    assert f"spec.helm.version: chart {version} is not" in out


def test_validate_checks_a_mirror_by_its_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", str(FIXTURE_REPO))
    assert invoke("validate", _versioned(tmp_path, "2.9.0"))[0] == ExitCode.OK
    code, out = invoke("validate", _versioned(tmp_path, "2.8.1"))
    assert code == ExitCode.INVALID_INPUT and "is not in" in out and "2.8.2" in out


def test_validate_says_when_it_cannot_tell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERCONA_PG_OPERATOR_CHART_REPO", "https://mirror.invalid/charts")
    code, out = invoke("validate", _versioned(tmp_path, "2.9.0"), "--offline")
    assert code == ExitCode.OK
    assert "spec.helm.version 2.9.0: not checked against https://mirror.invalid/charts" in out


def test_an_internal_error_is_one_line_and_the_traceback_comes_with_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("percona_pg_operator.manifest.json_schema", broken)
    quiet = CliRunner().invoke(cli, ["schema"])
    assert quiet.exit_code == ExitCode.INTERNAL
    assert "internal error (ZeroDivisionError: oops); this is a bug" in quiet.output
    assert "Traceback" not in quiet.output
    loud = CliRunner().invoke(cli, ["--debug", "schema"])
    assert loud.exit_code == ExitCode.INTERNAL and "Traceback" in loud.stderr
