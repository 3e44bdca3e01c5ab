"""The one preflight of a fleet's cluster, shared by `fleet preflight` and `fleet up`: the
stack's last outputs, read as the rollout reads them, then the preflight's checks. So `fleet
preflight` shows exactly who `fleet up` would refuse, before anything runs."""

from __future__ import annotations

from typing import Protocol

from ..chart import ChartPackage
from ..checks.preflight import Preflight, StackState, run_preflight
from ._load import FleetCluster
from ._rollout import StartDecision


class OutputsReader(Protocol):
    def last_outputs(self, cluster: FleetCluster) -> StackState:
        """What the cluster's stack exported on its last update."""


def cluster_preflight(
    cluster: FleetCluster, stacks: OutputsReader, package: ChartPackage | None = None
) -> Preflight:
    """``package``: the cluster's target chart when the caller resolved it already (once for
    every cluster of the same repository and version)."""
    return run_preflight(cluster.stack_input, stack=stacks.last_outputs(cluster), package=package)


def start_decision(report: Preflight) -> StartDecision:
    """May the cluster's update start, and from which version."""
    reasons = "; ".join(f"{c.name}: {c.reason}" for c in report.failures())
    return StartDecision(not report.refused, report.running_version, reasons)
