"""The flags of the commands that read a cluster, as kubectl and helm spell them:
``--kubeconfig``, ``--context`` and ``--chart-repo``; applied to the stack input once, at the
command line, so the rest of the run sees one stack input."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from ._base import RepoUrl

if TYPE_CHECKING:
    from ..checks.preflight import StackState
    from ..manifest import StackInput

F = TypeVar("F", bound=Callable[..., Any])

# Pulumi's stack names: STACK, ORG/STACK or ORG/PROJECT/STACK, each part of these characters.
# A part of dots only ("..") is none.
_PART = r"(?!\.+(?:/|$))[A-Za-z0-9_.-]+"
_STACK_NAME = re.compile(rf"{_PART}(?:/{_PART}){{0,2}}")

KUBECONFIG = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    help=(
        "Read the cluster with this kubeconfig file (as kubectl --kubeconfig), instead of the "
        "stack input's providerConfig."
    ),
)
CONTEXT = click.option(
    "--context",
    "kube_context",
    help=(
        "The kubeconfig context (as kubectl --context): of --kubeconfig, of the stack input's "
        "kubeconfig, or of the ambient one (KUBECONFIG)."
    ),
)
CHART_REPO = click.option(
    "--chart-repo",
    type=RepoUrl(),
    help="Chart repository (URL or directory); overrides spec.helm.repo and the env mirror.",
)


STACK = click.option(
    "--stack",
    "stack_name",
    metavar="ORG/PROJECT/STACK",
    help=(
        "Instead of FILE: the stack input from this stack's config (planton-cloud:stack-input) "
        "and its last outputs, read through the Pulumi CLI in the project's folder (here), so "
        "the checks decide as `pulumi preview` would."
    ),
)


def cluster_flags(command: F) -> F:
    """--kubeconfig, --context and --chart-repo, in that order in --help."""
    return KUBECONFIG(CONTEXT(CHART_REPO(command)))


class Target(NamedTuple):
    stack_input: StackInput
    # The environment the cluster read uses: --context for the ambient kubeconfig (KUBE_CTX).
    environ: dict[str, str] | None
    # With --stack: what the stack exported on its last update (the preflight's owner check).
    stack_state: StackState | None = None


def read_target(
    file: str | None,
    kubeconfig: str | None,
    kube_context: str | None,
    chart_repo: str | None,
    stack_name: str | None = None,
) -> Target:
    """The stack input of FILE (or of --stack) with the flags applied: --kubeconfig (and
    --context) replace its credentials; --context alone picks a context of its kubeconfig, or of
    the ambient one; --chart-repo replaces spec.helm.repo."""
    import os

    from pydantic import ValidationError

    from ..manifest import KubernetesProviderConfig

    if (file is None) == (stack_name is None):
        raise click.UsageError("give FILE or --stack ORG/PROJECT/STACK (one of them)")
    if stack_name is not None and not _STACK_NAME.fullmatch(stack_name):
        raise click.UsageError(
            f"--stack {stack_name!r} is not a stack name: STACK, ORG/STACK or ORG/PROJECT/STACK "
            "(letters, digits, '-', '_', '.')"
        )
    stack_state = None
    if file is not None:
        from ..manifest import read_file

        stack_input = read_file(file)
    else:
        stack_input, stack_state = _from_stack(str(stack_name))
        file = f"--stack {stack_name}"
    config = stack_input.provider_config
    block: dict[str, Any] | None = None
    if kubeconfig is not None:
        _check_kubeconfig(kubeconfig, kube_context)
        block = {"path": kubeconfig}
    elif kube_context is not None and config is not None:
        if config.kubeconfig is None:
            raise click.UsageError(
                f"--context picks a context of a kubeconfig, and {file} gives "
                f"providerConfig.{config.provider} credentials: add --kubeconfig"
            )
        block = config.kubeconfig.model_dump(exclude_none=True)
    if block is not None:
        if kube_context is not None:
            block["context"] = kube_context
        try:
            config = KubernetesProviderConfig.model_validate(
                {"provider": "kubeconfig", "kubeconfig": block}
            )
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise click.UsageError(f"--kubeconfig/--context: the kubeconfig {reason}") from None
    target = stack_input.target
    if chart_repo is not None:  # checked by its type (RepoUrl)
        helm = target.spec.helm.model_copy(update={"repo": chart_repo})
        target = target.model_copy(update={"spec": target.spec.model_copy(update={"helm": helm})})
    environ = None
    if kube_context is not None and config is None:
        environ = {**os.environ, "KUBE_CTX": kube_context}
    updated = stack_input.model_copy(update={"provider_config": config, "target": target})
    return Target(updated, environ, stack_state)


def _from_stack(name: str) -> tuple[StackInput, StackState]:
    import logging
    from pathlib import Path

    from .. import defaults
    from ..checks.preflight import StackState
    from ..deploy.automation import read_stack
    from ..errors import StackInputError
    from ..manifest import load_stack_input, stack_input_sources

    text, last = read_stack(name, Path.cwd())
    key = defaults.STACK_INPUT_CONFIG_KEY
    # As the program reads it: the stack's config first, then STACK_INPUT_YAML, then
    # STACK_INPUT_YAML_FILE (a stack deployed with `STACK_INPUT_YAML_FILE=… pulumi up`).
    try:
        # A note on stderr (notes_on_stderr), as the program's warning in `pulumi up`.
        warn = logging.getLogger(__name__).warning
        stack_input = load_stack_input(config_value=lambda: text, warn=warn)
    except StackInputError as exc:
        if stack_input_sources(lambda: text):
            raise
        raise StackInputError(
            f"--stack {name}: the stack's config has no {key}, and neither env "
            f"{defaults.STACK_INPUT_YAML_ENV} nor {defaults.STACK_INPUT_YAML_FILE_ENV} is set"
        ) from exc
    return stack_input, StackState.from_outputs(last)


def _check_kubeconfig(path: str, context: str | None) -> None:
    """The flag's file, read and checked now, so an error names the flag."""
    from .. import _yaml
    from ..manifest import parse_kubeconfig

    try:
        parse_kubeconfig(_yaml.read_input(path), context)
    except ValueError as exc:  # _yaml.InputError is one
        raise click.UsageError(f"--kubeconfig {path}: {exc}") from None
