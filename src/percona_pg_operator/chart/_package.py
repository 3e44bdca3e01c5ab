"""A chart package whose digest was checked: where it is, where it came from, its YAML members."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _yaml
from .._files import FileRefused, read_regular
from ..errors import ChartRepositoryError

# Far above Percona's packages (~250 KiB): a server, or a file in the cache, holding more is
# refused before it fills memory.
MAX_PACKAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class ChartPackage:
    """A chart package whose bytes matched the repository index's digest."""

    name: str
    version: str
    app_version: str
    digest: str
    path: Path
    url: str  # where the bytes came from first (a bundled package: where Percona publishes it)
    # How this run got it: "bundled" (shipped with this package), "download", or "cache".
    source: str = field(default="cache", compare=False)
    # Its Chart.yaml's ``kubeVersion`` constraint ("" for none), read when its bytes were
    # checked, so a decision over it reads no file.
    kube_version: str = field(default="", compare=False)
    # Where the bytes came from first: "bundled" or "download" (kept in the cache's pin).
    origin: str = field(default="download", compare=False)

    def describe_source(self) -> str:
        """One line saying which source was used, for the command line and the program's log."""
        what = f"chart {self.name} {self.version}"
        digest = f"sha256 {self.digest[:12]}"
        if self.source == "bundled":
            return f"{what}: the package bundled with percona-pg-operator ({digest}), no download"
        if self.source == "download":
            return f"{what}: downloaded from {self.url} ({digest})"
        if self.origin == "bundled":
            return f"{what}: from the cache ({digest}; first the package bundled here)"
        return f"{what}: from the cache ({digest}; the package of {self.url})"

    def read_bytes(self) -> bytes:
        """The package's bytes: a regular file of at most MAX_PACKAGE_BYTES, else an error."""
        try:
            return read_regular(self.path, MAX_PACKAGE_BYTES)
        except FileRefused as exc:
            raise ChartRepositoryError(f"{self.path} {exc}") from None

    def chart_yaml(self) -> dict[str, Any]:
        """The package's ``Chart.yaml`` (its metadata: versions, ``kubeVersion``)."""
        return self.member_yaml("Chart.yaml")

    def member_yaml(self, member: str) -> dict[str, Any]:
        """A YAML mapping in the chart's folder of the package (``values.yaml``, ...)."""
        path = f"{self.name}/{member}"
        packed = self.read_bytes()
        try:
            with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as archive:
                handle = archive.extractfile(path)
                data = _yaml.load(handle.read()) if handle is not None else None
        except (OSError, KeyError, tarfile.TarError, _yaml.YAMLError):
            raise ChartRepositoryError(f"{self.path}: no readable {path}") from None
        if not isinstance(data, dict):
            raise ChartRepositoryError(f"{self.path}: {path} is not a mapping")
        return data
