"""Chart version facts: the supported upgrade steps, and which chart versions have which values.

Percona upgrades the operator one minor version at a time, CRDs first, and never backwards:
https://docs.percona.com/percona-operator-for-postgresql/2.0/update-operator.html
Patch versions may be skipped. A major step is only supported from the last minor of the
previous major (2.9 -> 3.0; chart 3.0.0 moves the upstream CRDs to a new API group).

No I/O here: the callers say which version runs now (the component takes it from the live
release, else from the stack's last outputs; see ``checks/stages.py``). None, a fresh install,
passes.
"""

from __future__ import annotations

import re

from .errors import UpgradeGuardError

# The last minor line of each major, from which the next major's x.0 is the supported step.
LAST_MINOR_OF_MAJOR = {2: 9}

# Spec fields (camelCase paths under ``spec``) that only newer charts understand, with the first
# chart version whose values.yaml has them: leaderElection*/lease*/featureGates appear in 2.9.0.
# https://github.com/percona/percona-helm-charts/blob/pg-operator-2.9.0/charts/pg-operator/values.yaml
CHART_FIELD_MIN_VERSION: dict[tuple[str, ...], str] = {
    ("operator", "leaderElection"): "2.9.0",
    ("operator", "featureGates"): "2.9.0",
}

# "CRD supports the latest 3 Operator minor versions": an operator manages PerconaPGClusters
# whose spec.crVersion is on its own minor line or one of the two before it on the upgrade path
# (so 3.0 manages 3.0, 2.9 and 2.8, and drops 2.7).
# https://docs.percona.com/percona-operator-for-postgresql/3.0.0/update-operator.html
SUPPORTED_CR_MINOR_LINES = 3

# Steps that cannot be undone, by the minor line they arrive at. Chart 3.0.0 renames the upstream
# CRDs' API group and the operator migrates every cluster's objects to it; Percona calls it
# irreversible. https://docs.percona.com/percona-operator-for-postgresql/3.0.0/update.html
IRREVERSIBLE_STEPS: dict[tuple[int, int], str] = {
    (3, 0): (
        "irreversible: chart 3.0 renames the upstream CRDs from postgres-operator.crunchydata.com "
        "to upstream.pgv2.percona.com and the operator migrates every PerconaPGCluster's objects "
        "to the new group; the 3.0 operator cannot use the old CRDs, so there is no way back "
        "(https://docs.percona.com/percona-operator-for-postgresql/3.0.0/update-operator.html)"
    ),
}

# The chart lines this package supports: its upgrade guard, its CRD names and its values know
# them, and a package of each ships with it (chart/_bundled.py). Older lines are out of
# Percona's own support (https://docs.percona.com/percona-operator-for-postgresql/2.0/
# update-operator.html: one minor at a time, the last three lines), newer ones unknown here.
SUPPORTED_CHART_LINES: tuple[tuple[int, int], ...] = ((2, 7), (2, 8), (2, 9), (3, 0))


def support_problem(version: str) -> str | None:
    """Why chart ``version`` is outside the support table, or None."""
    line = parse_version(version)[:2]
    if line in SUPPORTED_CHART_LINES:
        return None
    first, last = SUPPORTED_CHART_LINES[0], SUPPORTED_CHART_LINES[-1]
    return (
        f"chart {version} is not supported: this package supports the chart lines "
        f"{first[0]}.{first[1]}.x to {last[0]}.{last[1]}.x"
    )


# The line from which the operator runs on the renamed upstream CRDs (and migrates to them).
API_GROUP_MOVE = (3, 0)

# The CRDs each pg-operator chart ships (its crds/crd.yaml): Percona's own kinds in
# pgv2.percona.com, and the upstream (Crunchy) kinds, whose group moves at 3.0. Read from every
# chart 2.7.0-3.0.0 (tests/test_versions.py checks this table against the bundled packages):
# https://github.com/percona/percona-helm-charts/blob/pg-operator-3.0.0/charts/pg-operator/crds/crd.yaml
PERCONA_CRD_KINDS = (
    "perconapgbackups",
    "perconapgclusters",
    "perconapgrestores",
    "perconapgupgrades",
)
UPSTREAM_CRD_KINDS = ("crunchybridgeclusters", "pgadmins", "pgupgrades", "postgresclusters")
UPSTREAM_GROUP_BEFORE_MOVE = "postgres-operator.crunchydata.com"
UPSTREAM_GROUP_AFTER_MOVE = "upstream.pgv2.percona.com"

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def parse_version(version: str) -> tuple[int, int, int]:
    if not isinstance(version, str):
        raise UpgradeGuardError(f"{version!r} is not a chart version such as 3.0.0")
    match = _VERSION.match(version.strip())
    if match is None:
        raise UpgradeGuardError(f"{version!r} is not a chart version such as 3.0.0")
    return int(match[1]), int(match[2]), int(match[3])


def next_minor(major: int, minor: int) -> tuple[int, int]:
    """The release line that follows ``major.minor`` on Percona's supported path."""
    if LAST_MINOR_OF_MAJOR.get(major) == minor:
        return major + 1, 0
    return major, minor + 1


def crosses_api_group_move(running: str | None, target: str) -> bool:
    """Whether ``running -> target`` takes the operator onto the renamed upstream CRDs."""
    if not running:
        return False
    return parse_version(running)[:2] < API_GROUP_MOVE <= parse_version(target)[:2]


def chart_crd_names(version: str) -> list[str]:
    """The CRDs chart ``version`` ships, by name, sorted: known without its package, so a read
    of the cluster never needs a download to know what to read."""
    after = parse_version(version)[:2] >= API_GROUP_MOVE
    upstream = UPSTREAM_GROUP_AFTER_MOVE if after else UPSTREAM_GROUP_BEFORE_MOVE
    names = [f"{kind}.pgv2.percona.com" for kind in PERCONA_CRD_KINDS]
    names += [f"{kind}.{upstream}" for kind in UPSTREAM_CRD_KINDS]
    return sorted(names)


def previous_minor(major: int, minor: int) -> tuple[int, int] | None:
    """The release line before ``major.minor`` on the supported path (None before 2.0)."""
    if minor > 0:
        return major, minor - 1
    last = LAST_MINOR_OF_MAJOR.get(major - 1)
    return (major - 1, last) if last is not None else None


def supported_cr_lines(operator_version: str) -> list[tuple[int, int]]:
    """The crVersion minor lines the operator of this version manages, newest first."""
    major, minor, _ = parse_version(operator_version)
    lines: list[tuple[int, int]] = [(major, minor)]
    while len(lines) < SUPPORTED_CR_MINOR_LINES:
        before = previous_minor(*lines[-1])
        if before is None:
            break
        lines.append(before)
    return lines


def upgrade_path(current: tuple[int, int], target: tuple[int, int]) -> list[str]:
    steps: list[str] = []
    line = current
    while line < target and len(steps) < 50:
        line = next_minor(*line)
        steps.append(f"{line[0]}.{line[1]}.x")
    return steps


def upgrade_steps(current: str | None, available: list[str]) -> list[str]:
    """The chart versions to apply in turn from ``current`` to the newest ``available``: the
    newest patch the repository offers on each minor line of Percona's path."""
    parsed = sorted({parse_version(v): v for v in available}.items())
    if not parsed:
        return []
    newest = parsed[-1][0]
    if current is None:
        return [parsed[-1][1]]
    now = parse_version(current)
    lines = upgrade_path(now[:2], newest[:2])
    steps = []
    if newest[:2] == now[:2] and newest > now:
        steps.append(parsed[-1][1])
    for line in lines:
        major, minor = (int(p) for p in line.split(".")[:2])
        on_line = [text for version, text in parsed if version[:2] == (major, minor)]
        if on_line:
            steps.append(on_line[-1])
    return steps


def check_transition(
    running: str | None,
    target: str,
    *,
    allow_unsafe: bool = False,
    acknowledged: str | None = None,
) -> None:
    """Raise UpgradeGuardError when ``running -> target`` is not a supported single step, or
    crosses an irreversible step that ``acknowledged`` does not name (``"3.0"``)."""
    if not running:
        return
    old, new = parse_version(running), parse_version(target)
    if new == old:
        return
    hint = "set spec.helm.allowUnsafeUpgrade: true to do it anyway"
    if not allow_unsafe and new < old:
        raise UpgradeGuardError(
            f"chart {running} -> {target} is a downgrade, which Percona does not support "
            f"(CRDs and stored objects may not go back); {hint}"
        )
    supported = new[:2] == old[:2] or new[:2] == next_minor(*old[:2])
    if not allow_unsafe and not supported:
        path = " -> ".join([f"{old[0]}.{old[1]}.x", *upgrade_path(old[:2], new[:2])])
        raise UpgradeGuardError(
            f"chart {running} -> {target} skips a minor version; Percona upgrades one minor at "
            f"a time: {path}, applying each in turn; {hint}"
        )
    # Even an allowed unsafe step needs the irreversible one named.
    for line, what in sorted(IRREVERSIBLE_STEPS.items()):
        if old[:2] < line <= new[:2] and acknowledged != f"{line[0]}.{line[1]}":
            raise UpgradeGuardError(
                f"chart {running} -> {target} is {what}; to take this step set "
                f'spec.helm.acknowledgeIrreversible: "{line[0]}.{line[1]}"'
            )


# -- Kubernetes version constraints (Chart.yaml `kubeVersion`) ---------------------------------
# Helm checks `kubeVersion` with Masterminds/semver constraints: comparisons joined by spaces or
# commas (and), alternatives by `||`; `~1.2` means >=1.2.0 <1.3.0 and `^1.2` >=1.2.0 <2.0.0; a
# `-0` suffix only admits pre-releases such as GKE's `v1.30.4-gke.1348000`, which this module
# compares by major.minor.patch anyway. https://helm.sh/docs/topics/charts/#the-kubeversion-field
_COMPARATOR = re.compile(
    r"^(>=|<=|!=|=>|=<|>|<|=|~|\^)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?"
)


def _bound(text: str) -> tuple[str, tuple[int, int, int], int]:
    match = _COMPARATOR.match(text.strip())
    if match is None or match.end() == 0:
        raise ValueError(f"cannot read the version constraint {text!r}")
    op = {"=>": ">=", "=<": "<="}.get(match[1] or "=", match[1] or "=")
    parts = [match[2], match[3], match[4]]
    given = sum(1 for p in parts if p not in (None, "x", "*"))
    numbers = tuple(int(p) if p not in (None, "x", "*") else 0 for p in parts)
    return op, (numbers[0], numbers[1], numbers[2]), given


def _satisfies(version: tuple[int, int, int], comparator: str) -> bool:
    op, bound, given = _bound(comparator)
    if op == "~":
        upper = (bound[0], bound[1] + 1, 0) if given >= 2 else (bound[0] + 1, 0, 0)
        return bound <= version < upper
    if op == "^":
        return bound <= version < (bound[0] + 1, 0, 0)
    if op == "=" and given < 3:  # a wildcard: 1.2 or 1.2.x
        return version[:given] == bound[:given]
    return {
        ">=": version >= bound,
        "<=": version <= bound,
        ">": version > bound,
        "<": version < bound,
        "=": version == bound,
        "!=": version != bound,
    }[op]


def kube_version_satisfies(constraint: str, server_version: str) -> bool:
    """Whether the server's version meets a chart's ``kubeVersion`` constraint."""
    version = parse_version(server_version)
    for alternative in constraint.split("||"):
        tight = re.sub(r"(>=|<=|!=|=>|=<|>|<|=|~|\^)\s+", r"\1", alternative.strip())
        comparators = [c for c in re.split(r"[\s,]+", tight) if c]
        if comparators and all(_satisfies(version, c) for c in comparators):
            return True
    return False
