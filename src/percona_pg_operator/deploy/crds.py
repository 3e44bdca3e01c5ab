"""The chart's CRDs as one resource, keyed by the digest of the set: megabytes only on a change.

Through pulumi-kubernetes each CRD was a resource whose 0.2-1 MB of schema the engine checked,
diffed and stored on every run (pulumi/pulumi-kubernetes#1423, #2427): 4.5 s of every no-change
preview. Here the stack holds the set's digest, its names, the chart version and, per CRD, the
mark the API server gave it when applied (``cluster.crds``); the schema stays in the staged,
verified manifest (``chart._source.stage_crds``).

- **diff** (every preview): the digest and the names against the last applied ones; no cluster
  read, no megabytes. A refresh that found a CRD changed by hand also makes it a change.
- **create / update**: apply every CRD server-side with force, wait until Established, record
  the marks. The Release depends on this resource, so the CRDs are in place before it.
- **read** (``pulumi refresh``): the marks now; a CRD changed, recreated or deleted since is
  reported under ``changedByHand``, so the next update applies the set again.
- **delete**: nothing. Deleting a CRD deletes every object of its kind, the databases
  included; the resource is also registered with ``retainOnDelete``.

The provider runs in Pulumi's dynamic-provider host; it imports the cluster layer only when it
writes or reads, so a no-change preview pays for none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi.dynamic

# Inputs whose change means a new set to apply.
TRIGGERS = ("digest", "names")
APPLIED = "applied"
CHANGED_BY_HAND = "changedByHand"
RESOURCE_ID = "crds"


def _client(props: dict[str, Any]) -> Any:
    from ..cluster import READ_DEADLINE_SECONDS, ClusterClient, ClusterCredentials

    credentials = ClusterCredentials(
        kubeconfig=props.get("kubeconfig") or None, context=props.get("context") or None
    )
    return ClusterClient.connect(credentials, deadline_seconds=READ_DEADLINE_SECONDS)


def _apply(props: dict[str, Any]) -> dict[str, Any]:
    from ..chart._crds import read_staged_crds
    from ..cluster.crds import apply_crds

    objects = read_staged_crds(Path(str(props["manifest"])), str(props["digest"]))
    with _client(props) as client:
        marks = apply_crds(client, objects)
    outs = {key: value for key, value in props.items() if key != CHANGED_BY_HAND}
    return {**outs, APPLIED: marks}


class CrdSetProvider(pulumi.dynamic.ResourceProvider):
    """See the module's docstring."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(id_=RESOURCE_ID, outs=_apply(props))

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        changed = [key for key in TRIGGERS if olds.get(key) != news.get(key)]
        if olds.get(CHANGED_BY_HAND) or not olds.get(APPLIED):
            changed.append(APPLIED)
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], stables=[])

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=_apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        from ..cluster.crds import changed_since, live_marks

        applied = {str(k): str(v) for k, v in (props.get(APPLIED) or {}).items()}
        with _client(props) as client:
            changed = changed_since(applied, live_marks(client, applied))
        outs = {key: value for key, value in props.items() if key != CHANGED_BY_HAND}
        if changed:
            outs[CHANGED_BY_HAND] = changed
        return pulumi.dynamic.ReadResult(id_=id_, outs=outs)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Never delete a CRD (see the module's docstring)."""


class ManagedCrdSet(pulumi.dynamic.Resource):
    """The chart's CRDs, applied before the Release; see the module's docstring."""

    applied: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        own = pulumi.ResourceOptions(
            additional_secret_outputs=["kubeconfig"], retain_on_delete=True
        )
        super().__init__(
            CrdSetProvider(),
            name,
            {**props, APPLIED: None},
            pulumi.ResourceOptions.merge(opts, own),
        )
