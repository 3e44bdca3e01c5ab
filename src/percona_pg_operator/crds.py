"""The CustomResourceDefinitions shipped in a verified chart package's ``crds/`` folder.

Parsing 1.6-3.7 MB of CRD YAML costs seconds, so the parsed objects are cached as JSON next to the
package, keyed by its digest; a warm `pulumi preview` reads JSON only.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import yaml

from .chart_repository import ChartPackage, atomic_write
from .errors import ChartRepositoryError

_YamlLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Percona stamps its own CRDs with the operator version they belong to.
VERSION_LABEL = "pgv2.percona.com/version"


def _parse_package(data: bytes, chart: str) -> list[dict[str, Any]]:
    crds: list[dict[str, Any]] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[1] != "crds":
                continue
            if not parts[2].endswith((".yaml", ".yml", ".json")):
                continue
            handle = archive.extractfile(member)
            if handle is None:  # pragma: no cover - regular files always have content
                continue
            for doc in yaml.load_all(handle.read(), Loader=_YamlLoader):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    crds.append(doc)
    if not crds:
        raise ChartRepositoryError(f"chart {chart} has no CustomResourceDefinition in crds/")
    return sorted(crds, key=lambda c: str(c["metadata"]["name"]))


def load_crds(package: ChartPackage) -> list[dict[str, Any]]:
    """The package's CRDs, sorted by name; parsed once per package digest."""
    cache = package.path.with_suffix(".crds.json")
    try:
        cached: list[dict[str, Any]] = json.loads(cache.read_text(encoding="utf-8"))
        return cached
    except (OSError, ValueError):
        pass
    crds = _parse_package(package.read_bytes(), package.name)
    atomic_write(cache, json.dumps(crds, separators=(",", ":")).encode())
    return crds


def crd_names(crds: list[dict[str, Any]]) -> list[str]:
    return [str(c["metadata"]["name"]) for c in crds]
