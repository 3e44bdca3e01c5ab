"""Repair a release a killed run left stuck, through Helm's own code (helm-python-sdk).

A `pulumi up` or `helm upgrade` stopped half-way leaves the release ``pending-install``,
``pending-upgrade`` or ``pending-rollback``, and Helm then refuses every change ("another
operation is in progress"). The way out Helm documents is a rollback to the last deployed
revision, or, when no revision was ever deployed, an uninstall (the CRDs, which Helm installed
from ``crds/`` or this stack applied, and the databases stay).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import RepairError
from ._kubeconfig import ClusterCredentials
from ._state import ClusterState

Action = Literal["rollback", "uninstall", "none"]


@dataclass(frozen=True)
class Repair:
    action: Action
    release: str
    namespace: str
    reason: str
    revision: int | None = None  # the revision to roll back to

    def describe(self) -> str:
        if self.action == "rollback":
            return (
                f"roll release {self.release} in {self.namespace} back to revision "
                f"{self.revision} (helm rollback {self.release} {self.revision} -n "
                f"{self.namespace}): {self.reason}"
            )
        if self.action == "uninstall":
            return (
                f"uninstall release {self.release} in {self.namespace} (helm uninstall "
                f"{self.release} -n {self.namespace}; CRDs and databases stay): {self.reason}"
            )
        return f"nothing to repair: {self.reason}"


def decide_repair(state: ClusterState, release: str, namespace: str) -> Repair:
    """What to do about the release, from its stored revisions."""
    current = state.release
    if current is None:
        return Repair("none", release, namespace, f"no release {release} in {namespace}")
    deployed = state.last_deployed
    stuck = current.pending or current.status == "failed"
    if not stuck:
        return Repair(
            "none", release, namespace, f"revision {current.revision} is {current.status}"
        )
    where = f"revision {current.revision} is {current.status}"
    if deployed is not None and deployed.revision != current.revision:
        return Repair(
            "rollback",
            release,
            namespace,
            f"{where}; revision {deployed.revision} (chart {deployed.chart_version}) was the "
            "last deployed",
            deployed.revision,
        )
    return Repair("uninstall", release, namespace, f"{where}; no revision was ever deployed")


def helm_config(credentials: ClusterCredentials, namespace: str) -> Any:
    """Helm's own client for the cluster the stack's credentials point at."""
    from ..chart import helm_engine

    helm_python = helm_engine("repair")
    return helm_python.Config(
        kubeconfig_content=credentials.kubeconfig,
        kube_context=credentials.context,
        namespace=namespace,
    )


def execute(
    plan: Repair,
    credentials: ClusterCredentials,
    *,
    timeout_seconds: int,
    config_factory: Callable[[ClusterCredentials, str], Any] | None = None,
) -> None:
    """Do it through Helm (rollback waits for the resources, as `helm rollback --wait`)."""
    if plan.action == "none":
        return
    config = (config_factory or helm_config)(credentials, plan.namespace)
    try:
        if plan.action == "rollback":
            config.rollback(
                plan.release, version=plan.revision, timeout=timeout_seconds, wait="watcher"
            )
        else:
            config.uninstall(plan.release, timeout=timeout_seconds, wait="watcher")
    except Exception as exc:  # helm-python-sdk raises its own HelmError family
        name = type(exc).__name__
        raise RepairError(f"helm could not {plan.action} {plan.release}: {name}: {exc}") from None
    finally:
        close = getattr(config, "close", None)
        if callable(close):
            close()


def confirm_repair(plan: Repair, state: ClusterState) -> str:
    """Read after the repair: the release is deployed (rollback) or gone (uninstall)."""
    current = state.release
    if plan.action == "rollback":
        if current is None or current.status != "deployed":
            status = "gone" if current is None else f"{current.status} at {current.revision}"
            raise RepairError(f"after the rollback release {plan.release} is {status}")
        return (
            f"release {plan.release} is deployed at revision {current.revision} "
            f"(chart {current.chart_version})"
        )
    if plan.action == "uninstall":
        if current is not None:
            raise RepairError(
                f"after the uninstall release {plan.release} is still {current.status}"
            )
        return f"release {plan.release} is uninstalled"
    return "nothing was changed"
