"""Chart version facts: the supported upgrade steps, and which chart versions have which values.

Percona upgrades the operator one minor version at a time, CRDs first, and never backwards:
https://docs.percona.com/percona-operator-for-postgresql/2.0/update-operator.html
Patch versions may be skipped. A major step is only supported from the last minor of the
previous major (2.9 -> 3.0; chart 3.0.0 moves the upstream CRDs to a new API group).

The version running now is taken from the stack's previous state: the ``chart_version`` output
the stack exported on its last update (see ``program.previous_chart_version``). A stack that
has never been deployed has none, and passes.
"""

from __future__ import annotations

import re

from ..errors import UpgradeGuardError

# The last minor line of each major, from which the next major's x.0 is the supported step.
LAST_MINOR_OF_MAJOR = {2: 9}

# Spec fields (camelCase paths under ``spec``) that only newer charts understand, with the first
# chart version whose values.yaml has them: leaderElection*/lease*/featureGates appear in 2.9.0.
# https://github.com/percona/percona-helm-charts/blob/pg-operator-2.9.0/charts/pg-operator/values.yaml
CHART_FIELD_MIN_VERSION: dict[tuple[str, ...], str] = {
    ("operator", "leaderElection"): "2.9.0",
    ("operator", "featureGates"): "2.9.0",
}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def parse_version(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version.strip())
    if match is None:
        raise UpgradeGuardError(f"{version!r} is not a chart version such as 3.0.0")
    return int(match[1]), int(match[2]), int(match[3])


def next_minor(major: int, minor: int) -> tuple[int, int]:
    """The release line that follows ``major.minor`` on Percona's supported path."""
    if LAST_MINOR_OF_MAJOR.get(major) == minor:
        return major + 1, 0
    return major, minor + 1


def upgrade_path(current: tuple[int, int], target: tuple[int, int]) -> list[str]:
    steps: list[str] = []
    line = current
    while line < target and len(steps) < 50:
        line = next_minor(*line)
        steps.append(f"{line[0]}.{line[1]}.x")
    return steps


def check_transition(previous: str | None, target: str, *, allow_unsafe: bool = False) -> None:
    """Raise UpgradeGuardError when ``previous -> target`` is not a supported single step."""
    if not previous or allow_unsafe:
        return
    old, new = parse_version(previous), parse_version(target)
    if new == old:
        return
    hint = "set spec.helm.allow_unsafe_upgrade: true to do it anyway"
    if new < old:
        raise UpgradeGuardError(
            f"chart {previous} -> {target} is a downgrade, which Percona does not support "
            f"(CRDs and stored objects may not go back); {hint}"
        )
    if new[:2] == old[:2] or new[:2] == next_minor(*old[:2]):
        return
    path = " -> ".join([f"{old[0]}.{old[1]}.x", *upgrade_path(old[:2], new[:2])])
    raise UpgradeGuardError(
        f"chart {previous} -> {target} skips a minor version; Percona upgrades one minor at a "
        f"time: {path}, applying each in turn; {hint}"
    )
