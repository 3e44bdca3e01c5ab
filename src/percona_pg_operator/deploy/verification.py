"""The verification step of ``pulumi up``: a dynamic resource that depends on the Release.

Its create and update run ``checks.verification.verify`` (read only) against the cluster; a
failed check fails the update with the objects, conditions and events at fault, so the next
``up`` retries it. It runs again whenever what it verifies changes (chart version, values,
image, CRDs, the databases that were ready). Its outputs are the verified facts:
``operator_version`` (from the running image), ``verified_at`` and ``databases_checked``, named
as the stack outputs they become.

Its delete (on ``pulumi destroy``, which does not run the program) touches nothing and tells
what the destroy leaves in the cluster on purpose, and why: the namespace this stack created
(unless spec.deleteNamespaceOnDestroy), the chart's CRDs (retained: deleting a CRD deletes every
object of its kind, the databases included), and after a 3.0 upgrade the old-group upstream CRDs
the operator has migrated off. It logs through the engine's Log service.

The provider runs in Pulumi's dynamic-provider host, a separate process started with the
program's interpreter, so it imports this package there (the checks and the cluster client only
when it verifies); the kubeconfig travels as a secret input.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi.dynamic

from .. import outputs, versions
from ..errors import PerconaPgOperatorError, UpgradeGuardError

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
# What a destroy leaves in the cluster (``kept_on_destroy``): {"namespace": name or "", "crds":
# [names]}. Not a trigger; state written before it existed still gets the CRDs named, from
# ``crds``.
KEPT = "keptOnDestroy"
# The old-group upstream CRDs a 3.0 upgrade leaves: the operator moves every object to the new
# group, and never deletes the old CRDs (versions.py, from Percona's 3.0.0 upgrade notes).
OLD_GROUP_CRDS = tuple(
    f"{kind}.{versions.UPSTREAM_GROUP_BEFORE_MOVE}" for kind in versions.UPSTREAM_CRD_KINDS
)


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

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Touches nothing (the Release's delete uninstalls the chart); tells what stays."""
        _tell_engine(kept_on_destroy(props, _old_group_crds_present(props)))


def kept_on_destroy(props: Mapping[str, Any], old_group: Sequence[str] | str) -> str:
    """The sentence a destroy logs: what it leaves in the cluster on purpose, and why.
    ``old_group``: the old-group CRDs still there, or why that could not be read."""
    kept = props.get(KEPT) or {}
    crds = sorted(str(n) for n in kept.get("crds") or (props.get("crds") or {}))
    parts: list[str] = []
    namespace = kept.get("namespace")
    if namespace:
        parts.append(
            f"the namespace {namespace}, which may hold databases "
            "(spec.deleteNamespaceOnDestroy: true deletes it)"
        )
    if crds:
        parts.append(
            f"{_count(len(crds), 'CRD')} of the chart ({', '.join(crds)}): deleting a CRD "
            "deletes every object of its kind, the databases included; once none is left, "
            "`kubectl delete crd NAME`"
        )
    if isinstance(old_group, str):
        parts.append(f"possibly the old-group CRDs of a 3.0 upgrade ({old_group})")
    elif old_group:
        parts.append(
            f"{_count(len(old_group), 'CRD')} of the old group "
            f"{versions.UPSTREAM_GROUP_BEFORE_MOVE} that the 3.0 upgrade left "
            f"({', '.join(old_group)}): the operator moved their objects to "
            f"{versions.UPSTREAM_GROUP_AFTER_MOVE}; delete them once no object of theirs is left"
        )
    if not parts:
        return "destroy: nothing of this operator's is kept in the cluster"
    return "destroy: kept in the cluster on purpose: " + "; ".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _old_group_crds_present(props: Mapping[str, Any]) -> Sequence[str] | str:
    """The old-group CRDs in the cluster when the chart is on 3.0 or later (none before: they
    are the chart's own then); a short reason when the cluster could not be read. A destroy
    never fails for this report."""
    try:
        if versions.parse_version(str(props.get("chartVersion") or ""))[:2] < (
            versions.API_GROUP_MOVE
        ):
            return []
    except UpgradeGuardError:
        return []
    from ..cluster import READ_DEADLINE_SECONDS, ClusterClient, ClusterCredentials
    from ..cluster.crds import existing

    credentials = ClusterCredentials(
        kubeconfig=props.get("kubeconfig") or None, context=props.get("context") or None
    )
    try:
        with ClusterClient.connect(credentials, deadline_seconds=READ_DEADLINE_SECONDS) as client:
            return existing(client, OLD_GROUP_CRDS)
    except PerconaPgOperatorError as error:
        return f"not read: {type(error).__name__}"


# The engine's address: Pulumi starts a resource plugin with it as the first argument (the
# dynamic-provider host's too: `python -m pulumi.dynamic <engine>`), for its Log service.
_ADDRESS = re.compile(r"^(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$")


def _tell_engine(message: str, argv: Sequence[str] | None = None) -> None:
    """Log ``message`` through the engine; on stderr when there is no engine to tell, which
    the engine shows for this host as well. The dynamic provider's delete is not given the
    resource's URN (and the component's, as an input, would make the verification depend on its
    parent): the message is the stack's."""
    args = sys.argv if argv is None else argv
    address = args[1] if len(args) > 1 and _ADDRESS.match(args[1]) else None
    if address is not None:
        import grpc
        from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

        try:
            with grpc.insecure_channel(address) as channel:
                request = engine_pb2.LogRequest(severity=engine_pb2.INFO, message=message)
                engine_pb2_grpc.EngineStub(channel).Log(request, timeout=10)
            return
        except grpc.RpcError:
            pass
    sys.stderr.write(message + "\n")


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
