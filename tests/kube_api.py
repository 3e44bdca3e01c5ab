"""A local stand-in for a Kubernetes API server, for the client logic (it is not the cluster).

It answers the paths the package's client uses — ``/version``, gets and paginated lists of core,
``apps``, ``apiextensions.k8s.io`` and ``pgv2.percona.com`` objects, label selectors — with the
API's JSON shapes (``XList`` with ``metadata.continue``, ``Status`` errors). Every object put in
is first checked: built-in kinds with ``kubernetes-validate`` (strict), PerconaPGClusters against
the real chart CRD's OpenAPI schema. Helm release Secrets are built from a real chart package
and encoded exactly as Helm's Secret driver stores them (``helm_release_secret``).

It speaks HTTPS with a certificate made for 127.0.0.1 (``tls_material``), as an API server does;
client-go, which Helm uses, will not send a bearer token over plain HTTP.

Faults for tests: ``forbid`` (403 for a resource), ``delay`` (a slow server), ``errors`` (status
codes to answer first), ``token`` (401 for any other bearer token). Only 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import gzip
import io
import ipaddress
import json
import ssl
import tarfile
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = kubernetes_validate.latest_version()
SERVER_VERSION = "v1.31.4"
TOKEN = "test-token"


# -- objects ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _validated_json(text: str) -> None:
    kubernetes_validate.validate(json.loads(text), KUBERNETES_VERSION, strict=True)


def validate(obj: dict[str, Any]) -> dict[str, Any]:
    """A valid Kubernetes object, or the test fails here (not in the code under test)."""
    _validated_json(json.dumps(obj, sort_keys=True))
    return obj


def namespace(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return validate(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {"kubernetes.io/metadata.name": name}},
        }
    )


def _chart_files(package: Path) -> dict[str, bytes]:
    with tarfile.open(package, mode="r:gz") as archive:
        return {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }


def helm_release_secret(
    package: Path,
    *,
    release: str,
    namespace: str,
    revision: int = 1,
    status: str = "deployed",
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A release record as Helm's Secret driver writes it, for a real chart package.

    The manifest is the chart rendered by a real Helm engine; the record is JSON in Helm's
    ``release.Release`` shape, gzipped (best compression), base64 — and base64 once more by the
    API, as Secret data.
    """
    import helm_python

    data = package.read_bytes()
    files = _chart_files(package)
    root = next(iter(files)).split("/")[0]
    metadata = yaml.safe_load(files[f"{root}/Chart.yaml"])
    rendered = helm_python.Chart.load_archive(data).render(
        values or {}, name=release, namespace=namespace, is_install=revision == 1
    )
    manifest = "".join(
        f"---\n# Source: {path}\n{text}\n"
        for path, text in sorted(rendered.items())
        if path.endswith(".yaml") and text.strip()
    )
    now = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC).isoformat()
    record = {
        "name": release,
        "info": {
            "first_deployed": now,
            "last_deployed": now,
            "deleted": "",
            "description": "Install complete" if revision == 1 else "Upgrade complete",
            "status": status,
        },
        "chart": {
            "metadata": metadata,
            "lock": None,
            "templates": [
                {"name": path.split("/", 1)[1], "data": base64.b64encode(body).decode()}
                for path, body in files.items()
                if "/templates/" in path
            ],
            "values": yaml.safe_load(files[f"{root}/values.yaml"]),
            "schema": None,
            "files": [],
        },
        "config": values or {},
        "manifest": manifest,
        "version": revision,
        "namespace": namespace,
    }
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9, mtime=0) as out:
        out.write(json.dumps(record).encode())
    helm_string = base64.b64encode(buffer.getvalue()).decode()
    return validate(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "helm.sh/release.v1",
            "metadata": {
                "name": f"sh.helm.release.v1.{release}.v{revision}",
                "namespace": namespace,
                "labels": {
                    "name": release,
                    "owner": "helm",
                    "status": status,
                    "version": str(revision),
                },
            },
            "data": {"release": base64.b64encode(helm_string.encode()).decode()},
        }
    )


def operator_deployment(
    package: Path, *, release: str, namespace: str, ready: int = 1
) -> dict[str, Any]:
    """The chart's own Deployment, rendered by Helm, with a status."""
    import helm_python

    rendered = helm_python.Chart.load_archive(package.read_bytes()).render(
        {}, name=release, namespace=namespace, is_install=True
    )
    docs = [
        d
        for path, text in rendered.items()
        if path.endswith(".yaml")
        for d in yaml.safe_load_all(text)
        if d
    ]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    replicas = deployment["spec"].get("replicas", 1)
    available = "True" if ready >= replicas else "False"
    deployment["status"] = {
        "replicas": replicas,
        "readyReplicas": ready,
        "updatedReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Available",
                "status": available,
                "reason": "MinimumReplicasAvailable"
                if available == "True"
                else "MinimumReplicasUnavailable",
                "message": f"Deployment has {ready} of {replicas} replicas available.",
                "lastTransitionTime": "2026-11-01T12:00:00Z",
                "lastUpdateTime": "2026-11-01T12:00:00Z",
            }
        ],
    }
    return validate(deployment)


def established_crd(crd: dict[str, Any]) -> dict[str, Any]:
    """A CRD as the API server shows it once it serves it (validated once per chart)."""
    crd = json.loads(json.dumps(crd))
    crd["status"] = {
        "acceptedNames": {
            "kind": crd["spec"]["names"]["kind"],
            "plural": crd["spec"]["names"]["plural"],
        },
        "conditions": [
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": "2026-11-01T12:00:00Z",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            }
        ],
        "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v["storage"]],
    }
    return validate(crd)


def percona_pg_cluster(
    crd: dict[str, Any],
    name: str,
    namespace: str,
    cr_version: str,
    state: str = "ready",
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A PerconaPGCluster, checked against the chart CRD's own OpenAPI schema."""
    obj = {
        "apiVersion": "pgv2.percona.com/v2",
        "kind": "PerconaPGCluster",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "crVersion": cr_version,
            "postgresVersion": 17,
            "instances": [
                {
                    "name": "instance1",
                    "replicas": 3,
                    "dataVolumeClaimSpec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                }
            ],
            "backups": {"pgbackrest": {"repos": [{"name": "repo1"}]}},
        },
        "status": {"state": state, **({"conditions": conditions} if conditions else {})},
    }
    _schema_validator(json.dumps(crd, sort_keys=True)).validate(obj)
    return obj


@functools.lru_cache(maxsize=8)
def _schema_validator(crd_json: str) -> Any:
    """The CRD's v2 OpenAPI schema, compiled once (it is large)."""
    crd = json.loads(crd_json)
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v2")
    schema = version["schema"]["openAPIV3Schema"]
    return jsonschema.validators.validator_for(schema)(schema)


# -- the server ---------------------------------------------------------------------------------


@dataclass
class KubeApi:
    url: str = ""
    version: str = SERVER_VERSION
    token: str = TOKEN
    # (api prefix, plural) -> objects, e.g. ("/api/v1", "secrets")
    objects: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # plurals that answer 403
    # What a CRD applied here reports as its Established condition (the real server: "True"
    # within a moment).
    establish: str = "True"
    delay: float = 0.0
    # status codes to answer, one per request, before answering normally again
    errors: list[int] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    # The Accept-Encoding each request asked for, in order.
    encodings: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # A hostile or broken server: for a request path, the raw answer (status, headers, body)
    # to send instead of the normal one, or None to answer normally.
    override: Callable[[str], tuple[int, dict[str, str], bytes] | None] | None = None

    def add(self, obj: dict[str, Any]) -> None:
        group_version = obj["apiVersion"]
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        plural = _PLURALS[obj["kind"]]
        self.objects.setdefault((prefix, plural), []).append(obj)

    def replace(self, obj: dict[str, Any]) -> None:
        """Put ``obj`` in place of the object of the same kind, namespace and name."""
        group_version = obj["apiVersion"]
        prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        items = self.objects.setdefault((prefix, _PLURALS[obj["kind"]]), [])
        meta = obj["metadata"]
        with self.lock:
            items[:] = [
                o
                for o in items
                if (o["metadata"]["name"], o["metadata"].get("namespace"))
                != (meta["name"], meta.get("namespace"))
            ]
            items.append(obj)

    def crd_installed(self, plural: str) -> bool:
        crds = self.objects.get(("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions"), [])
        return any(c["spec"]["names"]["plural"] == plural for c in crds)

    def kubeconfig(self) -> str:
        cluster: dict[str, Any] = {"server": self.url}
        if self.url.startswith("https://"):
            cluster["certificate-authority-data"] = base64.b64encode(tls_material()[0]).decode()
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": cluster}],
                "users": [{"name": "fake", "user": {"token": self.token}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
                "current-context": "fake",
            }
        )

    def count(self, fragment: str) -> int:
        return sum(1 for r in self.requests if fragment in r)


_PLURALS = {
    "Event": "events",
    "Namespace": "namespaces",
    "Secret": "secrets",
    "Deployment": "deployments",
    "CustomResourceDefinition": "customresourcedefinitions",
    "PerconaPGCluster": "perconapgclusters",
}


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _matches(obj: dict[str, Any], selector: str) -> bool:
    labels = obj.get("metadata", {}).get("labels") or {}
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


def _fields_match(obj: dict[str, Any], selector: str) -> bool:
    """Field selectors on dotted paths, equality only (e.g. involvedObject.name=x)."""
    for term in filter(None, selector.split(",")):
        path, _, value = term.partition("=")
        node: Any = obj
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if str(node) != value:
            return False
    return True


def event(
    namespace: str, kind: str, name: str, reason: str, message: str, at: str
) -> dict[str, Any]:
    return validate(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{name}.{abs(hash((reason, at))) % 10**8}",
                "namespace": namespace,
            },
            "involvedObject": {"kind": kind, "name": name, "namespace": namespace},
            "reason": reason,
            "message": message,
            "type": "Warning",
            "lastTimestamp": at,
            "firstTimestamp": at,
            "count": 1,
            "source": {"component": "test"},
        }
    )


def _handler(api: KubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Connections kept alive between requests, as a real API server keeps them (HTTP/1.0,
        # the default here, would make every request a new TLS handshake).
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold each answer back 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *_: Any) -> None:
            pass

        def reply(self, code: int, body: dict[str, Any] | str) -> None:
            text = isinstance(body, str)
            data = body.encode() if text else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with api.lock:
                api.requests.append(self.path)
                api.encodings.append(self.headers.get("Accept-Encoding") or "")
            if api.delay:
                time.sleep(api.delay)
            with api.lock:
                error = api.errors.pop(0) if api.errors else None
            if error is not None:
                self.reply(error, _status(error, "ServiceUnavailable", "try again"))
                return
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                self.reply(401, _status(401, "Unauthorized", "Unauthorized"))
                return
            raw = api.override(self.path) if api.override is not None else None
            if raw is not None:
                code, headers, body = raw
                self.send_response(code)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                return
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/version":
                major, minor = api.version.lstrip("v").split(".")[:2]
                self.reply(200, {"major": major, "minor": minor, "gitVersion": api.version})
                return
            self.resource(url.path, query)

        def do_PATCH(self) -> None:
            """Server-side apply of a CRD (``application/apply-patch+yaml``), as far as the CRD
            set needs: the body replaces the object, ``metadata.generation`` rises when the spec
            changes, the uid stays, each field manager that applied is listed, and an apply of
            no fields drops its manager."""
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            with api.lock:
                api.requests.append(f"PATCH {self.path}")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            if self.headers.get("Authorization") != f"Bearer {api.token}":
                self.reply(401, _status(401, "Unauthorized", "Unauthorized"))
                return
            plural = "customresourcedefinitions"
            if plural in api.forbidden:
                message = f'{plural} is forbidden: User "test" cannot patch resource "{plural}"'
                self.reply(403, _status(403, "Forbidden", message))
                return
            assert self.headers.get("Content-Type") == "application/apply-patch+yaml"
            name = url.path.rstrip("/").rsplit("/", 1)[-1]
            manager = query["fieldManager"]
            items = api.objects.setdefault(("/apis/apiextensions.k8s.io/v1", plural), [])
            with api.lock:
                old = next((o for o in items if o["metadata"]["name"] == name), None)
                managers = [m for m in (old or {}).get("metadata", {}).get("managedFields", [])]
                managers = [m for m in managers if m["manager"] != manager]
                if set(body) - {"apiVersion", "kind"} != {"metadata"}:  # fields of its own
                    managers.append({"manager": manager, "operation": "Apply"})
                if set(body) == {"apiVersion", "kind", "metadata"} and old is not None:
                    new = {**old, "metadata": {**old["metadata"], "managedFields": managers}}
                else:
                    meta = dict(old["metadata"]) if old is not None else {}
                    generation = meta.get("generation", 0)
                    if old is None or old.get("spec") != body.get("spec"):
                        generation += 1
                    new = {
                        **body,
                        "metadata": {
                            **body["metadata"],
                            "uid": meta.get("uid") or f"uid-{name}-{time.monotonic_ns()}",
                            "generation": generation,
                            "managedFields": managers,
                        },
                        "status": {
                            "conditions": [{"type": "Established", "status": api.establish}]
                        },
                    }
                items[:] = [o for o in items if o["metadata"]["name"] != name] + [new]
            self.reply(200, new)

        def resource(self, path: str, query: dict[str, str]) -> None:
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "v1"]:
                prefix, rest = "/api/v1", parts[2:]
            elif parts[0] == "apis" and len(parts) >= 3:
                prefix, rest = f"/apis/{parts[1]}/{parts[2]}", parts[3:]
            else:
                self.reply(404, _status(404, "NotFound", "the server could not find it"))
                return
            namespace = None
            if len(rest) >= 3 and rest[0] == "namespaces":
                namespace, rest = rest[1], rest[2:]
            plural, name = rest[0], (rest[1] if len(rest) > 1 else None)
            if plural in api.forbidden:
                where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
                self.reply(
                    403,
                    _status(
                        403,
                        "Forbidden",
                        f'{plural} is forbidden: User "test" cannot list resource '
                        f'"{plural}"{where}',
                    ),
                )
                return
            served = plural in _PLURALS.values() and (
                prefix != "/apis/pgv2.percona.com/v2" or api.crd_installed(plural)
            )
            if not served and prefix == "/apis/pgv2.percona.com/v2":
                # A group no CRD serves: the real API server's mux answers in plain text.
                self.reply(404, "404 page not found\n")
                return
            if not served:  # an unknown resource of a group the server has
                self.reply(404, _status(404, "NotFound", "the server could not find it"))
                return
            items = [
                o
                for o in api.objects.get((prefix, plural), [])
                if namespace is None or o["metadata"].get("namespace") == namespace
            ]
            if name is not None:
                found = [o for o in items if o["metadata"]["name"] == name]
                if found:
                    self.reply(200, found[0])
                else:
                    self.reply(404, _status(404, "NotFound", f'{plural} "{name}" not found'))
                return
            items = [o for o in items if _matches(o, query.get("labelSelector", ""))]
            items = [o for o in items if _fields_match(o, query.get("fieldSelector", ""))]
            start = int(query.get("continue") or 0)
            limit = int(query.get("limit") or 0) or len(items) or 1
            page = items[start : start + limit]
            more = start + limit < len(items)
            kind = next((o["kind"] for o in items), plural.capitalize())
            self.reply(
                200,
                {
                    "apiVersion": prefix.removeprefix("/api/").removeprefix("/apis/"),
                    "kind": f"{kind}List",
                    "metadata": {
                        "resourceVersion": "1",
                        **({"continue": str(start + limit)} if more else {}),
                    },
                    "items": page,
                },
            )

    return Handler


@functools.lru_cache(maxsize=1)
def tls_material() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1 (PEM) and its key, made once per session."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-api-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


def _tls_context() -> ssl.SSLContext:
    cert, key = tls_material()
    folder = Path(tempfile.mkdtemp(prefix="kube-api-tls-"))
    (folder / "cert.pem").write_bytes(cert)
    (folder / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (as the bounded reads do on purpose) is no error
        of the server's."""


@contextmanager
def serve(api: KubeApi | None = None, tls: bool = True) -> Iterator[KubeApi]:
    api = api or KubeApi()
    httpd = _QuietServer(("127.0.0.1", 0), _handler(api))
    scheme = "https" if tls else "http"
    if tls:
        httpd.socket = _tls_context().wrap_socket(httpd.socket, server_side=True)
    api.url = f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- cached builders (CRD validation and Helm renders are slow; tests share them) ---------------


@functools.lru_cache(maxsize=8)
def chart_crds(package: Path) -> tuple[dict[str, Any], ...]:
    """The chart's CRDs as the API server would serve them once established."""
    from percona_pg_operator.chart import ChartPackage, load_managed_crds

    name, version = package.name.removesuffix(".tgz").rsplit("-", 1)
    handle = ChartPackage(name, version, version, "", package, "")
    return tuple(established_crd(c) for c in load_managed_crds(handle).chart_objects())


def cluster_crd(package: Path) -> dict[str, Any]:
    return next(
        c
        for c in chart_crds(package)
        if c["metadata"]["name"] == "perconapgclusters.pgv2.percona.com"
    )


@functools.lru_cache(maxsize=64)
def cached_release_secret(
    package: Path, release: str, namespace: str, revision: int, status: str
) -> str:
    return json.dumps(
        helm_release_secret(
            package, release=release, namespace=namespace, revision=revision, status=status
        )
    )


def release_secret(
    package: Path, release: str, namespace: str, revision: int = 1, status: str = "deployed"
) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(
        cached_release_secret(package, release, namespace, revision, status)
    )
    return obj


@functools.lru_cache(maxsize=32)
def cached_deployment(package: Path, release: str, namespace: str, ready: int) -> str:
    return json.dumps(
        operator_deployment(package, release=release, namespace=namespace, ready=ready)
    )


def deployment(package: Path, release: str, namespace: str, ready: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(cached_deployment(package, release, namespace, ready))
    return obj


def install(
    api: KubeApi,
    package: Path,
    *,
    release: str,
    namespace: str,
    revisions: tuple[str, ...] = ("deployed",),
    ready: int = 1,
) -> None:
    """What `helm install` (then upgrades) of a real chart leaves: records, operator, CRDs."""
    for number, status in enumerate(revisions, start=1):
        api.add(release_secret(package, release, namespace, number, status))
    api.add(deployment(package, release, namespace, ready))
    for crd in chart_crds(package):
        api.add(crd)


def migration_condition(status: str, reason: str, message: str) -> dict[str, Any]:
    """The operator's APIGroupMigration condition (a metav1.Condition)."""
    return {
        "type": "APIGroupMigration",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": "2026-11-01T12:00:00Z",
        "observedGeneration": 1,
    }
