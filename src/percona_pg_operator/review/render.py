"""Offline rendering: every object the stack would apply, as Kubernetes manifests.

The Namespace, the CRDs (as the stack applies them, or as plain Helm would install them) and the
chart's templates rendered by a real Helm engine (the in-process ``helm-python-sdk``), with the
same values, release name and namespace the Release uses.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _yaml, defaults
from .._files import FileRefused, atomic_write, read_regular
from ..chart import (
    ChartPackage,
    ChartRepository,
    cache_root,
    chart_repo_url,
    check_raw_values,
    helm_engine,
    load_managed_crds,
)
from ..errors import OutputFileError, RenderError
from ..manifest import KubernetesPerconaPostgresOperator, StackInput, build_helm_values

# The order Helm installs kinds in (a subset), so the output reads top-down like an install.
# https://github.com/helm/helm/blob/main/pkg/release/util/kind_sorter.go
KIND_ORDER = [
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "Deployment",
]


@dataclass(frozen=True)
class RenderedObject:
    """One object the stack applies, and its YAML text (pre-dumped for the large CRDs)."""

    object: dict[str, Any]
    text: str = field(default="", repr=False)

    @property
    def kind(self) -> str:
        return str(self.object.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.object.get("metadata") or {}).get("name", ""))

    @property
    def yaml(self) -> str:
        return self.text or _yaml.dump(self.object)


def namespace_manifest(target: KubernetesPerconaPostgresOperator) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": target.spec.namespace, "labels": target.namespace_labels()},
    }


def install_order(kind: str, namespace: str, name: str) -> tuple[int, str, str]:
    """Helm's install order by kind, then namespace and name: the one order of render and
    diff."""
    rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
    return rank, namespace, name


def _sort_key(obj: dict[str, Any]) -> tuple[int, str, str]:
    meta = obj.get("metadata") or {}
    return install_order(
        str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))
    )


def fetch_package(
    stack_input: StackInput,
    *,
    chart_repo: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> ChartPackage:
    """The digest-checked package a render of the stack needs (the Helm engine checked first,
    before any download)."""
    spec = stack_input.target.spec
    helm_engine()
    repo = chart_repo or chart_repo_url(spec.helm.repo, environ)
    return ChartRepository(repo, cache_dir=cache_root(environ)).fetch(
        defaults.CHART_NAME, spec.helm.version
    )


def render_stack(
    stack_input: StackInput,
    *,
    chart_repo: str | None = None,
    environ: Mapping[str, str] | None = None,
    package: ChartPackage | None = None,
) -> list[RenderedObject]:
    """Everything the stack would apply, in a stable order; from ``package`` when the caller
    resolved it already."""
    spec = stack_input.target.spec
    if package is None:
        package = fetch_package(stack_input, chart_repo=chart_repo, environ=environ)
    check_raw_values(spec.helm_values, package)
    return render_package(stack_input, package, build_helm_values(spec))


def render_package(
    stack_input: StackInput, package: ChartPackage, values: dict[str, Any]
) -> list[RenderedObject]:
    """Everything the stack would apply from a package already resolved and checked, with the
    values the Release gets."""
    target = stack_input.target
    spec = target.spec
    objects: list[RenderedObject] = []
    if spec.create_namespace:
        objects.append(RenderedObject(namespace_manifest(target)))
    crds = load_managed_crds(package)
    crd_objects = crds.objects() if spec.helm.manage_crds else crds.chart_objects()
    crd_texts = crds.yaml_documents(applied=spec.helm.manage_crds)
    objects += [RenderedObject(o, t) for o, t in zip(crd_objects, crd_texts, strict=True)]

    templates = render_chart(package, values, release=target.release_name, namespace=spec.namespace)
    objects += [RenderedObject(o) for o in templates]
    return sorted(objects, key=lambda o: _sort_key(o.object)[0])


def render_chart(
    package: ChartPackage, values: dict[str, Any], *, release: str, namespace: str
) -> list[dict[str, Any]]:
    """The chart's templates rendered by the real Helm engine, as objects, in install order."""
    helm = helm_engine()
    try:
        chart = helm.Chart.load_archive(package.read_bytes())
        rendered = chart.render(values, name=release, namespace=namespace, is_install=True)
    except helm.HelmError as exc:
        raise RenderError(f"helm could not render chart {package.version}: {exc}") from None
    templates = []
    for path in sorted(rendered):
        if not path.endswith((".yaml", ".yml")):
            continue  # NOTES.txt and helpers are not objects
        templates += [d for d in _yaml.load_all(rendered[path]) if d]
    return sorted(templates, key=_sort_key)


def to_yaml(objects: list[RenderedObject]) -> str:
    """One multi-document YAML stream."""
    return "".join(f"---\n{o.yaml}" for o in objects)


# Lists the files a render wrote into an --output-dir, so the next render replaces exactly them.
RENDER_MARKER = ".percona-pg-operator-render"
# The names a render gives its files ("NN-kind-name.yaml"), and so the only names it ever
# trusts in a marker: a plain name in the folder, never a path ("../x", "/etc/x", "sub/x").
_OWN_NAME = re.compile(r"[0-9]{2,5}-[a-z0-9][a-z0-9.-]*\.yaml")
MAX_MARKER_BYTES = 1024 * 1024


def _left_by_a_write(name: str) -> bool:
    """A temporary file of an atomic write that a killed render left (``.<name>.*.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def _file_part(text: str) -> str:
    """A kind or object name as part of a file name: lower case letters, digits, '.', '-'."""
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip(".-") or "unnamed"


def _own_file(path: Path) -> bool:
    """A regular file (not a link) of the folder, named as a render names its files."""
    try:
        return _OWN_NAME.fullmatch(path.name) is not None and stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _previous(marker: Path) -> list[str]:
    """The files an earlier render wrote here, from its marker; a marker this tool did not
    write (not a regular file, not UTF-8, too large, a name that is not a render's) is refused
    rather than trusted."""
    if not marker.exists() and not marker.is_symlink():
        return []
    if marker.is_symlink():
        raise OutputFileError(f"{marker} is a link, not a marker a render wrote")
    try:
        names = read_regular(marker, MAX_MARKER_BYTES).decode("utf-8").split()
    except (FileRefused, UnicodeDecodeError) as exc:
        reason = str(exc) if isinstance(exc, FileRefused) else "is not UTF-8 text"
        raise OutputFileError(f"{marker} {reason}: not a marker a render wrote") from None
    strange = [n for n in names if _OWN_NAME.fullmatch(n) is None]
    if strange:
        raise OutputFileError(
            f"{marker} names {strange[0]!r}, which no render writes: not a marker a render "
            "wrote; give an empty or new folder"
        )
    return names


def write_objects(objects: list[RenderedObject], directory: Path) -> list[Path]:
    """One file per object, numbered in apply order; afterwards the folder holds exactly this
    render. A previous render's files (named in its marker, plain names of regular files in
    this folder) are replaced or removed; anything else in the folder, or a marker this tool
    did not write, raises OutputFileError and leaves the folder as it was."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / RENDER_MARKER
        previous = _previous(marker)
        foreign = sorted(
            p.name
            for p in directory.iterdir()
            if p.name != RENDER_MARKER
            and not (p.name in previous and _own_file(p))
            and not _left_by_a_write(p.name)
        )
        if foreign:
            more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            shown = ", ".join(foreign[:3]) + more
            raise OutputFileError(
                f"{directory} holds files an earlier render did not write ({shown}); give an "
                "empty or new folder"
            )
        names = [
            f"{i:02d}-{_file_part(obj.kind or 'object')}-{_file_part(obj.name)}.yaml"
            for i, obj in enumerate(objects, start=1)
        ]
        # The marker names old and new files while both may be there, so a run stopped
        # half-way leaves a folder the next render still recognises as its own.
        atomic_write(marker, "\n".join(sorted({*previous, *names})).encode())
        written = []
        for name, obj in zip(names, objects, strict=True):
            atomic_write(directory / name, obj.yaml.encode())
            written.append(directory / name)
        for stale in set(previous) - set(names):
            if _own_file(directory / stale):
                (directory / stale).unlink()
        atomic_write(marker, "\n".join(names).encode())
    except OSError as exc:
        raise OutputFileError(
            f"--output-dir {directory} cannot be written ({exc.strerror or type(exc).__name__})"
        ) from None
    return written
