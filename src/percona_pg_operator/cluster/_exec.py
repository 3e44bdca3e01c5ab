"""Kubeconfig ``exec`` credential plugins for the live reads, run the way client-go runs them.

The Kubernetes provider (client-go) and Helm run a kubeconfig user's ``exec`` plugin to get a
bearer token; the live reads must run the very same plugin the same way, or the preflight and
the verification stop where the provider would have worked. lightkube runs only ``v1alpha1`` and
``v1beta1`` plugins (``ExecAuth._prepare`` in lightkube/config/client_adapter.py, 1.0.1), and the
kubeconfigs this package writes for GKE and EKS use ``v1``, so the reads run plugins here:

- ``client.authentication.k8s.io/v1`` and ``v1beta1`` (``v1alpha1`` was removed in Kubernetes
  1.24); ``interactiveMode`` is required for ``v1`` and defaults to ``IfAvailable`` for
  ``v1beta1``, as client-go validates it. The reads never have a terminal, so ``Always`` is
  refused with a message instead of a plugin waiting on input.
- ``KUBERNETES_EXEC_INFO`` carries the ``ExecCredential`` request (and the cluster, with
  ``provideClusterInfo``); the plugin's ``env`` is added to this process's environment.
- A relative command with a path separator is relative to the kubeconfig file's folder.
- The token is kept until ``status.expirationTimestamp`` (a little before it) and is fetched
  again then, or when the API server answers 401 (the request is sent once more).
- A plugin that is not installed gets its ``installHint``; one that hangs is killed after
  :data:`PLUGIN_TIMEOUT_SECONDS`; its output is read up to :data:`MAX_OUTPUT_BYTES`.

Reference: https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
and client-go's plugin/pkg/client/auth/exec/exec.go (the checks it makes on the plugin's answer).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import selectors
import subprocess
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from .._process import kill_group
from ..errors import ClusterUnreachableError
from ..tokens import EXEC_API_VERSIONS

API_VERSIONS = EXEC_API_VERSIONS
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
PLUGIN_TIMEOUT_SECONDS = 60.0
MAX_OUTPUT_BYTES = 1 << 20
# Fetch a new token this long before the old one expires, so no request carries a stale one.
EXPIRY_MARGIN = dt.timedelta(seconds=10)
_MESSAGE_CHARS = 300

Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def not_installed(command: str, hint: str) -> str:
    """The one message for a credential command that is missing (here and before a deploy)."""
    return f"the kubeconfig's credential command {command!r} is not installed or not on PATH" + (
        f"; {hint}" if hint else ""
    )


def _fail(message: str, *, retryable: bool = False) -> ClusterUnreachableError:
    return ClusterUnreachableError(
        f"the kubeconfig's exec credential plugin {message}", retryable=retryable
    )


@dataclass(frozen=True)
class ExecPlugin:
    """A kubeconfig user's ``exec`` block, checked as client-go checks it."""

    api_version: str
    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    install_hint: str = ""
    provide_cluster_info: bool = False
    cluster: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_kubeconfig(
        cls,
        entry: Any,
        cluster: Mapping[str, Any] | None = None,
        kubeconfig_dir: Path | None = None,
    ) -> ExecPlugin:
        """``entry`` is the user's ``exec`` mapping; ``cluster`` the context's cluster entry."""
        if not isinstance(entry, Mapping):
            raise _fail("(users[].user.exec) is not a mapping")
        api_version = entry.get("apiVersion")
        if api_version not in API_VERSIONS:
            raise _fail(
                f"asks for apiVersion {str(api_version)[:80]!r}; "
                f"supported: {', '.join(API_VERSIONS)}"
            )
        command = entry.get("command")
        if not isinstance(command, str) or not command:
            raise _fail("(users[].user.exec.command) is missing")
        args = entry.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise _fail("(users[].user.exec.args) is not a list of strings")
        env: list[tuple[str, str]] = []
        for item in entry.get("env") or []:
            if not (
                isinstance(item, Mapping)
                and isinstance(item.get("name"), str)
                and isinstance(item.get("value"), str)
            ):
                raise _fail("(users[].user.exec.env) needs entries with a name and a value")
            env.append((item["name"], item["value"]))
        mode = entry.get("interactiveMode")
        if mode is None and api_version.endswith("/v1"):
            raise _fail(f"has no interactiveMode, which {api_version} requires (as kubectl says)")
        if mode is not None and mode not in INTERACTIVE_MODES:
            raise _fail(
                f"has interactiveMode {str(mode)[:40]!r}; one of {', '.join(INTERACTIVE_MODES)}"
            )
        if mode == "Always":
            raise _fail(
                "has interactiveMode Always, but the cluster is read without a terminal; use "
                "Never or IfAvailable (or a plugin that needs no input)"
            )
        if os.sep in command and not Path(command).is_absolute() and kubeconfig_dir is not None:
            command = str(kubeconfig_dir / command)
        hint = entry.get("installHint")
        return cls(
            api_version=api_version,
            command=command,
            args=tuple(args),
            env=tuple(env),
            install_hint=hint if isinstance(hint, str) else "",
            provide_cluster_info=entry.get("provideClusterInfo") is True,
            cluster=dict(cluster or {}),
        )

    def exec_info(self) -> str:
        """The ``KUBERNETES_EXEC_INFO`` request: never interactive here."""
        spec: dict[str, Any] = {"interactive": False}
        if self.provide_cluster_info:
            keys = (
                "server",
                "certificate-authority-data",
                "insecure-skip-tls-verify",
                "tls-server-name",
                "proxy-url",
                "disable-compression",
            )
            info = {k: self.cluster[k] for k in keys if k in self.cluster}
            for extension in self.cluster.get("extensions") or []:
                if (
                    isinstance(extension, Mapping)
                    and extension.get("name") == "client.authentication.k8s.io/exec"
                ):
                    info["config"] = extension.get("extension")
            spec["cluster"] = info
        return json.dumps({"apiVersion": self.api_version, "kind": "ExecCredential", "spec": spec})


def _read_bounded(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """stdout and stderr, each up to MAX_OUTPUT_BYTES, before ``timeout`` runs out."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    buffers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffers[key.fd] += chunk
                if len(buffers[key.fd]) > MAX_OUTPUT_BYTES:
                    raise OverflowError
    return bytes(out), bytes(err)


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:_MESSAGE_CHARS] if lines else ""


def run_plugin(plugin: ExecPlugin, timeout: float | None = None) -> tuple[str, dt.datetime | None]:
    """Run the plugin once: its token and when the token expires (None: not said)."""
    timeout = PLUGIN_TIMEOUT_SECONDS if timeout is None else timeout
    env = {**os.environ, **dict(plugin.env), "KUBERNETES_EXEC_INFO": plugin.exec_info()}
    name = plugin.command
    try:
        proc = subprocess.Popen(
            [plugin.command, *plugin.args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own process group: on a timeout the plugin and whatever it started go.
            start_new_session=True,
        )
    except (FileNotFoundError, NotADirectoryError):
        raise ClusterUnreachableError(not_installed(name, plugin.install_hint)) from None
    except PermissionError:
        raise _fail(f"{name!r} cannot be run (permission denied)") from None
    try:
        out, err = _read_bounded(proc, timeout)
        code = proc.wait(timeout=max(1.0, timeout))
    except TimeoutError:
        raise _fail(f"{name!r} gave no answer within {timeout:g} s", retryable=True) from None
    except OverflowError:
        raise _fail(f"{name!r} wrote more than {MAX_OUTPUT_BYTES} bytes") from None
    except subprocess.TimeoutExpired:
        raise _fail(f"{name!r} did not exit within {timeout:g} s", retryable=True) from None
    finally:
        kill_group(proc)  # itself if it still runs, and any child it left behind
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    if code != 0:
        said = _last_line(err)
        raise _fail(f"{name!r} exited with {code}" + (f": {said}" if said else ""))
    return parse_credential(out, plugin)


def parse_credential(output: bytes, plugin: ExecPlugin) -> tuple[str, dt.datetime | None]:
    """The token and its expiry from the plugin's ExecCredential, checked as client-go does."""
    name = plugin.command
    try:
        doc = json.loads(output)
    except ValueError:
        raise _fail(f"{name!r} did not print an ExecCredential (not JSON)") from None
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise _fail(f"{name!r} did not print an ExecCredential")
    if doc.get("apiVersion") != plugin.api_version:
        raise _fail(
            f"{name!r} is configured for {plugin.api_version} but answered "
            f"{str(doc.get('apiVersion'))[:80]!r}"
        )
    status = doc.get("status")
    if not isinstance(status, dict):
        raise _fail(f"{name!r} answered without a status")
    token = status.get("token")
    if not isinstance(token, str) or not token:
        if status.get("clientCertificateData"):
            raise _fail(f"{name!r} answered with a client certificate; the live reads take a token")
        raise _fail(f"{name!r} answered without a token")
    expiry: dt.datetime | None = None
    stamp = status.get("expirationTimestamp")
    if stamp is not None:
        try:
            expiry = dt.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise _fail(f"{name!r} answered an expirationTimestamp that is not a time") from None
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=dt.UTC)
    return token, expiry


class ExecTokens:
    """The plugin's current token: fetched on first use, again when it expires or is rejected."""

    def __init__(
        self,
        plugin: ExecPlugin,
        run: Callable[[ExecPlugin], tuple[str, dt.datetime | None]] = run_plugin,
        clock: Clock = _now,
    ) -> None:
        self._plugin = plugin
        self._run = run
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expiry: dt.datetime | None = None
        self.runs = 0

    def token(self) -> str:
        with self._lock:
            stale = self._expiry is not None and self._clock() >= self._expiry - EXPIRY_MARGIN
            if self._token is None or stale:
                self._token, self._expiry = self._run(self._plugin)
                self.runs += 1
            return self._token

    def rejected(self, token: str) -> None:
        """The API server answered 401 to ``token``: the next call runs the plugin again."""
        with self._lock:
            if self._token == token:
                self._token = None


class ExecAuth(httpx2.Auth):
    """Bearer auth from an exec plugin; a 401 fetches a new token and sends the request again."""

    def __init__(self, tokens: ExecTokens) -> None:
        self._tokens = tokens

    def auth_flow(
        self, request: httpx2.Request
    ) -> Generator[httpx2.Request, httpx2.Response, None]:
        token = self._tokens.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        self._tokens.rejected(token)
        fresh = self._tokens.token()
        if fresh == token:
            return
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request
