"""The chart packages that ship with the package: used offline for Percona's repository, pinned,
never in place of a mirror, and the README's first command works without network."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import CHART_VERSIONS, EXAMPLES, FIXTURE_REPO, ROOT
from repo_server import serve

from percona_pg_operator import defaults
from percona_pg_operator.chart import (
    BUNDLED,
    ChartRepository,
    _bundled,
    _repository,
    load_managed_crds,
)
from percona_pg_operator.cli import cli
from percona_pg_operator.errors import ChartRepositoryError

BUNDLE = ROOT / "src" / "percona_pg_operator" / "chart" / "bundled"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every URL the chart client asks for is recorded and refused, as on a machine offline.
    The index read that a command stopped waiting for (its daemon thread, past the deadline on a
    busy machine) ends before the next test's recording starts."""
    asked: list[str] = []

    def refuse(request: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(request.full_url if hasattr(request, "full_url") else str(request))
        raise OSError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    yield asked
    for thread in threading.enumerate():
        if thread.name == "chart-index":
            thread.join(timeout=10)


def percona(tmp_path: Path) -> ChartRepository:
    return ChartRepository(defaults.CHART_REPO_URL, cache_dir=tmp_path / "cache", retries=0)


def test_the_supported_versions_ship_pinned_by_the_index_digest() -> None:
    index = yaml.safe_load((FIXTURE_REPO / "index.yaml").read_text())
    listed = {e["version"]: e["digest"] for e in index["entries"]["pg-operator"]}
    assert sorted(BUNDLED) == CHART_VERSIONS
    for version, digest in BUNDLED.items():
        data = (BUNDLE / f"pg-operator-{version}.tgz").read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest == listed[version], version
    assert "Apache License, Version 2.0" in (BUNDLE / "LICENSE").read_text()
    provenance = (BUNDLE / "PROVENANCE.md").read_text()
    assert all(digest in provenance for digest in BUNDLED.values())
    assert sum(p.stat().st_size for p in BUNDLE.glob("*.tgz")) < 1 << 20


@pytest.mark.parametrize("version", CHART_VERSIONS)
def test_percona_repository_uses_the_bundled_package_without_a_request(
    tmp_path: Path, no_network: list[str], version: str
) -> None:
    package = percona(tmp_path).fetch("pg-operator", version)
    assert no_network == []
    assert package.source == "bundled"
    assert package.digest == BUNDLED[version]
    assert package.app_version == version
    assert package.chart_yaml()["version"] == version
    assert load_managed_crds(package).names
    again = percona(tmp_path).fetch("pg-operator", version)  # a later run: the cache
    assert (again.source, again.digest, no_network) == ("cache", package.digest, [])


def test_a_version_not_bundled_is_downloaded_and_the_error_names_the_way_out(
    tmp_path: Path, no_network: list[str]
) -> None:
    with pytest.raises(ChartRepositoryError) as info:
        percona(tmp_path).fetch("pg-operator", "2.6.0")
    assert no_network == [f"{defaults.CHART_REPO_URL}index.yaml"]
    message = str(info.value)
    assert defaults.CHART_REPO_ENV in message and "--chart-repo" in message
    assert "2.7.0, 2.8.2, 2.9.0, 3.0.0" in message


def test_a_mirror_wins_over_the_bundle(tmp_path: Path) -> None:
    with serve(FIXTURE_REPO) as server:
        repo = ChartRepository(server.url, cache_dir=tmp_path / "cache")
        package = repo.fetch("pg-operator", "3.0.0")
    assert package.source == "download"
    assert server.count("pg-operator-3.0.0.tgz") == 1


def test_a_damaged_bundled_package_is_refused(
    tmp_path: Path, no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _bundled.bundled_bytes

    def flipped(chart: str, version: str) -> bytes:
        data = bytearray(real(chart, version))
        data[len(data) // 2] ^= 0xFF  # one byte of the archive differs
        return bytes(data)

    monkeypatch.setattr(_repository, "bundled_bytes", flipped)
    with pytest.raises(ChartRepositoryError, match="installation is damaged: reinstall"):
        percona(tmp_path).fetch("pg-operator", "3.0.0")
    assert not list((tmp_path / "cache").rglob("*.tgz"))


def test_versions_offline_are_the_bundled_ones(
    tmp_path: Path, no_network: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert sorted(percona(tmp_path).versions("pg-operator")) == CHART_VERSIONS
    assert "listing only the versions bundled here" in caplog.text


def test_a_slow_index_waits_no_longer_than_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline, a DNS failure alone can take seconds: the bundled versions do not wait for it."""
    import threading
    import time

    from percona_pg_operator.chart import _repository

    release = threading.Event()

    def hanging(request: Any, *args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        raise OSError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", hanging)
    try:
        start = time.monotonic()
        versions = percona(tmp_path).versions("pg-operator")
        took = time.monotonic() - start
    finally:
        release.set()
    assert sorted(versions) == CHART_VERSIONS
    assert took < _repository.BUNDLED_INDEX_DEADLINE_SECONDS + 0.5, took
    assert "could not be read within 0.4 s" in caplog.text


def test_with_json_the_notes_go_into_the_document_not_stderr(
    tmp_path: Path, no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERCONA_PG_OPERATOR_CHART_REPO")
    result = CliRunner().invoke(cli, ["upgrade-plan", "--from", "2.7.0", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = yaml.safe_load(result.stdout)
    assert document["to"] == "3.0.0"
    (note,) = document["notes"]
    assert "listing only the versions bundled here" in note


def test_each_command_says_which_source_it_used(
    tmp_path: Path, no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERCONA_PG_OPERATOR_CHART_REPO")
    first = CliRunner().invoke(cli, ["render", str(EXAMPLES / "basic.yaml")])
    assert first.exit_code == 0, first.output
    assert "chart pg-operator 3.0.0: the package bundled with percona-pg-operator" in first.stderr
    assert "kind: Deployment" in first.stdout and "bundled" not in first.stdout
    second = CliRunner().invoke(cli, ["render", str(EXAMPLES / "basic.yaml")])
    assert "chart pg-operator 3.0.0: from the cache" in second.stderr
    assert "first the package bundled here" in second.stderr
    assert no_network == []


def test_the_quickstart_render_works_in_a_network_namespace(tmp_path: Path) -> None:
    """The README's first command as written (after its install), in a network namespace with
    nothing but loopback, no mirror set and an empty cache."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rn", "true"], check=False).returncode:
        pytest.skip("unshare -rn (a user and network namespace) is not available here")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PERCONA_PG_OPERATOR_") and k not in ("http_proxy", "https_proxy")
    }
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    command = Path(sys.executable).with_name("percona-pg-operator")
    done = subprocess.run(
        [unshare, "-rn", str(command), "render", "examples/basic.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "kind: Deployment" in done.stdout
    assert "bundled with percona-pg-operator" in done.stderr


def test_the_wheel_carries_the_bundle(tmp_path: Path) -> None:
    """What `pip install` gets: the packages, the licence and the provenance in the wheel."""
    import zipfile

    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("percona_pg_operator-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    inside = "percona_pg_operator/chart/bundled/"
    assert {f"{inside}pg-operator-{v}.tgz" for v in CHART_VERSIONS} <= names
    assert {f"{inside}LICENSE", f"{inside}PROVENANCE.md"} <= names


def test_the_readme_version_table_names_what_this_version_bundles() -> None:
    from importlib.metadata import version

    row = f"| {version('percona-pg-operator')} | {', '.join(BUNDLED)} | {defaults.CHART_VERSION} |"
    assert row in (ROOT / "README.md").read_text()


def test_a_failed_download_names_the_mirror_variable_and_the_flag(
    tmp_path: Path, no_network: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command: a version not bundled, Percona's repository, no network."""
    monkeypatch.delenv("PERCONA_PG_OPERATOR_CHART_REPO")
    path = tmp_path / "old.yaml"
    doc = yaml.safe_load((EXAMPLES / "basic.yaml").read_text())
    doc["spec"].setdefault("helm", {})["version"] = "2.6.0"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["render", str(path)])
    assert result.exit_code == 6, result.output  # UNAVAILABLE
    assert "PERCONA_PG_OPERATOR_CHART_REPO" in result.stderr and "--chart-repo" in result.stderr
    assert no_network  # it did try


@pytest.mark.parametrize("version", sorted(BUNDLED))
def test_the_crd_names_fact_is_what_each_bundled_chart_ships(version: str) -> None:
    """versions.chart_crd_names lets a cluster read know what to read without a download."""
    from percona_pg_operator.chart import ChartRepository, load_managed_crds
    from percona_pg_operator.versions import chart_crd_names

    package = ChartRepository(defaults.CHART_REPO_URL).fetch(defaults.CHART_NAME, version)
    assert chart_crd_names(version) == sorted(load_managed_crds(package).names)


def test_the_support_table_is_the_bundled_lines() -> None:
    from percona_pg_operator.versions import SUPPORTED_CHART_LINES, parse_version

    assert sorted({parse_version(v)[:2] for v in BUNDLED}) == list(SUPPORTED_CHART_LINES)
