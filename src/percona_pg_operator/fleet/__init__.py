"""Rolling the operator out across a fleet of clusters: waves, budgets, soak, health, resume.

- :func:`load_fleet` reads and validates a fleet file and plans its waves.
- :class:`Rollout` drives a :class:`Runner` wave by wave (the Automation API's
  :class:`AutomationRunner`, or any other), recording every result in a state file.
"""

from ..errors import FleetError
from ._decide import cluster_preflight
from ._load import FleetCluster, LoadedFleet, WaveClusters, load_fleet
from ._model import Fleet
from ._rollout import ClusterRun, Health, Report, Rollout, RolloutState, Runner, StartDecision
from ._runner import AutomationRunner, RemoteSource, cluster_health, pulumi_cli_missing

__all__ = [
    "AutomationRunner",
    "ClusterRun",
    "Fleet",
    "FleetCluster",
    "FleetError",
    "Health",
    "LoadedFleet",
    "RemoteSource",
    "Report",
    "Rollout",
    "RolloutState",
    "Runner",
    "StartDecision",
    "WaveClusters",
    "cluster_health",
    "cluster_preflight",
    "load_fleet",
    "pulumi_cli_missing",
]
