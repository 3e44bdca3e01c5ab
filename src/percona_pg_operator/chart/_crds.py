"""The CustomResourceDefinitions of a verified chart package, as this package applies them.

Helm installs a chart's ``crds/`` once and never upgrades them; this package applies them itself,
server-side, before the Release. Parsing 1.6-3.7 MB of CRD YAML costs seconds, so the result is
cached next to the package, keyed by its digest: a warm `pulumi preview` reads one small JSON file
holding the names and the ready-to-apply manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _yaml
from .._files import atomic_write, read_regular
from ..errors import ChartRepositoryError
from ._package import ChartPackage

# Server-side apply with force: take over fields another manager (an earlier `helm install`)
# owns, so existing CRDs are adopted instead of conflicting.
# https://www.pulumi.com/registry/packages/kubernetes/how-to-guides/managing-resources-with-server-side-apply/
PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce"
# The chart version whose CRDs these are.
CHART_VERSION_ANNOTATION = "percona-pg-operator/chart-version"
# Bump when the cached form changes, so old caches are rebuilt rather than misread.
_CACHE_FORMAT = 2
# The parsed CRDs of a package (3.7 MB for chart 2.8's): a cache file larger than this is not read.
MAX_CACHED_BYTES = 64 * 1024 * 1024
_DOC_SEPARATOR = "\n---\n"


@dataclass(frozen=True)
class ManagedCrds:
    """CRD names (sorted) and one multi-document YAML manifest of them (JSON documents)."""

    names: list[str]
    manifest: str
    cache_base: Path | None = None

    def yaml_documents(self, applied: bool = True) -> list[str]:
        """Each CRD as readable YAML (for rendering); dumped once per package and form."""
        form = "applied" if applied else "chart"
        cache = self.cache_base.with_suffix(f".crds.{form}.json") if self.cache_base else None
        if cache is not None:
            try:
                cached = json.loads(read_regular(cache, MAX_CACHED_BYTES).decode("utf-8"))
                if cached.get("manifest_sha256") == _manifest_sha(self.manifest) and len(
                    cached["docs"]
                ) == len(self.names):
                    docs: list[str] = [str(d) for d in cached["docs"]]
                    return docs
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass
        with _yaml.gc_paused():
            objects = self.objects() if applied else self.chart_objects()
            docs = [_yaml.dump(obj) for obj in objects]
        if cache is not None:
            payload = {"manifest_sha256": _manifest_sha(self.manifest), "docs": docs}
            with contextlib.suppress(OSError):
                atomic_write(cache, json.dumps(payload).encode())
        return docs

    @property
    def digest(self) -> str:
        """sha256 of the manifest: what the stack compares to tell one CRD set from another."""
        return _manifest_sha(self.manifest)

    def served_versions(self) -> dict[str, list[str]]:
        """Each CRD's name and the versions it serves."""
        return {
            str(crd["metadata"]["name"]): sorted(
                str(v["name"]) for v in crd["spec"]["versions"] if v.get("served")
            )
            for crd in self.objects()
        }

    def objects(self) -> list[dict[str, Any]]:
        """The CRDs as this package applies them (with its annotations)."""
        return [json.loads(doc) for doc in self.manifest.split(_DOC_SEPARATOR)]

    def chart_objects(self) -> list[dict[str, Any]]:
        """The CRDs exactly as the chart ships them (what plain Helm installs)."""
        objects = self.objects()
        for crd in objects:
            annotations = crd["metadata"]["annotations"]
            for key in (PATCH_FORCE_ANNOTATION, CHART_VERSION_ANNOTATION):
                annotations.pop(key, None)
            if not annotations:
                del crd["metadata"]["annotations"]
        return objects


# A chart's CRD file is 1.6-3.7 MB; far more is not a chart this module knows.
MAX_CRD_FILE_BYTES = 32 * 1024 * 1024


def _parse_package(data: bytes, chart: str) -> list[dict[str, Any]]:
    """Every CRD in the package's crds/; ChartRepositoryError on a broken package."""
    crds: list[dict[str, Any]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in sorted(archive.getmembers(), key=lambda m: m.name):
                parts = member.name.split("/")
                if not member.isfile() or len(parts) != 3 or parts[1] != "crds":
                    continue
                if not parts[2].endswith((".yaml", ".yml", ".json")):
                    continue
                if member.size > MAX_CRD_FILE_BYTES:
                    raise ChartRepositoryError(
                        f"chart {chart}: {member.name} is larger than {MAX_CRD_FILE_BYTES} bytes"
                    )
                handle = archive.extractfile(member)
                if handle is None:  # only links and devices have no content; isfile() excluded
                    continue
                with _yaml.gc_paused():
                    docs = _yaml.load_all(handle.read())
                for doc in docs:
                    if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                        name = (doc.get("metadata") or {}).get("name")
                        if not isinstance(name, str) or not name:
                            raise ChartRepositoryError(f"chart {chart}: a CRD has no name")
                        crds.append(doc)
    except (tarfile.TarError, OSError, EOFError, zlib.error, _yaml.YAMLError) as exc:
        raise ChartRepositoryError(
            f"chart {chart}: the package cannot be read ({type(exc).__name__})"
        ) from None
    if not crds:
        raise ChartRepositoryError(f"chart {chart} has no CustomResourceDefinition in crds/")
    return sorted(crds, key=lambda c: str(c["metadata"]["name"]))


def _annotated(crd: dict[str, Any], chart_version: str) -> dict[str, Any]:
    meta = dict(crd["metadata"])
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        PATCH_FORCE_ANNOTATION: "true",
        CHART_VERSION_ANNOTATION: chart_version,
    }
    return {**crd, "metadata": meta}


def build_managed_crds(data: bytes, chart: str, chart_version: str) -> ManagedCrds:
    crds = [_annotated(c, chart_version) for c in _parse_package(data, chart)]
    return ManagedCrds(
        names=[str(c["metadata"]["name"]) for c in crds],
        manifest=_DOC_SEPARATOR.join(json.dumps(c, separators=(",", ":")) for c in crds),
    )


def _manifest_sha(manifest: str) -> str:
    return hashlib.sha256(manifest.encode()).hexdigest()


def read_staged_crds(path: Path, digest: str) -> list[dict[str, Any]]:
    """The CRDs of a manifest staged by ``chart._source.stage_crds``, only if its sha256 is
    ``digest`` (computed by the program from the verified package)."""
    try:
        manifest = read_regular(path, MAX_CACHED_BYTES).decode("utf-8")
    except (OSError, ValueError) as exc:  # FileRefused, UnicodeDecodeError
        raise ChartRepositoryError(
            f"the staged CRDs {path} cannot be read ({type(exc).__name__}); run the update "
            "again, which stages them anew"
        ) from None
    if _manifest_sha(manifest) != digest:
        raise ChartRepositoryError(
            f"the staged CRDs {path} are not the ones this update verified (sha256 "
            f"{_manifest_sha(manifest)[:12]}, expected {digest[:12]}); run the update again, "
            "which stages them anew"
        )
    return ManagedCrds(names=[], manifest=manifest).objects()


def load_managed_crds(package: ChartPackage) -> ManagedCrds:
    """The package's CRDs, ready to apply; parsed once per package digest.

    The cached parse names the package digest and the manifest's own sha256, and is used only
    when both match and it holds as many CRDs as names: an edited or emptied cache file is
    rebuilt from the package, never applied. A package that cannot be parsed is removed from the
    cache, so the next run downloads and verifies it anew.
    """
    cache = package.path.with_suffix(".crds.json")
    try:
        cached = json.loads(read_regular(cache, MAX_CACHED_BYTES).decode("utf-8"))
        names, manifest = list(cached["names"]), str(cached["manifest"])
        if (
            cached.get("format") == _CACHE_FORMAT
            and cached.get("digest") == package.digest
            and cached.get("manifest_sha256") == _manifest_sha(manifest)
            and names
            and manifest.count(_DOC_SEPARATOR) == len(names) - 1
        ):
            return ManagedCrds(names=names, manifest=manifest, cache_base=package.path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        crds = build_managed_crds(package.read_bytes(), package.name, package.version)
    except (ChartRepositoryError, OSError) as exc:
        with contextlib.suppress(OSError):
            package.path.unlink()
        raise ChartRepositoryError(
            f"the cached package {package.path} cannot be read ({exc}); it was removed from "
            "the cache: run again to download and verify it anew"
        ) from None
    return store_managed_crds(package, crds)


def store_managed_crds(package: ChartPackage, crds: ManagedCrds) -> ManagedCrds:
    """Cache a package's parsed CRDs next to it (a read-only cache: parsed again next time)."""
    payload = {
        "format": _CACHE_FORMAT,
        "digest": package.digest,
        "manifest_sha256": _manifest_sha(crds.manifest),
        "names": crds.names,
        "manifest": crds.manifest,
    }
    with contextlib.suppress(OSError):
        atomic_write(package.path.with_suffix(".crds.json"), json.dumps(payload).encode())
    return ManagedCrds(names=crds.names, manifest=crds.manifest, cache_base=package.path)
