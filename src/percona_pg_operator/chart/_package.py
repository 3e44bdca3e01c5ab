"""A chart package that has been verified: where it is, and reading its YAML members."""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _yaml
from ..errors import ChartRepositoryError


@dataclass(frozen=True)
class ChartPackage:
    """A chart package whose bytes matched the repository index's digest."""

    name: str
    version: str
    app_version: str
    digest: str
    path: Path
    url: str

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def chart_yaml(self) -> dict[str, Any]:
        """The package's ``Chart.yaml`` (its metadata: versions, ``kubeVersion``)."""
        return self.member_yaml("Chart.yaml")

    def member_yaml(self, member: str) -> dict[str, Any]:
        """A YAML mapping in the chart's folder of the package (``values.yaml``, ...)."""
        path = f"{self.name}/{member}"
        try:
            with tarfile.open(self.path, mode="r:gz") as archive:
                handle = archive.extractfile(path)
                data = _yaml.load(handle.read()) if handle is not None else None
        except (OSError, KeyError, tarfile.TarError, _yaml.YAMLError):
            raise ChartRepositoryError(f"{self.path}: no readable {path}") from None
        if not isinstance(data, dict):
            raise ChartRepositoryError(f"{self.path}: {path} is not a mapping")
        return data
