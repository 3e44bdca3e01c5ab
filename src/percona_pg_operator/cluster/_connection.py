"""From credentials to a lightkube configuration: kubectl's merge of the ambient kubeconfig
files, the chosen context, and the user's exec plugin, which the client runs itself."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.core.exceptions import ConfigError

from .. import _yaml
from ..errors import ClusterUnreachableError
from ._exec import ExecPlugin
from ._kubeconfig import ClusterCredentials, kubeconfig_paths


def _merged_kubeconfig(
    paths: Sequence[Path],
) -> tuple[dict[str, Any], Path | None, dict[str, Path]]:
    """kubectl's merge of several kubeconfig files: the first file to set a name wins.

    Also: the first file, and for each user the file that defined it (an exec plugin's relative
    command is relative to that file's folder)."""
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    first: Path | None = None
    origins: dict[str, Path] = {}
    for path in paths:
        if not path.is_file():
            continue
        try:
            doc = _yaml.load_input(_yaml.read_input(path)) or {}
        except _yaml.InputError as exc:
            raise ClusterUnreachableError(f"the kubeconfig {path} {exc}") from None
        if not isinstance(doc, dict):
            raise ClusterUnreachableError(f"the kubeconfig {path} is not a kubeconfig")
        first = first or path
        for key in ("clusters", "users", "contexts"):
            entries = doc.get(key) or []
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ClusterUnreachableError(
                    f"the kubeconfig {path}: {key} is not a list of entries"
                )
            known = {entry.get("name") for entry in merged[key]}
            fresh = [e for e in entries if e.get("name") not in known]
            merged[key] += fresh
            if key == "users":
                origins.update({str(e.get("name")): path for e in fresh})
        merged.setdefault("current-context", doc.get("current-context"))
    return merged, first, origins


def _named(doc: Mapping[str, Any], key: str, name: Any, inner: str) -> dict[str, Any]:
    for entry in doc.get(key) or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            value = entry.get(inner)
            return dict(value) if isinstance(value, Mapping) else {}
    return {}


def _exec_plugin(
    doc: Mapping[str, Any], context: str, origins: Mapping[str, Path], fallback: Path | None
) -> ExecPlugin | None:
    """The chosen context's user's exec plugin, if it has one."""
    ctx = _named(doc, "contexts", context, "context")
    user = _named(doc, "users", ctx.get("user"), "user")
    if "exec" not in user or user["exec"] is None:
        return None
    source = origins.get(str(ctx.get("user")), fallback)
    return ExecPlugin.from_kubeconfig(
        user["exec"],
        _named(doc, "clusters", ctx.get("cluster"), "cluster"),
        source.parent if source is not None else None,
    )


@dataclass(frozen=True)
class Connection:
    """The lightkube configuration for exactly what the provider gets, and the user's exec
    plugin, which this package runs itself (lightkube's runs no ``v1`` plugin)."""

    config: SingleConfig
    plugin: ExecPlugin | None = None


def connection(
    credentials: ClusterCredentials, environ: Mapping[str, str] | None = None
) -> Connection:
    env = os.environ if environ is None else environ
    try:
        if credentials.kubeconfig is not None:
            doc = _yaml.load(credentials.kubeconfig)
            if not isinstance(doc, dict):
                raise ClusterUnreachableError("the kubeconfig is not a mapping")
            first, origins = None, dict[str, Path]()
        else:
            doc, first, origins = _merged_kubeconfig(kubeconfig_paths(env))
            if first is None:
                raise ClusterUnreachableError(
                    "no kubeconfig: set KUBECONFIG, create ~/.kube/config, or give provider_config"
                )
        context = credentials.context or doc.get("current-context")
        plugin = _exec_plugin(doc, context, origins, first)
        if plugin is not None:
            doc = _without_exec(doc, context)
        chosen = KubeConfig.from_dict(doc, fname=first).get(context_name=credentials.context)
    except (ConfigError, msgspec.ValidationError, TypeError, ValueError) as exc:
        raise ClusterUnreachableError(f"the kubeconfig cannot be used: {str(exc)[:300]}") from None
    if chosen is None:
        raise ClusterUnreachableError(
            f"the kubeconfig has no context {credentials.context!r}"
            if credentials.context
            else "the kubeconfig has no current-context"
        )
    return Connection(chosen, plugin)


def _without_exec(doc: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """The kubeconfig without the context's user's exec block: it is run here, not by lightkube."""
    user = _named(doc, "contexts", context, "context").get("user")
    users = [
        {**e, "user": {k: v for k, v in e["user"].items() if k != "exec"}}
        if isinstance(e, Mapping) and e.get("name") == user and isinstance(e.get("user"), Mapping)
        else e
        for e in doc.get("users") or []
    ]
    return {**doc, "users": users}
