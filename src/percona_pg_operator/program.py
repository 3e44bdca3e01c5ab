"""The Pulumi program: load the stack input, build the component, export the stack outputs."""

from __future__ import annotations

import pulumi

from . import outputs
from .component import PerconaPostgresOperator
from .errors import PerconaPgOperatorError
from .manifest import load_stack_input, pulumi_config_value


def previous_chart_version() -> pulumi.Output[str | None]:
    """The chart version this stack deployed last, read from its own last exported outputs.

    A stack never deployed has no outputs, so a fresh install passes the upgrade guard. Reading
    a stack's own outputs back through a StackReference: pulumi/pulumi#3722.
    """
    this_stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    ref = pulumi.StackReference(this_stack)
    version: pulumi.Output[str | None] = ref.get_output(outputs.CHART_VERSION)
    return version


def run() -> PerconaPostgresOperator:
    """Build the stack. Bad input stops it with a plain message (``RunError``), no traceback."""
    try:
        stack_input = load_stack_input(config_value=pulumi_config_value)
        operator = PerconaPostgresOperator(
            stack_input.target.metadata.name,
            stack_input,
            previous_chart_version=previous_chart_version(),
        )
    except PerconaPgOperatorError as exc:
        raise pulumi.RunError(str(exc)) from None
    for key, value in operator.outputs().items():
        pulumi.export(key, value)
    return operator
