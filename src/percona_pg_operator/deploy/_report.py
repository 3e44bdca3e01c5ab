"""What the component tells about its decision: the warnings and notes of ``checks.stages``
on the component, and at preview the change inside the release, from the run's own package and
values (``review.diff.release_change``)."""

from __future__ import annotations

from typing import Any

import pulumi

from ..chart import ChartPackage
from ..checks.stages import Decision
from ..cluster import ClusterState
from ..errors import RenderError
from ..manifest import StackInput
from ..review.diff import release_change, summary, to_text


def log_decision(decision: Decision, resource: pulumi.Resource) -> None:
    for note in decision.notes:
        pulumi.log.info(note, resource=resource)
    for warning in decision.warnings:
        pulumi.log.warn(warning, resource=resource)


def log_release_change(
    stack_input: StackInput,
    state: ClusterState,
    package: ChartPackage,
    values: dict[str, Any],
    release: pulumi.Resource,
) -> None:
    """At preview, what the update changes inside the release: one line on the Release, the
    whole diff at debug level (``pulumi preview --debug``). Without the Helm engine (the render
    extra) the preview says so as a warning, never silently."""
    try:
        changes = release_change(stack_input, state, package, values)
    except RenderError as exc:
        pulumi.log.warn(f"no diff inside the release at preview: {exc}", resource=release)
        return
    if changes is None:
        return
    pulumi.log.info(f"inside the release: {summary(changes)}", resource=release)
    pulumi.log.debug(to_text(changes), resource=release)
