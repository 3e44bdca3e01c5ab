"""The chart's CRDs, applied server-side, and the marks that tell whether one changed since.

Helm installs a chart's ``crds/`` once and never upgrades them, so the stack applies them itself
before the Release: a server-side apply with force
(https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts), which takes over
the fields an earlier ``helm install`` (or ``kubectl``) set, under one field manager of ours.

What the stack remembers of an applied CRD is its mark, ``<uid>/<generation>``: the API server
raises ``metadata.generation`` on every change to a CRD's spec and gives a CRD created anew a new
uid (https://kubernetes.io/docs/reference/using-api/api-concepts/#generation), so a refresh tells a
CRD changed or deleted by hand from one left alone by reading a few bytes of metadata, without
comparing megabytes of schema.

Until version 0.2 the stack applied each CRD through pulumi-kubernetes, whose field manager is
``pulumi-kubernetes-<8 hex digits>`` (one per resource). After our apply, such a manager lets go
of its fields (an apply of nothing under its name), so a field a later chart drops is removed
rather than kept alive by a manager nobody runs any more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from lightkube.generic_resource import create_global_resource
from lightkube.types import PatchType

from ..errors import ClusterError
from ._live import ClusterClient

FIELD_MANAGER = "percona-pg-operator"
# pulumi-kubernetes' server-side apply field manager: "pulumi-kubernetes-" and 8 random hex
# digits per resource (provider/pkg/provider/provider.go, fieldManagerName, v4.25.0).
PREVIOUS_MANAGER_PREFIX = "pulumi-kubernetes-"
# A CRD is usable once the API server reports it Established; it does in well under a second.
ESTABLISHED_TIMEOUT_SECONDS = 60.0
ESTABLISHED_POLL_SECONDS = 0.25

# The CRDs as plain JSON in and out: lightkube's typed model would parse megabytes of schema
# into objects only to turn them back into JSON.
_RawCrd = create_global_resource(
    "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions"
)
_RESOURCE = "customresourcedefinitions"


def mark(crd: Mapping[str, Any]) -> str:
    """``<uid>/<generation>`` of a CRD as the API server returned it."""
    meta = crd["metadata"]
    return f"{meta['uid']}/{int(meta['generation'])}"


def apply_crds(
    client: ClusterClient,
    objects: Sequence[Mapping[str, Any]],
    *,
    timeout: float = ESTABLISHED_TIMEOUT_SECONDS,
    poll: float = ESTABLISHED_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:
    """Apply each CRD server-side (force), wait until all are Established, and return their
    marks by name."""
    marks: dict[str, str] = {}
    for obj in objects:
        name = str(obj["metadata"]["name"])
        applied = client._call(
            lambda obj=obj, name=name: client._client.patch(  # type: ignore[misc]
                _RawCrd,
                name,
                dict(obj),
                patch_type=PatchType.APPLY,
                field_manager=FIELD_MANAGER,
                force=True,
            ),
            verb="patch",
            resource=_RESOURCE,
        )
        for manager in _previous_managers(applied):
            applied = _let_go(client, name, manager)
        marks[name] = mark(applied)
    return _wait_established(client, marks, timeout=timeout, poll=poll, sleep=sleep, clock=clock)


def _previous_managers(crd: Mapping[str, Any]) -> list[str]:
    return sorted(
        {
            str(entry.get("manager"))
            for entry in crd["metadata"].get("managedFields") or []
            if str(entry.get("manager", "")).startswith(PREVIOUS_MANAGER_PREFIX)
            and entry.get("operation") == "Apply"
        }
    )


def _let_go(client: ClusterClient, name: str, manager: str) -> Any:
    """An apply of no fields under ``manager``: it owns nothing any more; the fields only it
    owned are removed, the ones ours applied too stay."""
    empty = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
    }
    return client._call(
        lambda: client._client.patch(
            _RawCrd, name, empty, patch_type=PatchType.APPLY, field_manager=manager
        ),
        verb="patch",
        resource=_RESOURCE,
    )


def _established(crd: Mapping[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def _wait_established(
    client: ClusterClient,
    marks: dict[str, str],
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> dict[str, str]:
    deadline = clock() + timeout
    waiting = sorted(marks)
    while True:
        still = []
        for name in waiting:
            crd = _get(client, name)
            if crd is None:
                raise ClusterError(f"CRD {name} was deleted while it was being applied")
            marks[name] = mark(crd)
            if not _established(crd):
                still.append(name)
        if not still:
            return marks
        if clock() >= deadline:
            raise ClusterError(
                f"CRDs not Established {timeout:.0f} s after they were applied: "
                + ", ".join(still),
                retryable=True,
            )
        waiting = still
        sleep(poll)


def _get(client: ClusterClient, name: str) -> Any:
    return client._call(
        lambda: client._client.get(_RawCrd, name),
        verb="get",
        resource=_RESOURCE,
        allow_missing=True,
    )


def live_marks(client: ClusterClient, names: Iterable[str]) -> dict[str, str | None]:
    """Each CRD's mark now (``None``: it does not exist)."""
    found: dict[str, str | None] = {}
    for name in names:
        crd = _get(client, name)
        found[name] = None if crd is None else mark(crd)
    return found


def existing(client: ClusterClient, names: Iterable[str]) -> list[str]:
    """Which of these CRDs exist now, in the order given."""
    return [name for name in names if _get(client, name) is not None]


def changed_since(applied: Mapping[str, str], live: Mapping[str, str | None]) -> list[str]:
    """The CRDs whose mark is not the one applied (changed, recreated or deleted since)."""
    return sorted(name for name, was in applied.items() if live.get(name) != was)
