"""What a change does inside the release: every object added, removed or changed, field by field.

Both sides are Kubernetes objects: what the stack would apply (``render_stack``: the Namespace,
the CRDs, the chart rendered by the real Helm engine), against another manifest's rendering or
against what runs now (the Helm release's stored manifest and the live CRDs). Objects are matched
by kind, namespace and name and shown in install order; server-set fields (status, uid,
resourceVersion, managedFields, ...) are not compared.

Nothing secret is shown: a Secret's ``data`` and ``stringData`` values, and any value a
credential-like ``helmValues`` key (password, token, secret, private or access key, credentials)
carries, are masked wherever they appear.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .. import _yaml
from .._images import image_version
from .._secrets import is_secret_key
from .render import install_order

if TYPE_CHECKING:
    from ..chart import ChartPackage
    from ..cluster import ClusterState
    from ..manifest import StackInput

MASK = "***"
# Set by the API server, never by the stack: not part of a change.
_SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
_SERVER_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)

Key = tuple[str, str, str]
Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ObjectChange:
    kind: str
    namespace: str
    name: str
    change: Change
    fields: list[FieldChange] = field(default_factory=list)
    before: dict[str, Any] | None = field(default=None, repr=False)
    after: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"

    @functools.cached_property
    def unified(self) -> str:
        """The unified diff of the object's YAML (keys sorted); made when first asked for."""
        return "".join(
            difflib.unified_diff(
                _yaml_lines(self.before),
                _yaml_lines(self.after),
                fromfile=f"{self.title} (before)",
                tofile=f"{self.title} (after)",
            )
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "change": self.change,
            "fields": [{"path": f.path, "old": f.old, "new": f.new} for f in self.fields],
        }


def object_key(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", ""))


def _order(key: Key) -> tuple[int, str, str]:
    return install_order(*key)


def normalize(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without what the API server sets (status, uid, managedFields, ...)."""
    clean = {k: v for k, v in obj.items() if k != "status"}
    meta = dict(clean.get("metadata") or {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SERVER_ANNOTATIONS
    }
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    clean["metadata"] = meta
    return clean


def sensitive_values(helm_values: Mapping[str, Any]) -> set[str]:
    """The string values of credential-like keys anywhere in chart values (the raw ones and
    what the typed fields set, such as pod annotations)."""
    found: set[str] = set()

    def walk(node: Any, secret: bool) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, secret or is_secret_key(str(key)))
        elif isinstance(node, list):
            for item in node:
                walk(item, secret)
        elif secret and isinstance(node, str | int) and not isinstance(node, bool):
            found.update([str(node)] if len(str(node)) >= 4 else [])

    walk(helm_values, False)
    return found


def mask(obj: Any, secrets: set[str]) -> Any:
    """A copy with Secret data and the given values replaced by ``***``."""
    if isinstance(obj, Mapping):
        is_secret = obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"
        out = {}
        for key, value in obj.items():
            if is_secret and key in ("data", "stringData") and isinstance(value, Mapping):
                out[key] = {k: MASK for k in value}
            else:
                out[key] = mask(value, secrets)
        return out
    if isinstance(obj, list):
        return [mask(item, secrets) for item in obj]
    if isinstance(obj, str):
        for secret in secrets:
            obj = obj.replace(secret, MASK)
        return obj
    if isinstance(obj, int | float) and not isinstance(obj, bool) and str(obj) in secrets:
        return MASK
    return obj


def field_changes(old: Any, new: Any, path: str = "") -> list[FieldChange]:
    """Every changed leaf, with its dotted path (``[i]`` for list items)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        changes = []
        for key in sorted(set(old) | set(new), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old:
                changes.append(FieldChange(sub, None, new[key]))
            elif key not in new:
                changes.append(FieldChange(sub, old[key], None))
            else:
                changes += field_changes(old[key], new[key], sub)
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            change
            for index, (a, b) in enumerate(zip(old, new, strict=True))
            for change in field_changes(a, b, f"{path}[{index}]")
        ]
    return [] if old == new else [FieldChange(path, old, new)]


def _yaml_lines(obj: Mapping[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return str(_yaml.dump_sorted(obj)).splitlines(keepends=True)


def diff_objects(
    old: Iterable[Mapping[str, Any]],
    new: Iterable[Mapping[str, Any]],
    secrets: set[str] | None = None,
) -> list[ObjectChange]:
    """Object by object, in install order: what changes from ``old`` to ``new``."""
    hidden = secrets or set()
    before = {object_key(o): mask(normalize(o), hidden) for o in old}
    after = {object_key(o): mask(normalize(o), hidden) for o in new}
    changes = []
    for key in sorted(before.keys() | after.keys(), key=_order):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        kind: Change = "added" if a is None else "removed" if b is None else "changed"
        fields = field_changes(a or {}, b or {}) if kind == "changed" else []
        changes.append(ObjectChange(key[0], key[1], key[2], kind, fields, a, b))
    return changes


_CONTAINER = re.compile(r"^spec\.template\.spec\.(?:init)?[cC]ontainers\[(\d+)\]\.(.+)$")
_ENV = re.compile(r"^env\[(\d+)\]")


def describe(change: ObjectChange, limit: int = 3) -> str:
    """The changed fields in a few words: image tags, env names, then other leaves."""
    words: list[str] = []
    labels = False
    for fc in change.fields:
        if fc.path.startswith("metadata.labels.") or ".metadata.labels." in fc.path:
            labels = True
            continue
        match = _CONTAINER.match(fc.path)
        leaf = match[2] if match else fc.path
        if leaf == "image":
            words.append(f"image {image_version(fc.old)} -> {image_version(fc.new)}")
        elif match and (env := _ENV.match(leaf)):
            containers = (change.after or {}).get("spec", {}).get("template", {}).get("spec", {})
            try:
                entry = containers["containers"][int(match[1])]["env"][int(env[1])]
                words.append(f"env {entry['name']}")
            except (KeyError, IndexError, TypeError):
                words.append(leaf)
        elif isinstance(fc.old, str | int | float) and isinstance(fc.new, str | int | float):
            words.append(f"{leaf} {fc.old} -> {fc.new}")
        else:
            words.append(leaf)
    unique = list(dict.fromkeys(words))
    shown = unique[:limit]
    if labels:
        shown.append("labels")
    if len(unique) > limit:
        shown.append(f"+{len(unique) - limit} more")
    return ", ".join(shown)


def summary(changes: list[ObjectChange], *, max_objects: int = 6) -> str:
    """One line: which objects change, what in them, and the CRDs."""
    crds = [c for c in changes if c.kind == "CustomResourceDefinition"]
    others = [c for c in changes if c.kind != "CustomResourceDefinition"]
    parts = []
    for change in others[:max_objects]:
        name = f"{change.kind}/{change.name}"
        detail = change.change if change.change != "changed" else describe(change)
        parts.append(f"{name} ({detail})")
    if len(others) > max_objects:
        parts.append(f"+{len(others) - max_objects} more")
    text = f"{len(others)} object(s) change: " + "; ".join(parts) if others else "no object changes"
    if crds:
        counts = {kind: sum(1 for c in crds if c.change == kind) for kind in ("added", "changed")}
        kept = sum(1 for c in crds if c.change == "removed")
        text += (
            f"; CRDs: {counts['added']} added, {counts['changed']} changed, {kept} kept in cluster"
        )
    return text


# The workloads first in the review: an image change is what a reviewer looks for.
_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
_CRD = "CustomResourceDefinition"


def review_summary(changes: list[ObjectChange]) -> list[str]:
    """The review's opening lines: the one-line summary, each object's change in a few words,
    the CRDs added, changed and kept."""
    if not changes:
        return ["no changes"]
    lines = [f"Summary: {summary(changes)}"]
    for change in _review_order([c for c in changes if c.kind != _CRD]):
        detail = describe(change, limit=6) if change.change == "changed" else change.change
        lines.append(f"  {change.kind} {change.name}: {detail}")
    crds = [c for c in changes if c.kind == _CRD]
    for label, which in (("added", "added"), ("changed", "changed"), ("kept", "removed")):
        names = [c.name for c in crds if c.change == which]
        if names:
            lines.append(f"  CRDs {label}: {', '.join(names)}")
    if any(c.change == "removed" for c in crds):
        lines.append(
            "  (CRDs the new chart no longer ships are never deleted: they and their objects "
            "stay in the cluster until you delete them)"
        )
    return lines


def _review_order(changes: list[ObjectChange]) -> list[ObjectChange]:
    """Workloads first, then the rest in install order (stable)."""
    return sorted(changes, key=lambda c: c.kind not in _WORKLOADS)


def to_text(changes: list[ObjectChange], colour: bool = False, full: bool = False) -> str:
    """The review: the summary, then one section per object (workloads first, CRDs last) with
    the unified diff of its YAML.

    Without ``full`` a CRD shows what changes in it (its changed field paths), never megabytes
    of schema: an added CRD its name and versions, one the new chart drops that it is kept.
    """
    if not changes:
        return "no changes\n"
    out = [line + "\n" for line in review_summary(changes)] + ["\n"]
    others = _review_order([c for c in changes if c.kind != _CRD])
    crds = [c for c in changes if c.kind == _CRD]
    for change in [*others, *crds]:
        if change.kind == _CRD and not full:
            out += _crd_section(change)
            continue
        out.append(f"{change.title}: {change.change}\n")
        for line in change.unified.splitlines(keepends=True):
            if colour and line.startswith("+") and not line.startswith("+++"):
                line = f"\x1b[32m{line.rstrip()}\x1b[0m\n"
            elif colour and line.startswith("-") and not line.startswith("---"):
                line = f"\x1b[31m{line.rstrip()}\x1b[0m\n"
            out.append(line)
        out.append("\n")
    return "".join(out)


def _crd_section(change: ObjectChange) -> list[str]:
    if change.change == "removed":
        return [
            f"{change.title}: kept in the cluster (the new chart no longer ships it; never "
            "deleted by the stack)\n\n"
        ]
    if change.change == "added":
        spec = (change.after or {}).get("spec") or {}
        versions = [str(v.get("name")) for v in spec.get("versions") or [] if isinstance(v, dict)]
        served = f" (versions {', '.join(versions)})" if versions else ""
        return [f"{change.title}: added{served}; --full shows its schema\n\n"]
    out = [f"{change.title}: changed\n"]
    out += [f"  {fc.path}\n" for fc in change.fields[:20]]
    more = len(change.fields) - 20
    out += [f"  (+{more} more fields; --full shows the whole diff)\n"] if more > 0 else []
    return [*out, "\n"]


def clip(text: str, max_bytes: int | None) -> str:
    """At most ``max_bytes`` of ``text`` (UTF-8), cut at a line's end, saying what was left
    out; the summary and the workloads come first, so they are what stays."""
    data = text.encode()
    if max_bytes is None or len(data) <= max_bytes:
        return text
    note = "... ({} more bytes; without --max-bytes, or with -o json, for all)\n"
    room = max(0, max_bytes - len(note.format(len(data))))
    cut = data.rfind(b"\n", 0, room) + 1
    return data[:cut].decode(errors="ignore") + note.format(len(data) - cut)


# -- the two sides ------------------------------------------------------------------------------
# Server-set on every Namespace: https://kubernetes.io/docs/reference/labels-annotations-taints/
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def rendered_objects(
    stack_input: StackInput, chart_repo: str | None = None, package: ChartPackage | None = None
) -> list[dict[str, Any]]:
    """What the stack would apply (the real chart, the same values as the Release)."""
    from .render import render_stack

    return [o.object for o in render_stack(stack_input, chart_repo=chart_repo, package=package)]


def _live_crd(raw: Mapping[str, Any]) -> dict[str, Any]:
    crd = dict(raw)
    spec = dict(crd.get("spec") or {})
    if spec.get("conversion") == {"strategy": "None"}:  # the API server's default
        spec.pop("conversion")
    crd["spec"] = spec
    return crd


def live_objects(stack_input: StackInput, state: ClusterState) -> list[dict[str, Any]]:
    """What runs now: the deployed release's manifest, the live CRDs and the Namespace."""
    spec = stack_input.target.spec
    objects: list[dict[str, Any]] = []
    release = state.last_deployed or state.release
    if release is not None:
        objects += [d for d in _yaml.load_all(release.manifest) if isinstance(d, dict)]
    objects += [_live_crd(c.raw) for c in [*state.crds, *state.other_crds] if c.exists and c.raw]
    if spec.create_namespace and state.namespace_exists:
        labels = {k: v for k, v in state.namespace_labels.items() if k != _NAMESPACE_NAME_LABEL}
        metadata: dict[str, Any] = {"name": spec.namespace}
        if labels:
            metadata["labels"] = labels
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})
    return objects


def release_change(
    stack_input: StackInput,
    state: ClusterState,
    package: ChartPackage,
    values: dict[str, Any],
) -> list[ObjectChange] | None:
    """What this update changes inside the release, or None when its version and values are
    what runs (or nothing runs yet). ``package`` and ``values`` are the run's own, resolved
    once: nothing is fetched again."""
    from .render import render_package

    spec = stack_input.target.spec
    running = state.last_deployed or state.release
    if running is None:
        return None
    if running.chart_version == spec.helm.version and running.values == values:
        return None
    secrets = sensitive_values(values) | sensitive_values(running.values)
    rendered = [o.object for o in render_package(stack_input, package, values)]
    return diff_objects(live_objects(stack_input, state), rendered, secrets)
