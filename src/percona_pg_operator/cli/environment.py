"""Every environment switch, and the commands each one affects: shown in those commands'
--help (``Environment:``), one table so that a new switch cannot be left out of the help."""

from __future__ import annotations

from collections.abc import Iterable

# The names are the constants' values (defaults.py, tokens.py, checks/preflight.py); a test
# checks that every PERCONA_PG_OPERATOR_* name in the source is here.
MEANINGS = {
    "PERCONA_PG_OPERATOR_CHART_REPO": (
        "a chart repository mirror (https://, file://, a folder); --chart-repo and "
        "spec.helm.repo win"
    ),
    "XDG_CACHE_HOME": "the chart cache is $XDG_CACHE_HOME/percona-pg-operator (~/.cache/...)",
    "KUBECONFIG": "the kubeconfig read when the stack input has no providerConfig (as kubectl)",
    "KUBE_CTX": "the context of that kubeconfig (--context wins)",
    "PERCONA_PG_OPERATOR_PREFLIGHT": "off: the Pulumi program skips its live preflight",
    "PERCONA_PG_OPERATOR_GKE_SA_KEY_BASE64": "the service-account key, base64 (no --key-file)",
    "PERCONA_PG_OPERATOR_DEBUG": "1: the Pulumi program shows the traceback of an internal error",
}

_CHART = ("PERCONA_PG_OPERATOR_CHART_REPO", "XDG_CACHE_HOME")
_CLUSTER = (*_CHART, "KUBECONFIG", "KUBE_CTX")
_PROGRAM = (*_CLUSTER, "PERCONA_PG_OPERATOR_PREFLIGHT", "PERCONA_PG_OPERATOR_DEBUG")

AFFECTS: dict[str, tuple[str, ...]] = {
    "validate": _CHART,
    "render": _CHART,
    "diff": _CLUSTER,
    "preflight": _CLUSTER,
    "status": _CLUSTER,
    "upgrade-plan": _CLUSTER,
    "repair": _CLUSTER,
    "fleet preflight": _CLUSTER,
    "fleet preview": _PROGRAM,
    "fleet up": _PROGRAM,
    "fleet destroy": _PROGRAM,
    "fleet status": _CLUSTER,
    "credentials gke": ("PERCONA_PG_OPERATOR_GKE_SA_KEY_BASE64",),
}


# The same switch for a command without --chart-repo (the fleet's: each cluster's spec decides).
WITHOUT_CHART_REPO_FLAG = {
    "PERCONA_PG_OPERATOR_CHART_REPO": (
        "a chart repository mirror (https://, file://, a folder); spec.helm.repo wins"
    ),
}


def help_text(names: Iterable[str], flags: Iterable[str] = ("--chart-repo",)) -> str:
    """The ``Environment`` section of a command's --help, wrapped to fit 80 columns; a switch's
    meaning names only the flags the command has (``flags``)."""
    import textwrap

    own = {} if "--chart-repo" in set(flags) else WITHOUT_CHART_REPO_FLAG

    def meaning(name: str) -> str:
        indent = " " * 6
        return textwrap.fill(
            own.get(name, MEANINGS[name]), width=78, initial_indent=indent,
            subsequent_indent=indent, break_long_words=False, break_on_hyphens=False,
        )  # fmt: skip

    lines = [f"  {name}\n{meaning(name)}" for name in names]
    return "\b\nEnvironment:\n" + "\n".join(lines) if lines else ""
