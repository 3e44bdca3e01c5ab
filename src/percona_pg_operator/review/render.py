"""Offline rendering: every object the stack would apply, as Kubernetes manifests.

The Namespace, the CRDs (as the stack applies them, or as plain Helm would install them) and the
chart's templates rendered by a real Helm engine (the in-process ``helm-python-sdk``), with the
same values, release name and namespace the Release uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _yaml, defaults
from .._files import atomic_write
from ..chart import (
    ChartPackage,
    ChartRepository,
    cache_root,
    chart_repo_url,
    check_raw_values,
    helm_engine,
    load_managed_crds,
)
from ..errors import RenderError
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


def _left_by_a_write(name: str) -> bool:
    """A temporary file of an atomic write that a killed render left (``.<name>.*.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


def write_objects(objects: list[RenderedObject], directory: Path) -> list[Path]:
    """One file per object, numbered in apply order; afterwards the folder holds exactly this
    render. A previous render's files (named in its marker) are replaced or removed; a folder
    holding anything else raises FileExistsError and is left as it was."""
    directory.mkdir(parents=True, exist_ok=True)
    marker = directory / RENDER_MARKER
    previous = marker.read_text(encoding="utf-8").split() if marker.is_file() else []
    foreign = sorted(
        p.name
        for p in directory.iterdir()
        if p.name != RENDER_MARKER and p.name not in previous and not _left_by_a_write(p.name)
    )
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        shown = ", ".join(foreign[:3]) + more
        raise FileExistsError(
            f"{directory} holds files an earlier render did not write ({shown}); give an empty "
            "or new folder"
        )
    names = [
        f"{i:02d}-{obj.kind.lower() or 'object'}-{obj.name or 'unnamed'}.yaml"
        for i, obj in enumerate(objects, start=1)
    ]
    # The marker names old and new files while both may be there, so a run stopped half-way
    # leaves a folder the next render still recognises as its own.
    atomic_write(marker, "\n".join(sorted({*previous, *names})).encode())
    written = []
    for name, obj in zip(names, objects, strict=True):
        atomic_write(directory / name, obj.yaml.encode())
        written.append(directory / name)
    for stale in set(previous) - set(names):
        (directory / stale).unlink(missing_ok=True)
    atomic_write(marker, "\n".join(names).encode())
    return written
