"""The chart a stack installs (chart/_source.py): exactly the verified bytes, staged in the
project by a relative path."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURE_REPO

from percona_pg_operator.chart import (
    ChartRepository,
    resolve_chart,
)
from percona_pg_operator.errors import (
    ChartRepositoryError,
)


def test_the_release_installs_the_verified_bytes_by_a_project_relative_path(
    tmp_path: Path,
) -> None:
    source = resolve_chart(ChartRepository(str(FIXTURE_REPO)), "2.9.0", False, project_dir=tmp_path)
    assert not Path(source.install_path).is_absolute()
    staged = tmp_path / source.install_path
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()
    # Staged again unchanged; a tampered copy in the project is replaced by the verified bytes.
    staged.write_bytes(b"tampered")
    again = resolve_chart(ChartRepository(str(FIXTURE_REPO)), "2.9.0", False, project_dir=tmp_path)
    assert again.install_path == source.install_path
    assert staged.read_bytes() == (FIXTURE_REPO / "pg-operator-2.9.0.tgz").read_bytes()


def test_an_unwritable_project_is_named_when_staging(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the project directory should be")
    with pytest.raises(ChartRepositoryError, match=r"cannot stage the verified chart package at"):
        resolve_chart(ChartRepository(str(FIXTURE_REPO)), "3.0.0", False, project_dir=blocker)


def test_a_staging_folder_linked_out_of_the_project_is_refused(tmp_path: Path) -> None:
    """Staged packages are written inside the project only."""
    project, elsewhere = tmp_path / "linked-project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / ".percona-pg-operator").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(ChartRepositoryError, match="leads out of the project"):
        resolve_chart(ChartRepository(str(FIXTURE_REPO)), "3.0.0", False, project_dir=project)
    assert list(elsewhere.iterdir()) == []
