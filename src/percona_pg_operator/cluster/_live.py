"""Reading the target cluster, read only: the one client and what it reports.

The client is lightkube (https://github.com/gtsystem/lightkube): a maintained, typed client
that reads the same kubeconfigs the Pulumi provider gets, exec credential plugins, ``tokenFile``
and in-cluster service accounts included, lists with ``continue`` pagination, and pulls in no
code generator or async stack. It is built from :class:`ClusterCredentials`, the very object the
provider's arguments come from, so the two can never point at different clusters.

Every call is bounded (a connect and a read timeout), retried on transport errors and on
429/5xx, and turned into one of the package's errors: 401 and transport failures are
``ClusterUnreachableError``, 403 is ``ClusterPermissionError`` naming the verb, resource and
namespace, anything else ``ClusterError``. Nothing here writes.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import httpx2
import msgspec
from lightkube import ApiError, Client
from lightkube.config.client_adapter import Client as HttpClient
from lightkube.config.client_adapter import ConnectionParams, verify_cluster
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core.exceptions import ConfigError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import Status
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Event, Namespace, Secret

from ..errors import ClusterError, ClusterPermissionError, ClusterUnreachableError
from ..formats import escape_control
from ._connection import connection
from ._exec import ExecAuth, ExecPlugin, ExecTokens
from ._helm import RELEASE_SECRET_TYPE, HelmRelease, release_from_secret
from ._kubeconfig import ClusterCredentials
from ._state import ClusterState, CrdState, DatabaseCluster, OperatorDeployment
from ._transport import BoundedTransport, ReadLimitExceeded

CONNECT_TIMEOUT_SECONDS = 5.0
# One command's (or the program's) whole read of the cluster: every request, page and retry.
READ_DEADLINE_SECONDS = 120.0
READ_TIMEOUT_SECONDS = 10.0
RETRIES = 2
BACKOFF_SECONDS = 0.5
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}
# Lists come in pages of this many objects (the `continue` token fetches the next).
PAGE_SIZE = 100
# Helm release Secrets (up to 1 MiB each): 10 a page; Helm keeps 10 revisions by default.
RELEASE_PAGE_SIZE = 10
# No list this package makes comes near this; a server that lists more is refused.
MAX_LIST_ITEMS = 10_000
# A condition's or an event's message, as stored and printed.
MAX_TEXT = 1000
# The CRD version label Percona puts on its CRDs (it does not follow the chart version).
CRD_VERSION_LABEL = "pgv2.percona.com/version"
# The chart's Deployment carries this label (templates/deployment.yaml, 2.7.0 to 3.0.0).
OPERATOR_LABELS = {"pgv2.percona.com/control-plane": "postgres-operator"}

_CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


class _CrdVersion(msgspec.Struct):
    name: str
    served: bool = False
    storage: bool = False


class _CrdSpec(msgspec.Struct):
    versions: list[_CrdVersion]


class _CrdCondition(msgspec.Struct):
    type: str = ""
    status: str = ""


class _CrdStatus(msgspec.Struct):
    conditions: list[_CrdCondition] | None = None


class _CrdMeta(msgspec.Struct):
    labels: dict[str, str] | None = None


class _CrdSummary(msgspec.Struct):
    """What the checks read of a CRD; msgspec skips everything else without building it."""

    metadata: _CrdMeta
    spec: _CrdSpec
    status: _CrdStatus | None = None


PerconaPGCluster = create_namespaced_resource(
    "pgv2.percona.com", "v2", "PerconaPGCluster", "perconapgclusters"
)

T = TypeVar("T")


class ClusterClient:
    """Read-only access to one cluster, with bounded time and clear errors."""

    def __init__(
        self,
        config: SingleConfig,
        *,
        plugin: ExecPlugin | None = None,
        timeout: float = READ_TIMEOUT_SECONDS,
        retries: int = RETRIES,
        backoff: float = BACKOFF_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        deadline_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.server = config.cluster.server
        timeouts = httpx2.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout))
        self._retries = retries
        self._backoff = backoff
        self._sleep = sleep
        self.tokens = ExecTokens(plugin) if plugin is not None else None
        assert config.user is not None
        # lightkube's own TLS settings for this cluster, under the bounds of _transport.py.
        verify = verify_cluster(config.cluster, config.user, config.abs_file, trust_env=False)
        self._transport = BoundedTransport(
            httpx2.HTTPTransport(verify=verify),
            auth=ExecAuth(self.tokens) if self.tokens is not None else None,
            clock=clock,
        )
        if deadline_seconds is not None:
            self._transport.deadline = clock() + deadline_seconds
        # trust_env=False: no proxy or netrc from the environment between us and the cluster.
        self._client = Client(config, timeout=timeouts, trust_env=False, transport=self._transport)
        # lightkube's own HTTP client for the one path it has no resource for: /version.
        self._http = HttpClient(
            config, ConnectionParams(timeout=timeouts, trust_env=False, transport=self._transport)
        )

    @classmethod
    def connect(
        cls,
        credentials: ClusterCredentials,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> ClusterClient:
        found = connection(credentials, environ)
        return cls(found.config, plugin=found.plugin, **kwargs)

    def close(self) -> None:
        self._client.close()
        self._http.close()

    def __enter__(self) -> ClusterClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- one place for retries and errors ----------------------------------------------------

    def _call(
        self,
        fn: Callable[[], T],
        *,
        verb: str,
        resource: str,
        namespace: str | None = None,
        missing: T | None = None,
        allow_missing: bool = False,
    ) -> T:
        where = f" in namespace {namespace}" if namespace else " (cluster-wide)"
        what = f"{verb} {resource}{where}"
        attempt = 0
        while True:
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            attempt += 1
            self._transport.start_read()
            try:
                try:
                    return fn()
                except ReadLimitExceeded as exc:
                    raise ClusterError(
                        f"the API server at {self.server} {exc} when asked to {what}",
                        retryable=exc.retryable,
                    ) from None
                except (ValueError, TypeError, AttributeError, KeyError) as exc:
                    # Not Kubernetes JSON (an HTML page from a proxy), or JSON of the wrong shape.
                    raise ClusterError(
                        f"the API server at {self.server} answered a request to {what} with "
                        f"something that cannot be read ({type(exc).__name__}: "
                        f"{clip(str(exc), 200)})"
                    ) from None
                except httpx2.HTTPStatusError as exc:
                    # A real API server answers a path it does not serve (a resource whose CRD
                    # is not installed) with a plain-text "404 page not found", which lightkube
                    # cannot read as a Status and passes on as httpx's error.
                    answer = exc.response
                    raise ApiError(
                        request=exc.request,
                        status=Status(code=answer.status_code, reason=answer.reason_phrase),
                    ) from None
            except ApiError as exc:
                code = exc.status.code or 0
                if code == 404 and allow_missing:
                    return missing  # type: ignore[return-value]
                if code == 403:
                    raise ClusterPermissionError(
                        f"the API server at {self.server} refused to {what} (403 Forbidden): "
                        f"the credentials need the '{verb}' permission on {resource}{where} "
                        "(see the README's Permissions section for the whole ClusterRole)",
                        status=403,
                    ) from None
                if code == 401:
                    raise ClusterUnreachableError(
                        f"the API server at {self.server} rejected the credentials "
                        f"(401 Unauthorized) when asked to {what}",
                        status=401,
                    ) from None
                if code in _RETRYABLE_STATUS and attempt <= self._retries:
                    continue
                reason = clip(exc.status.reason or "", 200)
                raise ClusterError(
                    f"cannot {what} at {self.server}: HTTP {code} {reason}",
                    status=code,
                    retryable=code in _RETRYABLE_STATUS,
                ) from None
            except (httpx2.TransportError, httpx2.TimeoutException) as exc:
                if attempt <= self._retries:
                    continue
                raise ClusterUnreachableError(
                    f"no answer from the API server at {self.server} ({type(exc).__name__}) "
                    f"when asked to {what}",
                    retryable=True,
                ) from None
            except ConfigError as exc:
                raise ClusterUnreachableError(
                    f"the credentials for {self.server} cannot be used: {exc}"
                ) from None

    @contextlib.contextmanager
    def _reading(self, kind: str, name: str = "") -> Iterator[None]:
        """An object of the wrong shape (a string where a list belongs, a number as a name) is
        a clean error naming the object, never a crash."""
        try:
            yield
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            what = f"{kind} {clip(name, 100)}".strip()
            raise ClusterError(
                f"the API server at {self.server} answered a {what} that cannot be read "
                f"({type(exc).__name__})"
            ) from None

    # -- reads -----------------------------------------------------------------------------------

    def server_version(self) -> str:
        def get() -> str:
            response = self._http.get("/version")
            if response.status_code >= 400:
                # Raised as lightkube would, so _call sorts it like every other answer.
                raise ApiError(request=response.request, response=response)
            found = response.json()
            if not isinstance(found, dict):
                raise TypeError("not an object")
            return clip(found.get("gitVersion") or "", 100)

        return self._call(get, verb="get", resource="/version")

    def namespace_labels(self, name: str) -> dict[str, str] | None:
        """The namespace's labels, or None when it does not exist."""
        found = self._call(
            lambda: self._client.get(Namespace, name),
            verb="get",
            resource="namespaces",
            allow_missing=True,
        )
        if found is None:
            return None
        with self._reading("Namespace", name):
            labels = (found.metadata.labels if found.metadata else None) or {}
            return {clip(k, 320): clip(v, 320) for k, v in dict(labels).items()}

    def helm_releases(self, namespace: str, release: str) -> list[HelmRelease]:
        """Every stored revision of ``release`` in ``namespace``, oldest first."""
        secrets = self._list(
            Secret,
            namespace=namespace,
            labels={"owner": "helm", "name": release},
            resource="secrets",
            # Each record may be up to 1 MiB: a few at a time keep each answer small.
            page_size=RELEASE_PAGE_SIZE,
        )
        releases = []
        for secret in secrets:
            name = secret.metadata.name if secret.metadata else ""
            with self._reading("Helm release Secret", f"{namespace}/{name}"):
                if secret.type != RELEASE_SECRET_TYPE or not secret.data:
                    continue
                data = secret.data.get("release")
                if data is None:
                    continue
                try:
                    releases.append(release_from_secret(data))
                except ClusterError as exc:
                    raise ClusterError(
                        f"the Helm release Secret {namespace}/{name}: {exc}"
                    ) from None
        return sorted(releases, key=lambda r: r.revision)

    def operator_deployment(self, namespace: str, release: str) -> OperatorDeployment | None:
        labels = {**OPERATOR_LABELS, "app.kubernetes.io/instance": release}
        found = self._list(Deployment, namespace=namespace, labels=labels, resource="deployments")
        if not found:
            return None
        deployment = found[0]
        name = deployment.metadata.name if deployment.metadata else ""
        with self._reading("Deployment", f"{namespace}/{name}"):
            spec = deployment.spec
            containers = spec.template.spec.containers if spec and spec.template.spec else []
            status = deployment.status
            return OperatorDeployment(
                name=clip(name or "", 253),
                images=[clip(c.image or "", 500) for c in containers],
                replicas=_count(spec.replicas if spec and spec.replicas is not None else 1),
                ready_replicas=_count((status.readyReplicas or 0) if status else 0),
                updated_replicas=_count((status.updatedReplicas or 0) if status else 0),
                generation=_count(
                    (deployment.metadata.generation or 0) if deployment.metadata else 0
                ),
                observed_generation=_count((status.observedGeneration or 0) if status else 0),
                conditions=[
                    _condition(c.type, c.status, c.reason, c.message)
                    for c in (status.conditions or [] if status else [])
                ],
            )

    def events(self, namespace: str, name: str, limit: int = 5) -> list[str]:
        """The newest events about an object, as ``Reason: message``."""
        found = self._list(
            Event,
            namespace=namespace,
            resource="events",
            fields={"involvedObject.name": name},
        )

        def when(event: Any) -> str:
            stamp = event.lastTimestamp or event.eventTime or event.firstTimestamp
            return str(stamp or "")

        with self._reading("Event", f"{namespace}/{name}"):
            newest = sorted(found, key=when)[-limit:]
            return [
                clip(f"{e.reason or e.type}: {e.message or ''}".strip(), MAX_TEXT) for e in newest
            ]

    def crds(
        self, names: Iterable[str], *, cached: bool = False, raw: bool = False
    ) -> list[CrdState]:
        """Each CRD's state. ``cached``: from the API server's watch cache
        (``resourceVersion=0``, https://kubernetes.io/docs/reference/using-api/api-concepts/
        #semantics-for-get-and-list): about half the time of a read from etcd, at most a moment
        old; for the live read before a change, not for the verification after one. ``raw``:
        keep the whole object (for ``diff --live`` and ``status --raw``); otherwise only the
        fields the checks read are decoded, skipping the 0.1-0.5 MB of schema each CRD holds."""
        params = {"resourceVersion": "0"} if cached else {}
        states = []
        for name in names:

            def get(name: str = name) -> tuple[_CrdSummary, dict[str, Any]]:
                response = self._http.get(f"{_CRD_PATH}/{name}", params=params)
                if response.status_code >= 400:
                    raise ApiError(request=response.request, response=response)
                # msgspec (lightkube's JSON codec), typed: unknown fields are skipped unread.
                summary = msgspec.json.decode(response.content, type=_CrdSummary)
                whole = msgspec.json.decode(response.content) if raw else {}
                if not isinstance(whole, dict):
                    raise TypeError("not an object")
                return summary, whole

            found = self._call(
                get, verb="get", resource="customresourcedefinitions", allow_missing=True
            )
            if found is None:
                states.append(CrdState(name=name, exists=False))
                continue
            crd, whole = found
            versions = crd.spec.versions
            conditions = crd.status.conditions if crd.status is not None else None
            labels = crd.metadata.labels or {}
            states.append(
                CrdState(
                    name=name,
                    exists=True,
                    served_versions=[clip(v.name, 63) for v in versions if v.served],
                    storage_version=clip(next((v.name for v in versions if v.storage), ""), 63),
                    established=any(
                        c.type == "Established" and c.status == "True" for c in conditions or []
                    ),
                    version_label=clip(labels.get(CRD_VERSION_LABEL, ""), 63),
                    raw=whole,
                )
            )
        return states

    def databases(self, namespaces: Sequence[str] | None) -> list[DatabaseCluster]:
        """Every PerconaPGCluster in these namespaces (None: in all of them)."""
        found: list[Any] = []
        for namespace in namespaces if namespaces is not None else ["*"]:
            found += self._list(
                PerconaPGCluster,
                namespace=namespace,
                resource="perconapgclusters.pgv2.percona.com",
                allow_missing=True,
            )
        clusters = []
        for obj in found:
            meta = obj.metadata
            name = meta.name if meta else ""
            with self._reading(
                "PerconaPGCluster", f"{(meta.namespace if meta else '') or ''}/{name}"
            ):
                spec = obj.spec or {}
                status = obj.status or {}
                if not isinstance(spec, dict) or not isinstance(status, dict):
                    raise TypeError("spec or status is not an object")
                conditions = status.get("conditions") or []
                if not isinstance(conditions, list):
                    raise TypeError("status.conditions is not a list")
                clusters.append(
                    DatabaseCluster(
                        name=clip(name, 253),
                        namespace=clip(obj.metadata.namespace or "", 63),
                        cr_version=clip(spec.get("crVersion") or "", 63),
                        state=clip(status.get("state") or "unknown", 63),
                        conditions=[
                            _condition(
                                c.get("type"), c.get("status"), c.get("reason"), c.get("message")
                            )
                            for c in conditions
                            if isinstance(c, dict)
                        ],
                    )
                )
        return sorted(clusters, key=lambda c: (c.namespace, c.name))

    def _list(
        self,
        res: Any,
        *,
        namespace: str,
        resource: str,
        labels: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
        allow_missing: bool = False,
        page_size: int = PAGE_SIZE,
    ) -> list[Any]:
        def listed() -> list[Any]:
            items = list(
                itertools.islice(
                    self._client.list(
                        res,
                        namespace=namespace,
                        chunk_size=page_size,
                        labels=dict(labels) if labels is not None else None,
                        fields=dict(fields) if fields is not None else None,
                    ),
                    MAX_LIST_ITEMS + 1,
                )
            )
            if len(items) > MAX_LIST_ITEMS:
                raise ReadLimitExceeded(f"listed more than {MAX_LIST_ITEMS} {resource}")
            return items

        return self._call(
            listed,
            verb="list",
            resource=resource,
            namespace=None if namespace == "*" else namespace,
            missing=[],
            allow_missing=allow_missing,
        )


def clip(value: Any, limit: int = 1000) -> str:
    """Text from the cluster, bounded and with its control characters escaped before anything
    prints or stores it: cluster text is data, never a terminal's instructions."""
    text = escape_control(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(value: Any) -> int:
    """A replica count or generation: an integer (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {type(value).__name__}")
    return value


def _condition(kind: Any, status: Any, reason: Any, message: Any) -> dict[str, str]:
    return {
        "type": clip(kind or "", 100),
        "status": clip(status or "", 20),
        "reason": clip(reason or "", 200),
        "message": clip(message or "", MAX_TEXT),
    }


def read_cluster(
    client: ClusterClient,
    *,
    namespace: str,
    release: str,
    crd_names: Iterable[str],
    database_namespaces: Sequence[str] | None,
    raw_crds: bool = False,
) -> ClusterState:
    """Everything the preflight, ``status`` and ``diff --live`` look at, read once: the lists
    of what to read are given, never looked up from here (the running chart's other CRDs are
    read by ``read.inspect_cluster`` once it knows that chart)."""
    labels = client.namespace_labels(namespace)
    exists = labels is not None
    return ClusterState(
        server=client.server,
        server_version=client.server_version(),
        namespace_exists=exists,
        namespace_labels=labels or {},
        releases=client.helm_releases(namespace, release) if exists else [],
        deployment=client.operator_deployment(namespace, release) if exists else None,
        crds=client.crds(list(crd_names), cached=True, raw=raw_crds),
        databases=client.databases(database_namespaces),
    )
