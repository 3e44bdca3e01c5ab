"""The Pulumi program: load the stack input, build the component, export the stack outputs."""

from __future__ import annotations

from typing import Any

import pulumi

from . import defaults, outputs
from .component import PerconaPostgresOperator, PerconaPostgresOperatorArgs
from .errors import PerconaPgOperatorError
from .manifest import load_stack_input, pulumi_config_value


def previous_chart_version() -> pulumi.Output[str | None]:
    """The chart version this stack deployed last, read from its own last exported outputs.

    - This module's stacks export ``chart_version``.
    - A stack project-planton's Go module deployed exports only ``namespace``; that module pins
      chart 2.7.0, so that is the version running (``defaults.UPSTREAM_CHART_VERSION``).
    - A stack never deployed has no outputs, so a fresh install passes the upgrade guard.

    Reading a stack's own outputs back through a StackReference: pulumi/pulumi#3722.
    """
    this_stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    ref = pulumi.StackReference(this_stack)
    last = pulumi.Output.all(
        ref.get_output(outputs.CHART_VERSION), ref.get_output(outputs.NAMESPACE)
    )
    return last.apply(_version_from_outputs)


def _version_from_outputs(last: list[Any]) -> str | None:
    chart_version, namespace = last
    if chart_version:
        return str(chart_version)
    if namespace:
        pulumi.log.info(
            "this stack's outputs name a namespace but no chart_version: it was deployed by "
            "project-planton's Go module, which installs chart "
            f"{defaults.UPSTREAM_CHART_VERSION}; the upgrade guard starts from that version"
        )
        return defaults.UPSTREAM_CHART_VERSION
    return None


def run() -> PerconaPostgresOperator:
    """Build the stack. Bad input stops it with a plain message (``RunError``), no traceback."""
    try:
        stack_input = load_stack_input(config_value=pulumi_config_value)
        operator = PerconaPostgresOperator(
            stack_input.target.metadata.name,
            PerconaPostgresOperatorArgs(
                stack_input,
                previous_chart_version=previous_chart_version(),
                upstream_aliases=True,
            ),
        )
    except PerconaPgOperatorError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, value in operator.outputs().items():
        pulumi.export(key, value)
    return operator
