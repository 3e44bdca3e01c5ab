"""Verification after a change: proof that the operator, its CRDs and the databases came through.

Helm's "deployed" only means the chart's objects were accepted and its Deployment became ready
once: Helm's wait ignores custom resources, and for 2.9 -> 3.0 the operator migrates every
database's objects to the new API group after the release is done. This polls, read only, until
everything below holds or the time is up:

- the operator Deployment has rolled out (observed generation, every replica updated and ready)
  with the expected image;
- every CRD the chart ships exists, is ``Established`` and serves the chart's versions;
- after a move to 3.0, every PerconaPGCluster reports the API group migration finished: its
  ``APIGroupMigration`` condition is ``True`` (reason ``APIGroupMigrationCompleted`` or
  ``APIGroupMigrationNotNeeded``; ``False``/``APIGroupMigrationInProgress`` while it runs),
  as percona/percona-postgresql-operator's ``percona/controller/pgcluster/owner_ref_migration.go``
  sets it;
- every PerconaPGCluster that was ``ready`` before the change is ``ready`` again.

A failure names each object with its conditions and its newest events.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .._images import image_tag
from ..cluster._live import ClusterClient
from ..cluster._state import DatabaseCluster, OperatorDeployment
from ..errors import ClusterError, VerificationError

MIGRATION_CONDITION = "APIGroupMigration"


@dataclass(frozen=True)
class Expectations:
    """What must hold once the change is through."""

    namespace: str
    release: str
    image: str | None
    crds: dict[str, list[str]] = field(default_factory=dict)  # name -> served versions
    migrate_api_group: bool = False
    ready_before: list[str] = field(default_factory=list)  # "namespace/name"
    database_namespaces: list[str] | None = None  # None: all namespaces


@dataclass(frozen=True)
class Verified:
    operator_version: str
    verified_at: str
    databases_checked: list[str]


@dataclass(frozen=True)
class _Problem:
    kind: str
    namespace: str
    name: str
    what: str
    conditions: list[dict[str, str]] = field(default_factory=list)


def _deployment_problems(
    deployment: OperatorDeployment | None, expect: Expectations
) -> list[_Problem]:
    if deployment is None:
        return [_Problem("Deployment", expect.namespace, expect.release, "not found")]
    problems = []
    if expect.image is not None and expect.image not in deployment.images:
        problems.append(
            _Problem(
                "Deployment",
                expect.namespace,
                deployment.name,
                f"runs {', '.join(deployment.images)}, not {expect.image}",
                deployment.conditions,
            )
        )
    if not deployment.rolled_out:
        problems.append(
            _Problem(
                "Deployment",
                expect.namespace,
                deployment.name,
                f"not rolled out: {deployment.updated_replicas} of {deployment.replicas} updated, "
                f"{deployment.ready_replicas} ready",
                deployment.conditions,
            )
        )
    return problems


def _database_problems(
    databases: Sequence[DatabaseCluster], expect: Expectations
) -> list[_Problem]:
    problems = []
    by_name = {f"{d.namespace}/{d.name}": d for d in databases}
    for db in databases:
        if not expect.migrate_api_group:
            break
        condition = db.condition(MIGRATION_CONDITION)
        if condition is None or condition.get("status") != "True":
            state = (
                f"{condition.get('status')} ({condition.get('reason')})"
                if condition
                else "not reported yet"
            )
            problems.append(
                _Problem(
                    "PerconaPGCluster",
                    db.namespace,
                    db.name,
                    f"API group migration not finished: {MIGRATION_CONDITION} {state}",
                    db.conditions,
                )
            )
    for label in expect.ready_before:
        now = by_name.get(label)
        namespace, _, name = label.partition("/")
        if now is None:
            problems.append(_Problem("PerconaPGCluster", namespace, name, "was ready, now gone"))
        elif not now.ready:
            problems.append(
                _Problem(
                    "PerconaPGCluster",
                    namespace,
                    name,
                    f"was ready before the change, now {now.state}",
                    now.conditions,
                )
            )
    return problems


def _problems(client: ClusterClient, expect: Expectations) -> tuple[list[_Problem], list[str]]:
    problems = _deployment_problems(
        client.operator_deployment(expect.namespace, expect.release), expect
    )
    for crd in client.crds(sorted(expect.crds)):
        missing = sorted(set(expect.crds[crd.name]) - set(crd.served_versions))
        if not crd.exists:
            problems.append(_Problem("CustomResourceDefinition", "", crd.name, "not found"))
        elif not crd.established or missing:
            what = "not Established" if not crd.established else f"does not serve {missing}"
            problems.append(_Problem("CustomResourceDefinition", "", crd.name, what))
    databases = client.databases(expect.database_namespaces)
    problems += _database_problems(databases, expect)
    return problems, [f"{d.namespace}/{d.name}" for d in databases]


def verify(
    client: ClusterClient,
    expect: Expectations,
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Verified:
    """Poll until everything holds; VerificationError naming what did not, when time is up."""
    deadline = clock() + timeout
    while True:
        try:
            problems, checked = _problems(client, expect)
        except ClusterError as exc:
            # A 401 or 403 stays until someone changes the credentials or RBAC: fail now.
            if not exc.retryable or clock() >= deadline:
                raise VerificationError(f"verification could not read the cluster: {exc}") from None
            sleep(poll)
            continue
        if not problems:
            deployment = client.operator_deployment(expect.namespace, expect.release)
            images = deployment.images if deployment is not None else []
            return Verified(
                operator_version=next((image_tag(i) for i in images if image_tag(i)), ""),
                verified_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                databases_checked=checked,
            )
        if clock() >= deadline:
            raise VerificationError(_report(client, problems, timeout))
        sleep(poll)


def _report(client: ClusterClient, problems: list[_Problem], timeout: float) -> str:
    lines = [f"verification failed after {timeout:g} s; nothing was rolled back:"]
    for problem in problems:
        where = f"{problem.namespace}/{problem.name}" if problem.namespace else problem.name
        lines.append(f"  - {problem.kind} {where}: {problem.what}")
        for condition in problem.conditions:
            detail = f"{condition.get('reason', '')}: {condition.get('message', '')}".strip(": ")
            lines.append(
                f"      condition {condition.get('type')}={condition.get('status')}"
                + (f" ({detail})" if detail else "")
            )
        if problem.namespace:
            try:
                events = client.events(problem.namespace, problem.name)
            except ClusterError:
                events = []
            for event in events:
                lines.append(f"      event {event}")
    return "\n".join(lines)
