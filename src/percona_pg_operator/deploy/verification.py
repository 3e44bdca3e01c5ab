"""The verification step of ``pulumi up``: a dynamic resource that depends on the Release.

Its create and update run ``checks.verification.verify`` (read only) against the cluster; a
failed check fails the update with the objects, conditions and events at fault, so the next
``up`` retries it. It runs again whenever what it verifies changes (chart version, values,
image, CRDs, the databases that were ready). Its outputs are the verified facts:
``operator_version`` (from the running image), ``verified_at`` and ``databases_checked``, named
as the stack outputs they become.

The provider runs in Pulumi's dynamic-provider host, a separate process started with the
program's interpreter, so it imports this package there (the checks and the cluster client only
when it verifies); the kubeconfig travels as a secret input.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic

from .. import outputs

# Inputs that, when they change, mean something new to verify. Not ``migrateApiGroup``: it is
# true only on the step that crosses the 3.0 group move, whose chartVersion changes anyway, and
# it turns false on the next run (the cluster then runs 3.0), which must be no change at all.
TRIGGERS = (
    "chartVersion",
    "valuesHash",
    "image",
    "crds",
    "readyBefore",
    "namespace",
    "release",
)
# The outputs, spelled as the stack outputs they become. State written by 0.1.0 spells them
# operatorVersion/verifiedAt/databasesChecked: such a resource is verified once more on the next
# update, which stores them in this spelling (its outputs are the facts of a verification, and
# the engine keeps a resource's outputs only from a create or update).
OUTPUTS = (outputs.OPERATOR_VERSION, outputs.VERIFIED_AT, outputs.DATABASES_CHECKED)


def _verify(props: dict[str, Any]) -> dict[str, Any]:
    # Imported here: the dynamic-provider host loads this module for every diff, which needs
    # none of it.
    from ..checks.verification import Expectations, verify
    from ..cluster import READ_DEADLINE_SECONDS, ClusterClient, ClusterCredentials

    credentials = ClusterCredentials(
        kubeconfig=props.get("kubeconfig") or None, context=props.get("context") or None
    )
    expect = Expectations(
        namespace=str(props["namespace"]),
        release=str(props["release"]),
        image=props.get("image") or None,
        crds={str(k): [str(v) for v in vs] for k, vs in (props.get("crds") or {}).items()},
        migrate_api_group=bool(props.get("migrateApiGroup")),
        ready_before=[str(x) for x in props.get("readyBefore") or []],
        database_namespaces=(
            None
            if props.get("databaseNamespaces") is None
            else [str(x) for x in props["databaseNamespaces"]]
        ),
    )
    timeout = float(props.get("timeoutSeconds") or 600)
    # The last poll may start just before the timeout: its reads get one read deadline more.
    deadline = timeout + READ_DEADLINE_SECONDS
    with ClusterClient.connect(credentials, deadline_seconds=deadline) as client:
        verified = verify(
            client, expect, timeout=timeout, poll=float(props.get("pollSeconds") or 5)
        )
    return {
        **props,
        outputs.OPERATOR_VERSION: verified.operator_version,
        outputs.VERIFIED_AT: verified.verified_at,
        outputs.DATABASES_CHECKED: verified.databases_checked,
    }


class VerificationProvider(pulumi.dynamic.ResourceProvider):
    """Create and update verify; delete and read touch nothing."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        return pulumi.dynamic.CreateResult(
            id_=f"{props['namespace']}/{props['release']}", outs=_verify(props)
        )

    def diff(
        self, _id: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        changed = [key for key in TRIGGERS if olds.get(key) != news.get(key)]
        changed += [key for key in OUTPUTS if key not in olds]  # state written by 0.1.0
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=[], stables=[])

    def update(
        self, _id: str, _olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        return pulumi.dynamic.UpdateResult(outs=_verify(news))


class OperatorVerification(pulumi.dynamic.Resource):
    """Proof that the change came through; see the module's docstring."""

    # The running operator image's version, when the check passed (UTC, ISO 8601), and the
    # PerconaPGClusters it found ready ("namespace/name"): outputs.py's names.
    operator_version: pulumi.Output[str]
    verified_at: pulumi.Output[str]
    databases_checked: pulumi.Output[list[str]]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
        super().__init__(
            VerificationProvider(),
            name,
            {**props, **dict.fromkeys(OUTPUTS)},
            pulumi.ResourceOptions.merge(opts, secret),
        )
